"""A step definition for tests/workflow/test_scale_handover.py: it reuses its dict after applying it."""

from __future__ import annotations

from typing import Any

import attrs

from pyvela import StepContext, step


@attrs.frozen(kw_only=True)
class NoParams:
    pass


@step(name="reuse-dict", params=NoParams)
async def reuse_dict(p: NoParams, ctx: StepContext) -> None:
    """Applies a ConfigMap, changes the same dict, applies it again under another name."""
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "first"},
        "data": {"k": "1"},
    }
    await ctx.apply(obj)
    obj["metadata"]["name"] = "second"  # the same dict, changed after its apply
    obj["data"]["k"] = "2"
    await ctx.apply(obj)
