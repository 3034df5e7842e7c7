"""Helpers for the KubeVela YAML tests: write a YAML app, load it, catch its one error."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHARED_SEED = ROOT.parent / "shared" / "seed" / "kubevela"
SEED_APP = ROOT / "tests" / "seed" / "application.yaml"
#: The seed's copy inside the repo (the shared directory may be absent elsewhere).
SEED_DEFS = ROOT / "tests" / "seed" / "component-definitions.yaml"
DEFS = ["platform_defs", "tests.sample_defs"]

WriteYaml = Callable[..., Path]


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """Write a YAML file (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "app.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write


def line_of(path: Path, needle: str, nth: int = 0) -> int:
    """The 1-based line of the ``nth`` line of ``path`` holding ``needle``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return hits[nth]
