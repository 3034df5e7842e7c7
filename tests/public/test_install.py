"""The README's install (`pip install -e .`) makes pyvela and platform_defs visible to type checkers
from any directory, not only from the checkout (import-hook editables are invisible to them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.typing

APP = """\
# pyright: strict
from platform_defs import base_service
from pyvela import Application

app = Application("outside", components=[base_service("web", image="nginx:1", cluster="c")])
bad = base_service("web", image=1, cluster="c")
"""


def _outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "myapp.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    return tmp_path, env


def test_the_install_is_editable_or_a_wheel() -> None:
    dist = metadata.distribution("pyvela")
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        # An editable install must be a plain path entry, which both checkers follow.
        pth = [f for f in dist.files or [] if str(f).endswith(".pth")]
        assert pth, "editable install without a .pth path entry: type checkers cannot see pyvela"


def test_mypy_resolves_pyvela_and_platform_defs_from_another_directory(tmp_path: Path) -> None:
    cwd, env = _outside(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "myapp.py"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "import-untyped" not in run.stdout and "import-not-found" not in run.stdout, run.stdout
    assert run.stdout.count("error:") == 1 and 'Argument "image"' in run.stdout, run.stdout


def test_pyright_resolves_pyvela_and_platform_defs_from_another_directory(tmp_path: Path) -> None:
    exe = shutil.which("pyright") or str(Path(sys.executable).parent / "pyright")
    cwd, env = _outside(tmp_path)
    run = subprocess.run(
        [exe, "--pythonpath", sys.executable, "myapp.py"], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert "reportMissingImports" not in run.stdout and "reportMissingTypeStubs" not in run.stdout, run.stdout
    assert "1 error" in run.stdout and '"image"' in run.stdout, run.stdout
