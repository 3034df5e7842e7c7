"""Steps that make a journaled POST and then wait in each way a controller's run parks (a
timed suspend, another app, a delete): the tests see that a resume repeats no POST."""

from __future__ import annotations

import attrs

from pyvela import ObjectRef, StepContext, step


@attrs.frozen(kw_only=True)
class NapParams:
    url: str
    seconds: float


@step(name="post-then-nap", params=NapParams)
async def post_then_nap(p: NapParams, ctx: StepContext) -> None:
    """POSTs once (journaled), then suspends for ``seconds``."""
    await ctx.http("POST", p.url, json={"step": ctx.step_name})
    await ctx.suspend(p.seconds)
    await ctx.log("woke up")


@attrs.frozen(kw_only=True)
class AppParams:
    url: str
    app: str


@step(name="post-then-wait-app", params=AppParams)
async def post_then_wait_app(p: AppParams, ctx: StepContext) -> None:
    """POSTs once (journaled), then waits for app ``app`` to succeed (``depends-on-app``)."""
    await ctx.http("POST", p.url, json={"step": ctx.step_name})
    seen = await ctx.wait_app(p.app)
    await ctx.log(f"app {p.app} revision {seen.get('revision')} succeeded")


@attrs.frozen(kw_only=True)
class DeleteParams:
    url: str
    name: str


@step(name="post-then-delete", params=DeleteParams)
async def post_then_delete(p: DeleteParams, ctx: StepContext) -> None:
    """POSTs once (journaled), then deletes ConfigMap ``name`` and waits until it is gone."""
    await ctx.http("POST", p.url, json={"step": ctx.step_name})
    existed = await ctx.delete(ObjectRef("v1", "ConfigMap", ctx.namespace, p.name))
    await ctx.log(f"deleted (existed: {existed})")
