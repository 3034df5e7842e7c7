"""A platform team's checkout for pytester runs of pyvela's pytest plugin (no tests here)."""

from __future__ import annotations

import textwrap

import pytest

DEFS = """
from __future__ import annotations

import attrs

from pyvela import ComponentContext, Obj, StepContext, WorkloadType, component, step, ComponentName

DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")


@attrs.frozen(kw_only=True)
class WebParams:
    image: str
    replicas: int = 1


@component(name="web", params=WebParams, workload=DEPLOYMENT)
def web(p: WebParams, ctx: ComponentContext) -> Obj:
    labels = {"app": ctx.name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.name, "namespace": ctx.namespace},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": ctx.name, "image": p.image}]}},
        },
    }


@attrs.frozen(kw_only=True)
class RolloutParams:
    component: ComponentName


@attrs.frozen(kw_only=True)
class RolloutOutputs:
    ready: str


@step(name="roll-out", params=RolloutParams)
async def roll_out(p: RolloutParams, ctx: StepContext) -> RolloutOutputs:
    applied = await ctx.apply_component(p.component)
    await ctx.wait_ready(applied)
    await ctx.log(f"{p.component} is ready")
    return RolloutOutputs(ready=p.component)


@step(name="refuse", params=RolloutParams)
async def refuse(p: RolloutParams, ctx: StepContext) -> None:
    await ctx.fail(f"no capacity for {p.component}")
"""

APP = """
from pyvela import Application
from shopdefs import roll_out, web

app = Application(
    "shop",
    components=[web("shop-web", image="nginx:1.27", replicas=2)],
    workflow=[roll_out("roll-out-web", component="shop-web")],
)
"""

# Without hypothesis's plugin: it imports hypothesis afresh in every in-process run (seconds each).
INI = """
[pytest]
pyvela_defs = shopdefs
pythonpath = .
addopts = -p no:hypothesispytest
"""


def _preload() -> None:
    # pytester forgets the modules imported after its fixture was set up: pyvela is imported
    # here, at collection, so every run shares one copy (a second copy's Application is not
    # the first's, which the façade keeps).
    import pyvela
    import pyvela._testing_cluster
    import pyvela.testing

    for name in pyvela.__all__:
        getattr(pyvela, name)


_preload()


def make_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A platform team's checkout: definitions, an app, the plugin configured by ini."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PYVELA_UPDATE_GOLDEN", raising=False)
    monkeypatch.delenv("PYVELA_DEFS", raising=False)
    pytester.makefile(".ini", pytest=INI)
    pytester.makepyfile(shopdefs=DEFS)
    (pytester.path / "apps").mkdir()
    (pytester.path / "apps" / "shop.py").write_text(textwrap.dedent(APP))
    pytester.syspathinsert()
    return pytester
