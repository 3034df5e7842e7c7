"""Typing: mypy --strict and pyright complete and check definition call sites in apps."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SNIPPET = ROOT / "tests" / "typing" / "call_sites.py"
pytestmark = pytest.mark.typing


def _expected() -> dict[int, str]:
    out = {}
    for number, line in enumerate(SNIPPET.read_text().splitlines(), start=1):
        match = None if line.startswith("#") else re.search(r"# E: (\S+)", line)
        if match:
            out[number] = match.group(1)
    return out


def _lines_with_errors(output: str, pattern: str) -> set[int]:
    return {int(m.group(1)) for m in re.finditer(pattern, output)}


def test_mypy_strict_flags_exactly_the_bad_call_sites() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--show-error-codes",
            str(SNIPPET.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = _lines_with_errors(run.stdout, r"call_sites\.py:(\d+): error")
    assert lines == set(_expected()), run.stdout
    assert 'Unexpected keyword argument "imag"' in run.stdout


def test_pyright_strict_flags_exactly_the_bad_call_sites() -> None:
    exe = shutil.which("pyright")
    if exe is None:
        pytest.fail("pyright is not installed: pip install -e '.[test]'")
    run = subprocess.run([exe, str(SNIPPET.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True)
    lines = _lines_with_errors(run.stdout, r"call_sites\.py:(\d+):\d+ - error")
    assert lines == set(_expected()), run.stdout
