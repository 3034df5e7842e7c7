"""The standard library in the catalogue: there when used, overridden by a team's own names."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pyvela.stdlib as stdlib
from pyvela._app.catalogue import Catalogue
from pyvela._app.loader import load_app
from pyvela.testing import render
from tests.conftest import ROOT

TEAM = '''
import attrs
from pyvela import ComponentContext, Obj, WorkloadType, component


@attrs.frozen(kw_only=True)
class Params:
    image: str


@component(name="webservice", params=Params, workload=WorkloadType(api_version="apps/v1", kind="Deployment"))
def webservice(p: Params, ctx: ComponentContext) -> Obj:
    """The team's own webservice."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ctx.name}, "spec": {}}
'''


def test_the_standard_library_is_there_for_apps_that_use_it(tmp_path: Path) -> None:
    app = tmp_path / "web.py"
    app.write_text(
        textwrap.dedent(
            """\
            from pyvela import Application
            from pyvela.stdlib import scaler, webservice

            web = webservice("web", image="nginx:1.27").with_traits(scaler(replicas=3))
            app = Application("web", components=[web])
            """
        )
    )
    objs = render(app)
    [deployment] = [o for o in objs if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 3


def test_a_team_definition_replaces_the_standard_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "team_defs.py").write_text(TEAM)
    monkeypatch.syspath_prepend(str(tmp_path))
    catalogue = Catalogue.from_modules(["team_defs"], stdlib=True)
    mine = catalogue.get("component", "webservice")
    assert mine is not None and mine is not stdlib.webservice
    assert mine.description == "The team's own webservice."
    assert catalogue.get("trait", "scaler") is stdlib.scaler  # the rest of the library stays


def test_an_app_that_uses_no_standard_definition_does_not_get_the_library() -> None:
    loaded = load_app(ROOT / "apps" / "lixiang.py")
    assert loaded.catalogue.get("component", "webservice") is None  # whatever this process imported


def test_without_the_standard_library_nothing_of_it_is_in_the_catalogue() -> None:
    catalogue = Catalogue.from_modules(["platform_defs"], stdlib=False)
    assert catalogue.get("component", "webservice") is None
    assert catalogue.get("component", "base-service") is not None


def test_defs_lists_the_standard_library() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pyvela", "defs"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for name in ("webservice", "cron-task", "gateway", "scaler", "base-service"):
        assert f" {name} " in out, out
