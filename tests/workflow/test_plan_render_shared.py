"""A deploy applies the plan's render, which may share nodes with what definitions hold (a
module constant, a parameter's dict): what the apply writes (namespace, labels, the sharers'
annotation) and a step's patch never reach them, nor another component's objects."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from pyvela import ComponentContext, StepContext, WorkloadType, component, step
from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from pyvela._workflow.state import StateStore
from tests.runner_helpers import DEFS, ops_for, sandbox

NOTES: dict[str, str] = {"team": "a"}
DATA: dict[str, Any] = {"size": "1", "v": "x"}


@attrs.frozen(kw_only=True)
class P:
    """Parameters.

    Attributes:
        size: Put in the data when given.
    """

    size: str = ""


@component(name="held-notes", params=P, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def held_notes(p: P, ctx: ComponentContext) -> dict[str, Any]:
    data = {**DATA, "size": p.size} if p.size else DATA
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": ctx.name, "annotations": NOTES},
        "data": data,
    }


@attrs.frozen(kw_only=True)
class Sized:
    """Parameters.

    Attributes:
        component: The component to apply, its data's size patched.
    """

    component: str


@step(name="apply-sized", params=Sized)
async def apply_sized(p: Sized, ctx: StepContext) -> None:
    await ctx.apply_component(p.component, workload_patch={"data": {"size": "9"}})


APP = """
from pyvela import Application, PolicyRule, RuleSelector, Workflow, apply_component, shared_resource
from tests.workflow.test_plan_render_shared import apply_sized, held_notes

app = Application("{app}", components=[held_notes("a"), held_notes("{b}")],
                  policies=[shared_resource("s", rules=(
                      PolicyRule(selector=RuleSelector(resource_names=("a",))),))],
                  workflow=Workflow(steps=[apply_component("sa", component="a"),
                                           apply_sized("sb", component="{b}")]))
"""


def _live(box: Sandbox, name: str) -> dict[str, Any]:
    live = box.get(ObjectRef("v1", "ConfigMap", "default", name))
    assert live is not None
    return live


def test_a_deploy_changes_nothing_definitions_hold(write_app: Callable[..., Path], tmp_path: Path) -> None:
    before = copy.deepcopy([NOTES, DATA])
    box = sandbox(tmp_path / "box")
    try:
        for app, other in (("one", "b"), ("two", "c")):  # "two" shares "a": its apply writes the sharers
            path = write_app(APP.format(app=app, b=other), name=f"{app}.py")
            assert ops_for(path, box, defs=[*DEFS, "tests.workflow.test_plan_render_shared"]).deploy().ok
        assert before == [NOTES, DATA]
        a, b = _live(box, "a"), _live(box, "b")
        assert a["metadata"]["annotations"] == {
            "team": "a",
            "app.oam.dev/shared-by": "default/one,default/two",
        }
        assert b["metadata"]["annotations"] == {"team": "a"} and b["data"]["size"] == "9"
        assert a["data"] == {"size": "1", "v": "x"}
        record = StateStore(box, "one", "default").load()
        assert record is not None
        manifests = {e["ref"]["name"]: e["manifest"] for e in record["revisions"][-1]["inventory"]}
        assert manifests["a"]["metadata"]["annotations"]["app.oam.dev/shared-by"] == "default/one"
        assert manifests["b"]["metadata"]["annotations"] == {"team": "a"}
        assert manifests["b"]["data"]["size"] == "9" and manifests["a"]["data"]["size"] == "1"
    finally:
        box.close()
