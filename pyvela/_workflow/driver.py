"""Driving one step: send action results into its coroutine until it returns its outputs.

No event loop is involved: a step is a coroutine over pyvela actions, so the driver (or
a test) steps it with ``send``. Journaled actions (non-idempotent side effects) reuse
their recorded result when a killed run is resumed; everything else runs again.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Mapping
from types import FrameType, TracebackType
from typing import Any

import attrs

from pyvela._core import actions as a
from pyvela.errors import (
    Location,
    PyvelaError,
    StepError,
    StepTimeout,
    WorkflowError,
)


class Suspended(Exception):
    """Raised inside the driver when a step suspends the workflow (not an error)."""


def fingerprint(action: a.Action[Any]) -> str:
    """Identifies an action by type and fields, to match it against the journal on replay."""
    fields = attrs.asdict(
        action,  # type: ignore[arg-type]
        recurse=True,
        value_serializer=lambda _i, _f, v: v if not callable(v) else repr(v),
    )
    text = type(action).__name__ + json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@attrs.define
class StepRun:
    """What the driver needs from, and reports to, the runner for one step."""

    name: str
    definition: str
    journal: list[dict[str, Any]]
    resumed: bool = False
    retries: int = 5
    backoff: float = 0.2
    on_journal: Callable[[list[dict[str, Any]]], None] = lambda _journal: None
    #: The controller's runs: how a timed suspend or a delete is performed so that it parks
    #: rather than blocks (``waits.parked_action``: action, its index, this, its performer).
    park: Callable[[a.Action[Any], int, StepRun, Callable[[], Any]], Any] | None = None


def drive(
    coro: Coroutine[Any, Any, Any],
    run: StepRun,
    perform: Callable[[a.Action[Any]], Any],
    *,
    deadline: float,
    cancel: threading.Event,
    where: Location | None = None,
    observe: Callable[[a.Action[Any]], None] | None = None,
) -> Any:
    """Run ``coro`` to completion; returns its return value.

    Raises:
        Suspended: the step awaits ``suspend()`` and was not resumed yet.
        StepTimeout, StepError, WorkflowError, PyvelaError: the step failed.
    """
    index = 0
    send: Any = None
    throw: BaseException | None = None
    try:
        while True:
            try:
                action = coro.throw(throw) if throw is not None else coro.send(send)
            except StopIteration as stop:
                if time.monotonic() > deadline:
                    # Code that blocked past the deadline and then returned did not finish in time.
                    raise StepTimeout(
                        "step returned after its deadline", step=run.name, reason="Timeout"
                    ) from None
                return stop.value
            except PyvelaError:
                raise
            except Exception as exc:
                raise _user_error(exc, run, where) from exc
            throw, send = None, None
            if not isinstance(action, a.Action):
                site, awaited = _await_site(coro)
                raise _not_an_action(awaited or type(action).__name__, run, site or where)
            if observe is not None:
                observe(action)
            if cancel.is_set():
                raise WorkflowError("the workflow was terminated", step=run.name, reason="Terminate")
            if time.monotonic() >= deadline:
                raise StepTimeout(
                    f"step did not finish in time (before {action.describe()})",
                    step=run.name,
                    reason="Timeout",
                )
            try:
                send = _one(action, index, run, perform, deadline, cancel)
                if time.monotonic() > deadline:
                    raise StepTimeout(
                        f"step did not finish in time ({action.describe()} ended after the deadline)",
                        step=run.name,
                        reason="Timeout",
                    )
            except Suspended:
                raise
            except PyvelaError as exc:
                exc.with_context(step=run.name)
                if isinstance(exc, StepTimeout | WorkflowError):
                    raise
                # Let the step handle the failure if it wants to (try/except around await).
                throw = exc
            index += 1
    finally:
        coro.close()


def _one(
    action: a.Action[Any],
    index: int,
    run: StepRun,
    perform: Callable[[a.Action[Any]], Any],
    deadline: float,
    cancel: threading.Event,
) -> Any:
    if isinstance(action, a.Fail):
        raise StepError(action.message, step=run.name, reason="Failed")
    if isinstance(action, a.Suspend):
        return _suspend(action, index, run, deadline, cancel)
    if run.park is not None and isinstance(action, a.DeleteObject):
        return run.park(action, index, run, lambda: _with_retries(action, run, perform, deadline, cancel))
    if action.journaled:
        fp = fingerprint(action)
        # Entries are matched by the action's position in the step, not in the journal: only
        # journaled actions are recorded, so the two differ once a step logs or waits first.
        recorded = next((e for e in run.journal if e.get("index") == index), None)
        if recorded is not None and recorded.get("fingerprint") == fp:
            data = recorded.get("result")
            decode = DECODERS.get(type(action))
            return decode(data) if decode else data
        run.journal[:] = [e for e in run.journal if int(e.get("index", -1)) < index]
    result = _with_retries(action, run, perform, deadline, cancel)
    if action.journaled and not _refused(result):
        run.journal.append(
            {
                "index": index,
                "action": action.describe(),
                "fingerprint": fingerprint(action),
                "result": encode_result(result),
            }
        )
        # Persist before the step goes on: a kill now must not repeat this side effect.
        run.on_journal(list(run.journal))
    return result


def _refused(result: Any) -> bool:
    """A 4xx answer: the server did not act on the request, so it is not on record as done and
    a re-run of the step sends it again (a refused webhook must not stay refused forever)."""
    return isinstance(result, a.HttpResponse) and result.status >= 400


def _with_retries(
    action: a.Action[Any],
    run: StepRun,
    perform: Callable[[a.Action[Any]], Any],
    deadline: float,
    cancel: threading.Event,
) -> Any:
    attempt = 0
    while True:
        try:
            return perform(action)
        except PyvelaError as exc:
            # A client that retried under its own deadline (retried) is not retried again here:
            # retries never nest.
            if not exc.transient or exc.retried:
                raise
            attempt += 1
            delay = run.backoff * (2 ** (attempt - 1))
            if attempt <= run.retries and time.monotonic() + delay >= deadline:
                # A retry must never carry the step past its deadline.
                raise StepTimeout(
                    f"{action.describe()} failed after {attempt} attempt(s) and the step's deadline "
                    f"leaves no time to retry: {exc.message}",
                    step=run.name,
                    reason="Timeout",
                ) from exc
            if attempt > run.retries:
                raise StepError(
                    f"{action.describe()} failed after {attempt} attempt(s): {exc.message}",
                    step=run.name,
                    reason="FailedAfterRetries",
                ) from exc
            if cancel.wait(delay):
                raise WorkflowError("the workflow was terminated", step=run.name, reason="Terminate") from exc


def _suspend(action: a.Suspend, index: int, run: StepRun, deadline: float, cancel: threading.Event) -> None:
    if run.resumed:
        return None
    if action.duration is None:
        raise Suspended(run.name)
    if run.park is not None:
        run.park(action, index, run, lambda: None)
        return None
    seconds = action.duration
    fp = fingerprint(action)
    for e in run.journal:  # a controller's run parked at it: its end was set then (``waits``)
        if e.get("index") == index and e.get("fingerprint") == fp and "until" in (e.get("result") or {}):
            seconds = float(e["result"]["until"]) - time.time()
    end = min(time.monotonic() + seconds, deadline)
    if cancel.wait(max(0.0, end - time.monotonic())):
        raise WorkflowError("the workflow was terminated", step=run.name, reason="Terminate")
    return None


def _not_an_action(awaited: str, run: StepRun, where: Location | None) -> StepError:
    return StepError(
        f"step awaited {awaited}, which is not a pyvela action",
        step=run.name,
        definition=run.definition,
        where=where,
        fix="await only the context's actions (ctx.apply_component, ctx.wait_ready, ...); "
        "steps must not use asyncio or do I/O themselves",
    )


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__") or "")


def _users(frame: FrameType) -> bool:
    """Whether a frame is the step author's code (not pyvela's, not the standard library's)."""
    module = _module(frame)
    return not module.startswith("pyvela._") and module.partition(".")[0] not in sys.stdlib_module_names


