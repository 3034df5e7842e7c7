"""``pyvela convert`` over every KubeVela YAML app of the test suite: each converted module
loads, holds no TODO, and renders the objects the YAML renders; where the YAML's data flow
computes outputs or sets properties from inputs, the converted app deploys the same objects."""

from __future__ import annotations

import ast
import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela import load_app
from pyvela._app.loader import LoadedApp
from pyvela._app.render import render_component
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from pyvela.errors import PyvelaError
from tests.conftest import ROOT
from tests.runner_helpers import ops_for, sandbox

#: The catalogues the suite's YAML apps are written against (the first that loads one is its).
CATALOGUES: tuple[list[str], ...] = (
    ["platform_defs"],
    ["platform_defs", "tests.sample_defs"],
    ["tests.multicluster_defs"],
    ["tests.guardrail_defs"],
)


def _is_app(text: str) -> bool:
    return "kind: Application" in text and "core.oam.dev/v1beta1" in text


def _fixtures() -> dict[str, str]:
    """Every Application the tests write: module constants (some built by concatenation),
    string literals in test bodies, and the YAML files."""
    found: dict[str, str] = {}
    for file in sorted((ROOT / "tests").rglob("*.py")):
        source = file.read_text()
        if "kind: Application" not in source or file.name == Path(__file__).name:
            continue
        rel = file.relative_to(ROOT)
        module = importlib.import_module(".".join(rel.with_suffix("").parts))
        for name, value in vars(module).items():
            if isinstance(value, str) and _is_app(value):
                found.setdefault(textwrap.dedent(value).lstrip(), f"{rel}:{name}")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_app(node.value):
                found.setdefault(textwrap.dedent(node.value).lstrip(), f"{rel}:{node.lineno}")
    for file in sorted((ROOT / "tests").rglob("*.yaml")):
        text = file.read_text()
        if _is_app(text):
            found.setdefault(text, str(file.relative_to(ROOT)))
    return {label: text for text, label in found.items()}


FIXTURES = _fixtures()


def _load_yaml(path: Path) -> tuple[LoadedApp, list[str]] | None:
    """The app and its catalogue; None for a fixture that is an error case (no catalogue loads it)."""
    for defs in CATALOGUES:
        try:
            return load_app(path, defs=defs), defs
        except PyvelaError:
            continue
    return None


def _rendered(loaded: LoadedApp) -> list[dict[str, Any]]:
    return [
        o.object
        for use in loaded.app.components
        for o in render_component(loaded.app, use, revision=loaded.revision).objects
    ]


@pytest.fixture
def converted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Converts a YAML text; gives (the YAML app, the Python app, its module's text, catalogue)."""
    added: list[str] = []

    def convert(text: str) -> tuple[LoadedApp, LoadedApp, str, list[str]] | None:
        src = tmp_path / "app.yaml"
        src.write_text(text)
        found = _load_yaml(src)
        if found is None:
            return None
        from_yaml, defs = found
        out = tmp_path / "out"
        code = main(["convert", str(src), "-o", str(out), *(a for d in defs for a in ("--defs", d))])
        err = capsys.readouterr().err
        assert code == 0, err
        module = next(p for p in out.glob("*.py") if p.name != "kubevela_defs.py")
        sys.path.insert(0, str(out))
        added.append(str(out))
        own = ["kubevela_defs"] if (out / "kubevela_defs.py").exists() else []
        return from_yaml, load_app(module, defs=own + defs), module.read_text(), own + defs

    yield convert
    for folder in added:
        sys.path.remove(folder)
    sys.modules.pop("kubevela_defs", None)


def test_the_suite_has_the_yaml_apps_this_test_converts() -> None:
    # So a change in how fixtures are found cannot make the round trip below vacuous.
    assert len(FIXTURES) >= 40
    assert any("parameterKey: properties.image" in t for t in FIXTURES.values())
    assert any("valueFrom: 'outputs.clusterIP" in t for t in FIXTURES.values())


@pytest.mark.parametrize("label", sorted(FIXTURES))
def test_each_yaml_app_converts_to_a_module_that_renders_the_same(label: str, converted: Any) -> None:
    result = converted(FIXTURES[label])
    if result is None:
        pytest.skip("an error fixture: no catalogue loads it")
    from_yaml, from_python, text, _defs = result
    assert "TODO" not in text, text
    assert _rendered(from_python) == _rendered(from_yaml)
    steps = from_yaml.app.workflow.steps if from_yaml.app.workflow else []
    assert [s.name for s in (from_python.app.workflow.steps if from_python.app.workflow else [])] == [
        s.name for s in steps
    ]


DATA_FLOW = [
    "tests/app/kubevela/test_component_io.py:STEP_INPUTS",
    "tests/app/kubevela/test_convert.py:IO_APP",
    "tests/cli/test_diff_yaml_inputs.py:STEP_IO",
]


@pytest.mark.parametrize("label", DATA_FLOW)
def test_the_converted_data_flow_deploys_what_the_yaml_deploys(
    label: str, converted: Any, tmp_path: Path
) -> None:
    result = converted(FIXTURES[label])
    assert result is not None
    from_yaml, from_python, text, defs = result
    assert "kubevela_step(" in text
    live = []
    for n, app in enumerate((from_yaml, from_python)):
        box = sandbox(tmp_path / f"sb{n}")
        outcome = ops_for(app.path, box, defs=defs).deploy()
        assert outcome.ok, outcome.steps
        objects = {}
        for c in app.app.components:
            ref = ObjectRef("apps/v1", "Deployment", app.app.namespace, c.name)
            found = box.get(ref)
            if found is not None:
                objects[c.name] = found["spec"]["template"]["spec"]
        live.append(objects)
    assert live[0] == live[1] and live[0]
