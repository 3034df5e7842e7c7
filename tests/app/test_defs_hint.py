"""A definition that is not in the catalogue says which --defs would hold it: in a project
made by `pyvela new platform acme`, `pyvela render apps/hello.py` without `--defs acme`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import UnknownDefinitionError
from tests.conftest import ROOT

COMPONENT = """
import attrs
from pyvela import ComponentContext, Obj, WorkloadType, component


@attrs.frozen(kw_only=True)
class P:
    image: str


@component(name="hint-widget", params=P, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def hint_widget(p: P, ctx: ComponentContext) -> Obj:
    \"\"\"A ConfigMap.\"\"\"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ctx.name}}
"""

APP = """
from pyvela import Application
from hintpkg_acme.components import hint_widget

app = Application("hello", components=[hint_widget("web", image="x:1")])
"""


def test_the_fix_names_the_package_to_give_to_defs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hintpkg_acme").mkdir()
    (tmp_path / "hintpkg_acme" / "__init__.py").write_text("")
    (tmp_path / "hintpkg_acme" / "components.py").write_text(textwrap.dedent(COMPONENT))
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(ROOT))
    for name in ("hintpkg_acme", "hintpkg_acme.components"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(UnknownDefinitionError) as caught:
        load_app("app.py", defs=["platform_defs"])
    assert caught.value.fix == "add its package to the catalogue: --defs hintpkg_acme (or PYVELA_DEFS)"
