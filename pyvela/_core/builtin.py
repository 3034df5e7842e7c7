"""Definitions pyvela ships with: the step used when an app lists no workflow, and policies."""

from __future__ import annotations

import attrs

from pyvela._core.actions import StepContext
from pyvela._core.definitions import policy
from pyvela._core.params import ComponentName
from pyvela._core.selectors import ResourceSelector
from pyvela._core.steps import step


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


@attrs.frozen(kw_only=True)
class GarbageCollectParams:
    """Parameters of the built-in ``garbage-collect`` policy.

    Attributes:
        keep_legacy: Keep objects that a new revision no longer renders (no prune).
        keep_registrations: Leave what the app registered in the config centre in place when
            the app is deleted (by default ``pyvela delete`` removes it and publishes).
    """

    keep_legacy: bool = False
    keep_registrations: bool = False


@policy(name="garbage-collect", params=GarbageCollectParams)
def garbage_collect() -> None:
    """What happens to objects a new revision no longer has: pruned unless ``keep_legacy``."""


@attrs.frozen(kw_only=True)
class TakeOverParams(ResourceSelector):
    """Parameters of the built-in ``take-over`` policy: which objects may be adopted."""


@policy(name="take-over", params=TakeOverParams)
def take_over() -> None:
    """Adopt existing objects that this app did not create (never silent without this policy)."""


@attrs.frozen(kw_only=True)
class ReadOnlyParams(ResourceSelector):
    """Parameters of the built-in ``read-only`` policy: which objects are only read."""


@policy(name="read-only", params=ReadOnlyParams)
def read_only() -> None:
    """Never apply the selected objects: they must exist already, and steps see them live."""


@attrs.frozen(kw_only=True)
class SharedResourceParams(ResourceSelector):
    """Parameters of the built-in ``shared-resource`` policy: which objects are shared."""


@policy(name="shared-resource", params=SharedResourceParams)
def shared_resource() -> None:
    """Share the selected objects with other apps: the first owner keeps them, and deleting
    an app only gives up its share until the last sharer goes."""


BUILTINS = (apply_component, garbage_collect, take_over, read_only, shared_resource)
