"""Definitions used only by the runner tests (a catalogue module passed with defs=)."""

from __future__ import annotations

import attrs

from pyvela import ObjectRef, Readiness, StepContext, step


@attrs.frozen(kw_only=True)
class Nothing:
    """No parameters."""


@attrs.frozen(kw_only=True)
class Value:
    """One output value."""

    value: str


@step(name="noop", params=Nothing)
async def noop(p: Nothing, ctx: StepContext) -> None:
    """Does nothing."""


@attrs.frozen(kw_only=True)
class EchoParams:
    text: str


@step(name="echo", params=EchoParams)
async def echo(p: EchoParams, ctx: StepContext) -> Value:
    """Returns its input as output."""
    await ctx.log(f"echo {p.text}")
    return Value(value=p.text)


@step(name="explode", params=Nothing)
async def explode(p: Nothing, ctx: StepContext) -> None:
    """Raises, as a buggy step would."""
    await ctx.log("about to fail")
    raise ValueError("the step's own bug")


@attrs.frozen(kw_only=True)
class WaitParams:
    name: str
    seconds: float = 3600.0


@step(name="wait-for-configmap", params=WaitParams)
async def wait_for_configmap(p: WaitParams, ctx: StepContext) -> None:
    """Waits for a ConfigMap that someone else must create (never, in the timeout test)."""

    def present(obj: dict | None) -> Readiness:  # type: ignore[type-arg]
        return Readiness(ready=obj is not None, message="waiting for the ConfigMap")

    await ctx.wait_ready(ObjectRef("v1", "ConfigMap", ctx.namespace, p.name), rule=present, timeout=p.seconds)


@attrs.frozen(kw_only=True)
class PostParams:
    url: str
    then_wait: str = ""


@step(name="post-then-wait", params=PostParams)
async def post_then_wait(p: PostParams, ctx: StepContext) -> Value:
    """POSTs once (journaled), then optionally waits for a ConfigMap (so a test can kill it)."""
    response = await ctx.http("POST", p.url, json={"step": ctx.step_name})
    if p.then_wait:
        await ctx.wait_ready(
            ObjectRef("v1", "ConfigMap", ctx.namespace, p.then_wait),
            rule=lambda obj: Readiness(ready=obj is not None, message="waiting"),
        )
    return Value(value=response.text)


@step(name="pause", params=Nothing)
async def pause(p: Nothing, ctx: StepContext) -> None:
    """Suspends the workflow until `pyvela workflow resume`."""
    await ctx.suspend()
    await ctx.log("resumed")


@attrs.frozen(kw_only=True)
class ObjParams:
    name: str


@step(name="make-configmap", params=ObjParams)
async def make_configmap(p: ObjParams, ctx: StepContext) -> None:
    """Applies a ConfigMap (owned by the app)."""
    await ctx.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": p.name}, "data": {"a": "b"}}
    )


@attrs.frozen(kw_only=True)
class UrlParams:
    url: str


@step(name="call", params=UrlParams)
async def call(p: UrlParams, ctx: StepContext) -> Value:
    """POSTs to ``url`` (retried by the runner on 429/5xx) and returns the body."""
    response = await ctx.http("POST", p.url, json={"step": ctx.step_name})
    return Value(value=f"{response.status} {response.text}")


@step(name="objects", params=ObjParams)
async def objects(p: ObjParams, ctx: StepContext) -> Value:
    """Applies, reads, lists and deletes a ConfigMap, pausing briefly in between."""
    await ctx.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": p.name}, "data": {"k": "v"}}
    )
    ref = ObjectRef("v1", "ConfigMap", ctx.namespace, p.name)
    read = await ctx.read(ref)
    listed = await ctx.list(
        "v1", "ConfigMap", namespace=ctx.namespace, labels={"app.oam.dev/name": ctx.app_name}
    )
    await ctx.suspend(0.05)
    existed = await ctx.delete(ref)
    gone = await ctx.read(ref)
    names = ",".join(sorted(o["metadata"]["name"] for o in listed))
    return Value(value=f"{(read or {}).get('data')} {names} {existed} {gone}")
