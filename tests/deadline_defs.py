"""Steps that misbehave against their deadline (a catalogue module passed with defs=).

Their bodies block the way real step code does by mistake: a plain ``time.sleep``, a loop
on a file that never appears, awaiting asyncio. None of them cooperates with the runner.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import attrs

from pyvela import StepContext, step


@attrs.frozen(kw_only=True)
class Seconds:
    seconds: float


@attrs.frozen(kw_only=True)
class Done:
    value: str


@step(name="blocker", params=Seconds)
async def blocker(p: Seconds, ctx: StepContext) -> Done:
    """Logs, then blocks its thread (a hung call in the step body) and returns."""
    await ctx.log("about to block")
    time.sleep(p.seconds)
    return Done(value="returned")


@attrs.frozen(kw_only=True)
class Gate:
    gate: str
    name: str


@step(name="gated-apply", params=Gate)
async def gated_apply(p: Gate, ctx: StepContext) -> None:
    """Blocks until the file ``gate`` exists, then applies a ConfigMap."""
    while not Path(p.gate).exists():
        time.sleep(0.05)
    await ctx.apply_object(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": p.name}, "data": {"late": "yes"}}
    )


@attrs.frozen(kw_only=True)
class Nothing:
    """No parameters."""


@step(name="asyncio-sleeper", params=Nothing)
async def asyncio_sleeper(p: Nothing, ctx: StepContext) -> None:
    """Awaits asyncio as if an event loop ran the step."""
    await ctx.log("before the sleep")
    await asyncio.sleep(1)  # line of the bad await


@step(name="asyncio-yielder", params=Nothing)
async def asyncio_yielder(p: Nothing, ctx: StepContext) -> None:
    """Awaits asyncio.sleep(0), which yields a bare None to the driver."""
    await asyncio.sleep(0)  # line of the bare yield


async def _nap() -> None:
    await asyncio.sleep(0.5)  # line inside the helper


@step(name="helper-sleeper", params=Nothing)
async def helper_sleeper(p: Nothing, ctx: StepContext) -> None:
    """Awaits a helper coroutine of its own that awaits asyncio."""
    await _nap()
