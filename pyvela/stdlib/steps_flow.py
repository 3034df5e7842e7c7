"""Workflow steps that shape the run rather than the cluster: ``suspend``, ``step-group``,
``depends-on-app``, ``print-message-in-status`` and ``restart-workflow``.

They follow KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/<name>.cue;
``restart-workflow`` is a later KubeVela's (not in v1.10.1) and, since no controller runs in
the background, records when the workflow should run again (see docs/migrating-from-kubevela.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from pyvela import StepContext, StepGroup, parse_duration, step

from ._steps import is_ref
from ._types import Params

#: ``step-group`` in a KubeVela workflow is a :class:`pyvela.StepGroup` (its ``sub_steps`` are
#: the group's ``steps``, its ``mode`` theirs); the catalogue resolves the name to it.
step_group = StepGroup


# --------------------------------------------------------------------------- suspend


@attrs.frozen(kw_only=True)
class SuspendParams(Params):
    """Parameters of ``suspend``.

    Attributes:
        duration: Resume by itself after this long (a Go duration: ``30s``, ``1m30s``, ``2h``);
            unset: wait for ``pyvela workflow resume``. The step's timeout must be longer.
        message: A line to show in the step's status while it waits.
    """

    duration: str | None = None
    message: str | None = None

    def validate(self) -> None:
        if self.duration is not None and not is_ref(self.duration):
            parse_duration(self.duration, "duration")


@step(name="suspend", params=SuspendParams)
async def suspend(p: SuspendParams, ctx: StepContext) -> None:
    """Pause the workflow until ``pyvela workflow resume``, or for ``duration``."""
    if p.message:
        await ctx.log(p.message)
    await ctx.suspend(None if p.duration is None else parse_duration(p.duration, "duration"))


# --------------------------------------------------------------------------- another app


@attrs.frozen(kw_only=True)
class DependsOnAppParams(Params):
    """Parameters of ``depends-on-app``.

    Attributes:
        name: The pyvela app to wait for.
        namespace: That app's namespace; this app's when unset (KubeVela requires it).
    """

    name: str
    namespace: str | None = None


@step(name="depends-on-app", params=DependsOnAppParams)
async def depends_on_app(p: DependsOnAppParams, ctx: StepContext) -> None:
    """Wait until another pyvela app's latest revision has succeeded (read from its state record).

    Fails at once when that app was never deployed in the namespace, or when its latest revision
    failed or was terminated (waiting would not help). KubeVela can instead create the app from a
    ConfigMap of the same name: pyvela apps are Python files, so it asks you to deploy it.
    """
    if p.name == ctx.app_name and (p.namespace or ctx.namespace) == ctx.namespace:
        await ctx.fail(f"app {ctx.namespace}/{p.name} cannot wait for itself: name another app")
    seen = await ctx.wait_app(p.name, namespace=p.namespace)
    await ctx.log(f"app {seen['namespace']}/{seen['name']} revision {seen.get('revision')} has succeeded")


# --------------------------------------------------------------------------- status


@attrs.frozen(kw_only=True)
class PrintMessageParams(Params):
    """Parameters of ``print-message-in-status``.

    Attributes:
        message: The line to show in the step's status (``pyvela status``).
    """

    message: str


@step(name="print-message-in-status", params=PrintMessageParams)
async def print_message_in_status(p: PrintMessageParams, ctx: StepContext) -> None:
    """Show a message in the step's status: ``pyvela status`` prints it under the step's log."""
    await ctx.log(p.message)


# --------------------------------------------------------------------------- restart


@attrs.frozen(kw_only=True)
class RestartWorkflowParams(Params):
    """Parameters of ``restart-workflow`` (give exactly one).

    Attributes:
        at: When to run the workflow again: an RFC 3339 time (``2026-12-24T08:00:00Z``).
        after: How long after this step to run it again (a Go duration: ``10m``, ``1h30m``).
        every: Run it again at this interval (a Go duration); the next time is recorded.
    """

    at: str | None = None
    after: str | None = None
    every: str | None = None

    def validate(self) -> None:
        given = [n for n in ("at", "after", "every") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of at, after and every (got {', '.join(given) or 'none'})")
        if self.at is not None and not is_ref(self.at):
            parse_time(self.at)
        for name in ("after", "every"):
            value = getattr(self, name)
            if value is not None and not is_ref(value) and parse_duration(value, name) <= 0:
                raise ValueError(f"{name} {value!r}: must be longer than zero")


@attrs.frozen(kw_only=True)
class RestartWorkflowOutputs:
    """When the workflow should run again.

    Attributes:
        restart_at: The time, in UTC (RFC 3339).
    """

    restart_at: str


def parse_time(text: str) -> datetime:
    """An RFC 3339 time with its offset (``Z`` or ``+08:00``)."""
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"at {text!r} is not an RFC 3339 time, e.g. '2026-12-24T08:00:00Z'") from None
    if when.tzinfo is None:
        raise ValueError(f"at {text!r} has no time zone: add 'Z' (UTC) or an offset such as '+08:00'")
    return when


@step(name="restart-workflow", params=RestartWorkflowParams)
async def restart_workflow(p: RestartWorkflowParams, ctx: StepContext) -> RestartWorkflowOutputs:
    """Record when the workflow should run again (output ``restart_at``, and a line in its status).

    pyvela has no controller to restart it by itself: run ``pyvela workflow restart`` (or a
    scheduler that runs it) at that time.
    """
    if p.at is not None:
        when = parse_time(p.at).astimezone(UTC)
    else:
        interval = p.after if p.after is not None else p.every
        assert interval is not None  # validate() requires one of the three
        when = datetime.now(UTC) + timedelta(
            seconds=parse_duration(interval, "after" if p.after else "every")
        )
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    how = f" (then every {p.every})" if p.every is not None else ""
    await ctx.log(
        f"restart requested at {stamp}{how}: pyvela runs no controller, so run "
        f"`pyvela workflow restart` for app {ctx.app_name} then"
    )
    return RestartWorkflowOutputs(restart_at=stamp)
