"""Definitions pyvela ships with: the step used when an app lists no workflow."""

from __future__ import annotations

import attrs

from ._actions import StepContext
from ._definitions import step
from ._params import ComponentName


@attrs.frozen(kw_only=True)
class ApplyComponentParams:
    """Parameters of the built-in ``apply-component`` step."""

    component: ComponentName


@step(name="apply-component", params=ApplyComponentParams)
async def apply_component(p: ApplyComponentParams, ctx: StepContext) -> None:
    """Apply a component with its traits and wait until its workload is ready.

    This is the step of every component when an app lists no workflow (DAG mode,
    ordered by the components' dependencies), as in KubeVela.
    """
    applied = await ctx.apply_component(p.component)
    await ctx.wait_ready(applied)


BUILTINS = (apply_component,)
