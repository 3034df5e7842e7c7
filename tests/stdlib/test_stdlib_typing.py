"""Typing: mypy --strict and pyright complete and check call sites of the standard library."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = Path(__file__).with_name("stdlib_call_sites.py")
pytestmark = pytest.mark.typing


def _expected() -> set[int]:
    lines = SNIPPET.read_text().splitlines()
    return {n for n, line in enumerate(lines, start=1) if not line.startswith("#") and "# E: " in line}


def test_mypy_strict_flags_exactly_the_bad_call_sites() -> None:
    cmd = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(SNIPPET.relative_to(ROOT))]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    found = {int(m.group(1)) for m in re.finditer(r"stdlib_call_sites\.py:(\d+): error", run.stdout)}
    assert found == _expected(), run.stdout


def test_pyright_strict_flags_exactly_the_bad_call_sites() -> None:
    exe = shutil.which("pyright")
    if exe is None:
        pytest.fail("pyright is not installed: pip install -e '.[test]'")
    run = subprocess.run([exe, str(SNIPPET.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True)
    found = {int(m.group(1)) for m in re.finditer(r"stdlib_call_sites\.py:(\d+):\d+ - error", run.stdout)}
    assert found == _expected(), run.stdout


def test_the_standard_library_itself_is_clean_under_pyright_strict(tmp_path: Path) -> None:
    exe = shutil.which("pyright")
    if exe is None:
        pytest.fail("pyright is not installed: pip install -e '.[test]'")
    config = tmp_path / "pyrightconfig.json"
    config.write_text('{"typeCheckingMode": "strict", "pythonVersion": "3.11"}')
    files = sorted(str(p) for p in (ROOT / "pyvela" / "stdlib").glob("*.py"))
    run = subprocess.run([exe, "-p", str(config), *files], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
