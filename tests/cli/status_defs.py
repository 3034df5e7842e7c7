"""Steps for the status tests (a catalogue module passed with --defs tests.cli.status_defs)."""

from __future__ import annotations

import attrs

from pyvela import ObjectRef, Readiness, StepContext, step


@attrs.frozen(kw_only=True)
class HangParams:
    """Apply a ConfigMap, log, then wait for the ConfigMap ``go``.

    Attributes:
        name: the ConfigMap to apply
    """

    name: str


@step(name="apply-log-wait", params=HangParams)
async def apply_log_wait(p: HangParams, ctx: StepContext) -> None:
    """Applies a ConfigMap, logs twice, waits for ``go`` (so a test can kill it), logs once more."""
    await ctx.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": p.name}, "data": {"a": "b"}}
    )
    await ctx.log(f"applied {p.name}")
    await ctx.log("now waiting for go")
    await ctx.wait_ready(
        ObjectRef("v1", "ConfigMap", ctx.namespace, "go"),
        rule=lambda obj: Readiness(ready=obj is not None, message="waiting for the ConfigMap go"),
    )
    await ctx.log("go is there")


@attrs.frozen(kw_only=True)
class Nothing:
    """No parameters."""


@step(name="chatty", params=Nothing)
async def chatty(p: Nothing, ctx: StepContext) -> None:
    """Logs 60 lines, more than the record keeps."""
    for i in range(60):
        await ctx.log(f"line {i}")


@step(name="fail-slowly", params=Nothing)
async def fail_slowly(p: Nothing, ctx: StepContext) -> None:
    """Fails with a message that says why."""
    await ctx.fail("the database answered: permission denied for schema app")


@attrs.frozen(kw_only=True)
class PostParams:
    """Log, POST once, log, wait for ``go``.

    Attributes:
        url: where to POST
    """

    url: str


@step(name="log-post-wait", params=PostParams)
async def log_post_wait(p: PostParams, ctx: StepContext) -> None:
    """A log line before a journaled POST: the resume must still find the POST in the journal."""
    await ctx.log("before the post")
    await ctx.http("POST", p.url, json={"step": ctx.step_name})
    await ctx.log("posted")
    await ctx.wait_ready(
        ObjectRef("v1", "ConfigMap", ctx.namespace, "go"),
        rule=lambda obj: Readiness(ready=obj is not None, message="waiting for the ConfigMap go"),
    )
