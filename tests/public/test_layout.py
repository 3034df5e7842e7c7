"""The layout promises: one package per layer, layers enforced, small modules, docs that match."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "pyvela"
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
LAYERS = ("_core", "_app", "_workflow", "_backends", "_configcentre", "_ui", "_controller", "_cli")


def test_no_module_is_over_400_lines() -> None:
    big = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not big, f"split these along their seams: {big}"


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_says_what_it_may_import(layer: str) -> None:
    init = PACKAGE / layer / "__init__.py"
    doc = init.read_text()
    assert doc.startswith('"""'), f"{init} needs a docstring saying what the layer does"
    assert "import" in doc.split('"""')[1], f"{init}'s docstring must say what the layer may import"
    # A layer's __init__ stays empty of code so `pyvela --help` imports nothing heavy.
    code = doc.split('"""', 2)[2].strip()
    assert not code, f"{init} should hold only its docstring"


def test_architecture_doc_matches_the_tree() -> None:
    packages = sorted(
        str(p.parent.relative_to(ROOT)) + "/"
        for p in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in p.parts and p.parent != PACKAGE
    )
    missing = [p for p in packages if p not in ARCHITECTURE and p.removeprefix("pyvela/") not in ARCHITECTURE]
    assert not missing, f"docs/architecture.md does not name {missing}"
    for ref in set(re.findall(r"`(pyvela/[\w/.]+)`", ARCHITECTURE)):
        assert (ROOT / ref).exists(), f"docs/architecture.md names {ref}, which does not exist"
    for layer in LAYERS:
        for module in (PACKAGE / layer).glob("*.py"):
            if module.stem != "__init__":
                assert f"`{module.stem}`" in ARCHITECTURE, f"docs/architecture.md does not list {module}"


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed")
def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint) if lint.exists() else "lint-imports"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
