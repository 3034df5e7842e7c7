"""Typing: mypy --strict and pyright complete and check definition call sites in apps."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SNIPPETS = sorted((ROOT / "tests" / "typing").glob("*.py"))
pytestmark = [
    pytest.mark.typing,
    pytest.mark.parametrize("snippet", SNIPPETS, ids=[p.stem for p in SNIPPETS]),
]


def _expected(snippet: Path) -> dict[int, str]:
    out = {}
    for number, line in enumerate(snippet.read_text().splitlines(), start=1):
        match = None if line.startswith("#") else re.search(r"# E: (\S+)", line)
        if match:
            out[number] = match.group(1)
    return out


def _lines_with_errors(output: str, pattern: str) -> set[int]:
    return {int(m.group(1)) for m in re.finditer(pattern, output)}


def test_mypy_strict_flags_exactly_the_bad_call_sites(snippet: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--show-error-codes",
            str(snippet.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = _lines_with_errors(run.stdout, rf"{snippet.name}:(\d+): error")
    assert lines == set(_expected(snippet)), run.stdout
    if snippet.stem == "call_sites":
        assert 'Unexpected keyword argument "imag"' in run.stdout


def test_pyright_strict_flags_exactly_the_bad_call_sites(snippet: Path) -> None:
    beside = Path(sys.executable).parent / "pyright"  # the test environment's, even if not on PATH
    exe = str(beside) if beside.exists() else shutil.which("pyright")
    if exe is None:
        pytest.fail("pyright is not installed: pip install -e '.[test]'")
    run = subprocess.run([exe, str(snippet.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True)
    lines = _lines_with_errors(run.stdout, rf"{snippet.name}:(\d+):\d+ - error")
    assert lines == set(_expected(snippet)), run.stdout
