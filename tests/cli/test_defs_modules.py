"""`pyvela defs --defs MODULE`: found where `python -m pyvela` finds it, and a missing one is
reported without a location inside importlib."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyvela._cli.main import main

MODULE = '''
import attrs
from pyvela import ComponentContext, Obj, WorkloadType, component


@attrs.frozen(kw_only=True)
class P:
    image: str


@component(name="cwd-widget", params=P, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def cwd_widget(p: P, ctx: ComponentContext) -> Obj:
    """A ConfigMap."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ctx.name}}
'''


def test_the_console_script_finds_a_definitions_module_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cwd_defs_mod.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    # the `pyvela` console script's sys.path: its bin directory, never the working directory
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "cwd_defs_mod", raising=False)
    assert main(["defs", "--defs", "cwd_defs_mod", "cwd-widget"]) == 0, capsys.readouterr().err
    assert "cwd-widget" in capsys.readouterr().out


def test_a_missing_definitions_module_is_not_located_in_importlib(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["defs", "--defs", "no_such_defs_module_4711"]) == 1
    err = capsys.readouterr().err
    assert "cannot import definitions module 'no_such_defs_module_4711'" in err
    assert "importlib" not in err, err
