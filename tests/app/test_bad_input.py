"""Bad input caught at load: one clear pyvela error with the real file:line, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._app.render import render_component
from pyvela._core.template import yaml_template
from pyvela.errors import AppError, AppLoadError, DefinitionError, RenderError
from pyvela.testing import assert_golden
from tests.conftest import ROOT

HEADER = (
    "from platform_defs import apply_base, base_service\n"
    "from pyvela import Application, StepGroup, Workflow\n"
)


def _app(tmp_path: Path, body: str, name: str = "x.py") -> Path:
    """Write apps/<name> under tmp_path and return its path relative to tmp_path (the cwd)."""
    apps = tmp_path / "apps"
    apps.mkdir(exist_ok=True)
    (apps / name).write_text(HEADER + textwrap.dedent(body).lstrip())
    return Path("apps") / name


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    return tmp_path


def _at(error: Exception) -> tuple[Path, int]:
    """The error's file (resolved: app locations may be absolute or as given) and line."""
    where = getattr(error, "where", None)
    assert where is not None, error
    return Path(where.file).resolve(), where.line


def _defs_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> str:
    name = f"baddefs_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


# HEADER is two lines: the app's own code starts on line 3.
@pytest.mark.parametrize(
    ("body", "line", "text"),
    [
        ("x = 1\n\nraise RuntimeError('boom')\n", 5, "RuntimeError: boom"),
        ("x = (\n\n\ny y\n", 3, "SyntaxError"),
        ("import os\n\nimport no_such_module_here\n", 5, "No module named 'no_such_module_here'"),
        (
            'b = base_service("b", image="x", cluster="c")\n\napp = Application(\n    "a",\n'
            "    components=[b],\n    bogus=1,\n)\n",
            5,
            "unexpected keyword argument 'bogus'",
        ),
    ],
    ids=["runtime", "syntax", "import", "unknown-argument"],
)
def test_import_errors_give_the_real_line_for_a_relative_path(
    in_tmp: Path, body: str, line: int, text: str
) -> None:
    path = _app(in_tmp, body)
    with pytest.raises(AppLoadError, match=text) as info:
        load_app(path)
    assert _at(info.value)[0] == path.resolve()
    assert _at(info.value) == (path.resolve(), line)


@pytest.mark.parametrize("code", ["0", "'done'", "None"])
def test_sys_exit_at_import_is_an_app_error(in_tmp: Path, code: str) -> None:
    path = _app(in_tmp, f"import sys\nsys.exit({code})\n")
    with pytest.raises(AppLoadError, match=r"called sys\.exit") as info:
        load_app(path)
    assert info.value.where is not None and info.value.where.line == 4


def test_a_directory_is_not_an_app_file(in_tmp: Path) -> None:
    _app(in_tmp, "app = 1\n", name="one.py")
    with pytest.raises(AppLoadError, match="is a directory") as info:
        load_app("apps")
    assert "one.py" in str(info.value)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ('app = Application("a", components=["web"])\n', "components must be made by calling"),
        (
            'b = base_service("b", image="x", cluster="c")\n'
            'app = Application("a", components=[b], workflow=[b])\n',
            "a workflow holds steps and step groups only",
        ),
        ("app = Application(123, components=[])\n", "name must be a str"),
    ],
    ids=["string-component", "component-in-workflow", "numeric-name"],
)
def test_wrong_value_types_are_one_app_error(in_tmp: Path, body: str, text: str) -> None:
    path = _app(in_tmp, body)
    with pytest.raises(AppError, match=text) as info:
        load_app(path)
    assert _at(info.value)[0] == path.resolve()


@pytest.mark.parametrize(
    "bad", ["Web", "my_app", "a" * 64, "wéb", "../..", "-web", "web-", "we.b"], ids=lambda s: s[:10]
)
def test_names_kubernetes_rejects_fail_at_load(in_tmp: Path, bad: str) -> None:
    component = _app(
        in_tmp,
        f'b = base_service({bad!r}, image="x", cluster="c")\n\napp = Application("a", components=[b])\n',
        name="component.py",
    )
    with pytest.raises(AppError, match="not a valid Kubernetes name") as info:
        load_app(component)
    assert _at(info.value) == (component.resolve(), 3)
    assert info.value.context["component"] == bad
    application = _app(
        in_tmp,
        f'b = base_service("b", image="x", cluster="c")\napp = Application({bad!r}, components=[b])\n',
        name="application.py",
    )
    with pytest.raises(AppError, match="application name") as info:
        load_app(application)
    assert info.value.where is not None and info.value.where.line == 4


