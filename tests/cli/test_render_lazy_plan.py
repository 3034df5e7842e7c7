"""`render` does not build the default workflow's plan (a step object per component), yet
refuses at load, with the message it always gave, every app whose workflow is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyvela import load_app
from pyvela._app import loader
from pyvela._cli.main import main

HEADER = """
from platform_defs import apply_base, apply_proxy, base_service, proxy_service
from pyvela import Application, Workflow
"""

# Each app and the first line of the error `render` printed (file:line and message) before the
# plan was lazy: the whole error is unchanged.
BROKEN = {
    "component-cycle": (
        """
a = base_service("a", image="x", cluster="c").after("b")
b = base_service("b", image="x", cluster="c").after("a")
app = Application("a", components=[a, b])
""",
        "app.py:4: components depend on each other in a cycle: a -> b -> a",
    ),
    "component-after-unknown": (
        """
a = base_service("a", image="x", cluster="c").after("ghost")
app = Application("a", components=[a])
""",
        "app.py:4: component 'a': ordered after unknown component 'ghost' (.after()): "
        "the app has no component of that name",
    ),
    "step-after-unknown": (
        """
a = base_service("base-service", image="x", cluster="c")
s = apply_base("s", component="base-service").after("ghost-step")
app = Application("a", components=[a], workflow=[s])
""",
        "app.py:5: step 's': ordered after unknown step 'ghost-step' (.after()): "
        "the workflow has no step or group of that name",
    ),
    "step-cycle": (
        """
a = base_service("base-service", image="x", cluster="c")
p = proxy_service("proxy-service", image="x", cluster="c")
s1 = apply_base("s1", component="base-service").after("s2")
s2 = apply_proxy("s2", component="proxy-service", backend_ip=s1.outputs.cluster_ip)
app = Application("a", components=[a, p], workflow=Workflow(steps=[s1, s2], mode="DAG"))
""",
        "app.py:6: step 's1': steps depend on each other in a cycle: s1 -> s2 -> s1",
    ),
    "when-unknown-step": (
        """
a = base_service("base-service", image="x", cluster="c")
s = apply_base("s", component="base-service").when(lambda wf: wf.succeeded("ghost"))
app = Application("a", components=[a], workflow=[s])
""",
        "app.py:5: step 's': the .when() condition of step 's' asks about unknown step 'ghost'",
    ),
    "duplicate-step": (
        """
a = base_service("base-service", image="x", cluster="c")
s1 = apply_base("s", component="base-service")
s2 = apply_base("s", component="base-service")
app = Application("a", components=[a], workflow=[s1, s2])
""",
        "app.py:6: step 's': two steps are named 's'",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_render_refuses_a_wrong_workflow_at_load_with_the_same_message(
    case: str, write_app: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, message = BROKEN[case]
    assert main(["render", str(write_app(HEADER + source))]) == 1
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err


def _count_default_plans(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    built: list[Any] = []
    real = loader.default_plan

    def counting(*args: Any) -> Any:
        built.append(args)
        return real(*args)

    monkeypatch.setattr(loader, "default_plan", counting)
    return built


GOOD = """
from platform_defs import base_service, proxy_service
from pyvela import Application

a = base_service("a", image="x", cluster="c")
b = proxy_service("b", image="x", cluster="c").after(a)
app = Application("demo", components=[a, b])
"""


def test_render_does_not_build_the_default_plan(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    built = _count_default_plans(monkeypatch)
    assert main(["render", str(write_app(GOOD))]) == 0
    assert "kind:" in capsys.readouterr().out
    assert built == []


def test_the_default_plan_is_built_once_when_read(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _count_default_plans(monkeypatch)
    loaded = load_app(write_app(GOOD))
    assert built == []
    assert loaded.plan.order == ("a", "b") and loaded.plan.steps["b"].dependencies == {"a"}
    assert loaded.plan is loaded.plan and len(loaded.revision) == 16
    assert len(built) == 1


TEAM_APPLY = '''
import attrs
from pyvela import step


@attrs.frozen(kw_only=True)
class P:
    component: str


@step(name="apply-component", params=P)
async def my_apply(p: P, ctx: object) -> None:
    """A team's own step of the built-in's name."""
'''


def test_a_team_step_shadowing_apply_component_still_refuses_the_default_steps(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The one check of the default plan that the components' own checks do not make.
    path = write_app(GOOD)
    write_app(TEAM_APPLY, "teamdefs_lazy_plan.py")
    monkeypatch.syspath_prepend(str(path.parent))
    args = ["render", str(path), "--defs", "teamdefs_lazy_plan", "--defs", "platform_defs"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "app.py:4: step 'a', definition 'apply-component': step definition 'apply-component' " in err
    assert "is not in the catalogue" in err
