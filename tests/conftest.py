"""Shared fixtures: a private sandbox per test, and helpers to write app files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The real control plane (`kube_cluster`, session scope) for tests/e2e and tests/contract.
pytest_plugins = ["kube_cluster"]


@pytest.fixture
def write_app(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write an app module (dedented) into tmp_path and return its path."""

    def write(source: str, name: str = "app.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source).lstrip())
        return path

    return write


@pytest.fixture
def sandbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh sandbox directory, also the default for the CLI in this test."""
    root = tmp_path / "sandbox"
    monkeypatch.setenv("PYVELA_SANDBOX", str(root))
    monkeypatch.delenv("PYVELA_APOLLO_PORTAL_URL", raising=False)
    return root
