"""A step for the runner's save tests (tests/workflow/test_runner_saves.py): a catalogue module."""

from __future__ import annotations

import time
from typing import Any

import attrs

from pyvela import ObjectRef, Readiness, StepContext, step


@attrs.frozen(kw_only=True)
class Nothing:
    """No parameters."""


def _cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


@step(name="apply-then-block", params=Nothing)
async def apply_then_block(p: Nothing, ctx: StepContext) -> None:
    """Applies ConfigMaps at once, 1.2 s and 1.5 s later, then waits for one nobody has made
    yet (nothing else happens in the run: the last apply makes the only reason to save)."""
    start = time.monotonic()
    first = ObjectRef("v1", "ConfigMap", ctx.namespace, "first")

    def after(seconds: float) -> Any:
        return lambda obj: Readiness(ready=time.monotonic() > start + seconds, message="not yet")

    def present(obj: Any) -> Readiness:
        return Readiness(ready=obj is not None, message="waiting for go")

    await ctx.apply(_cm("first"))
    await ctx.wait_ready(first, rule=after(1.2))
    await ctx.apply(_cm("second"))
    await ctx.wait_ready(first, rule=after(1.5))
    await ctx.apply(_cm("third"))
    await ctx.wait_ready(ObjectRef("v1", "ConfigMap", ctx.namespace, "go"), rule=present)