def _await_site(coro: Coroutine[Any, Any, Any]) -> tuple[Location | None, str | None]:
    """The innermost await of the author's code the step is suspended in, and what it awaits."""
    site: Location | None = None
    awaited: str | None = None
    current: Any = coro
    while current is not None:
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is None:
            break
        if _users(frame):
            site, awaited = Location(frame.f_code.co_filename, frame.f_lineno), None
        elif awaited is None:
            awaited = f"{_module(frame).partition('.')[0]}.{frame.f_code.co_name}"
        current = getattr(current, "cr_await", None) or getattr(current, "gi_yieldfrom", None)
    return site, awaited


def _frames(tb: TracebackType | None) -> list[tuple[FrameType, int]]:
    out = []
    while tb is not None:
        out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _user_error(exc: Exception, run: StepRun, where: Location | None) -> StepError:
    frames = _frames(exc.__traceback__)
    users = [i for i, (f, _line) in enumerate(frames) if _users(f)]
    last = users[-1] if users else None
    below = frames[last + 1 :] if last is not None else frames
    asyncio_frames = [f for f, _line in below if _module(f).partition(".")[0] == "asyncio"]
    site = Location(frames[last][0].f_code.co_filename, frames[last][1]) if last is not None else where
    if asyncio_frames:
        # asyncio raised (no event loop runs steps): the step awaited asyncio, not an action.
        return _not_an_action(f"asyncio.{asyncio_frames[0].f_code.co_name}", run, site)
    tb = "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
    )
    err = StepError(
        f"step raised {type(exc).__name__}: {exc}",
        where=site,
        step=run.name,
        definition=run.definition,
        reason="Error",
    )
    err.traceback = tb  # type: ignore[attr-defined]
    return err


#: How journaled results come back to life on replay.
DECODERS: Mapping[type[Any], Callable[[Any], Any]] = {
    a.HttpRequest: lambda d: a.HttpResponse(**d),
}


def encode_result(result: Any) -> Any:
    if isinstance(result, a.HttpResponse):
        return {"status": result.status, "headers": dict(result.headers), "text": result.text}
    if isinstance(result, a.AppliedComponent):
        return result.to_data()
    return result