@pytest.mark.parametrize(
    "body",
    [
        's = apply_base("s", component="b").with_timeout(0)\n'
        'app = Application("a", components=[b], workflow=[s])\n',
        's = apply_base("s", component="b").with_timeout(-5)\n'
        'app = Application("a", components=[b], workflow=[s])\n',
        's = apply_base("s", component="b")\n'
        'app = Application("a", components=[b], workflow=Workflow(steps=[s], step_timeout=0))\n',
        's = apply_base("s", component="b")\n'
        'g = StepGroup(name="g", steps=(s,), timeout=-1)\n'
        'app = Application("a", components=[b], workflow=[g])\n',
        's = apply_base("s", component="b").with_timeout(float("inf"))\n'
        'app = Application("a", components=[b], workflow=[s])\n',
    ],
    ids=["zero", "negative", "workflow-default", "group", "infinite"],
)
def test_timeouts_must_be_positive_and_finite(in_tmp: Path, body: str) -> None:
    path = _app(in_tmp, 'b = base_service("b", image="x", cluster="c")\n' + body)
    with pytest.raises(AppError, match="must be a positive number of seconds") as info:
        load_app(path)
    assert _at(info.value)[0] == path.resolve()


@pytest.mark.parametrize("kind", ["raise", "syntax", "exit"])
def test_a_broken_definitions_module_is_one_definition_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    source = {
        "raise": "x = 1\nraise ValueError('bad defs')\n",
        "syntax": "x = 1\ndef (:\n",
        "exit": "import sys\nsys.exit(3)\n",
    }[kind]
    defs = _defs_module(tmp_path, monkeypatch, source)
    with pytest.raises(DefinitionError, match=f"definitions module {defs!r}") as info:
        load_app(ROOT / "apps" / "lixiang.py", defs=["platform_defs", defs])
    assert info.value.where is not None
    assert info.value.where.file.endswith(f"{defs}.py") and info.value.where.line == 2


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"spec": {"template": "oops"}}, "spec.template"),
        ({"spec": {"template": {"spec": {"containers": "web"}}}}, "spec.template.spec.containers"),
        ({"spec": {"template": {"spec": {"containers": {"name": "web"}}}}}, "spec.template.spec.containers"),
    ],
    ids=["template-str", "containers-str", "containers-dict"],
)
def test_a_trait_patch_of_the_wrong_type_is_a_render_error(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, patch: dict[str, object], field: str
) -> None:
    defs = _defs_module(
        in_tmp,
        monkeypatch,
        f"""
        import attrs
        from pyvela import TraitContext, TraitResult, trait

        @attrs.frozen(kw_only=True)
        class P:
            pass

        @trait(name="clobber", params=P)
        def clobber(p: P, ctx: TraitContext) -> TraitResult:
            return TraitResult(patch={patch!r})
        """,
    )
    path = _app(
        in_tmp,
        f'from {defs} import clobber\nb = base_service("b", image="x", cluster="c").with_traits(clobber())\n'
        'app = Application("a", components=[b])\n',
    )
    loaded = load_app(path, defs=["platform_defs", defs])
    with pytest.raises(RenderError, match=f"leaves {field} of the workload as the wrong type") as info:
        render_component(loaded.app, loaded.app.components[0], revision=loaded.revision)
    assert info.value.context["trait"] == "clobber"
    assert info.value.where is not None and info.value.where.line == 4


def test_template_values_cannot_change_the_yaml_structure() -> None:
    template = ROOT / "platform_defs" / "templates" / "base-service.yaml.j2"
    for name in ("web # comment", "a: b", "x\n  replicas: 99", "[1, 2]", "{'k': 1}", "'quoted\"", "yes"):
        obj = yaml_template(template, name=name)
        assert obj["metadata"]["name"] == name
        assert obj["spec"]["replicas"] == 2
        assert obj["spec"]["selector"]["matchLabels"] == {"app": name}


def test_the_seed_app_renders_as_its_golden_file() -> None:
    assert_golden(load_app(ROOT / "apps" / "lixiang.py"), ROOT / "tests" / "golden" / "lixiang.yaml")


def _revision_in(directory: Path) -> str:
    code = "from pyvela import load_app; print(load_app('apps/lixiang.py').revision)"
    # pyvela from this checkout; platform_defs from the copy (the cwd comes first on sys.path).
    env = {k: v for k, v in os.environ.items() if k != "PYVELA_DEFS"} | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=directory, capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_moving_the_checkout_keeps_the_revision(tmp_path: Path) -> None:
    revisions = []
    for where in ("one", "elsewhere/two"):
        target = tmp_path / where
        target.mkdir(parents=True)
        shutil.copytree(ROOT / "apps", target / "apps", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(
            ROOT / "platform_defs", target / "platform_defs", ignore=shutil.ignore_patterns("__pycache__")
        )
        revisions.append(_revision_in(target))
    assert revisions[0] == revisions[1]
    (tmp_path / "one" / "platform_defs" / "templates" / "base-service.yaml.j2").write_text(
        (ROOT / "platform_defs" / "templates" / "base-service.yaml.j2").read_text() + "\n# changed\n"
    )
    assert _revision_in(tmp_path / "one") != revisions[0]
