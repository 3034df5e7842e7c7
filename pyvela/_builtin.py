"""Definitions pyvela ships with: the step used when an app lists no workflow, and policies."""

from __future__ import annotations

import attrs

from ._actions import StepContext
from ._definitions import policy, step
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


@attrs.frozen(kw_only=True)
class GarbageCollectParams:
    """Parameters of the built-in ``garbage-collect`` policy.

    Attributes:
        keep_legacy: Keep objects that a new revision no longer renders (no prune).
    """

    keep_legacy: bool = False


@policy(name="garbage-collect", params=GarbageCollectParams)
def garbage_collect() -> None:
    """What happens to objects a new revision no longer has: pruned unless ``keep_legacy``."""


@attrs.frozen(kw_only=True)
class TakeOverParams:
    """Parameters of the built-in ``take-over`` policy.

    Attributes:
        kinds: Kinds whose existing, unowned objects this app may adopt (empty: every kind).
    """

    kinds: tuple[str, ...] = ()


@policy(name="take-over", params=TakeOverParams)
def take_over() -> None:
    """Allow adopting objects that exist but were not created by this app (never silent by default)."""


BUILTINS = (apply_component, garbage_collect, take_over)
