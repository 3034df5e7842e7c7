"""Definitions pyvela ships with: the step used when an app lists no workflow, and KubeVela's
resource policies (defined in ``policies_builtin``)."""

from __future__ import annotations

import attrs

from pyvela._core.actions import StepContext
from pyvela._core.params import ComponentName
from pyvela._core.policies_builtin import (
    POLICIES,
    apply_once,
    garbage_collect,
    read_only,
    resource_update,
    shared_resource,
    take_over,
)
from pyvela._core.policies_cluster import CLUSTER_POLICIES, override, replication, topology
from pyvela._core.steps import step
from pyvela._core.waivers import waive_checks

__all__ = [
    "BUILTINS",
    "apply_component",
    "apply_once",
    "garbage_collect",
    "override",
    "read_only",
    "replication",
    "resource_update",
    "shared_resource",
    "take_over",
    "topology",
    "waive_checks",
]


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


BUILTINS = (apply_component, *POLICIES, *CLUSTER_POLICIES, waive_checks)
