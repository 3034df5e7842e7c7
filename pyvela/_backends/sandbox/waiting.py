"""Waiting on the sandbox: readiness rules over the stored object, woken by every write in
this process, polled for other processes' writes, failing fast when the object is deleted
or the database is no longer the one this process opened."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pyvela._backends.pods import PodProblems, grace_of, stuck
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._backends.sandbox.rows import Row
from pyvela._backends.sandbox.store import Store
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import NotFoundError, NotReadyError, StepTimeout, WorkflowError

#: How often a wait checks for writes made by other processes.
CROSS_PROCESS_POLL = 0.1


def wait_for(
    store: Store,
    observe: Callable[[], tuple[Row | None, float | None]],
    ref: ObjectRef,
    rule: ReadinessRule,
    *,
    timeout: float,
    on_progress: Callable[[Readiness], None] | None = None,
    cancel: threading.Event | None = None,
    pods: Callable[[Obj], list[Obj]] | None = None,
    failure_grace: float | None = None,
) -> Obj:
    """Until ``rule`` says ready (or failed) for what ``observe`` returns, the deadline or a cancel.

    With ``pods`` (a workload's Pods, as the simulated controllers made them), Pods stuck
    for the grace fail the wait with their reason, as on a real cluster.
    """
    deadline = time.monotonic() + timeout
    message: str | None = None
    seen = False
    problems: PodProblems | None = None
    shown = ""
    while True:
        if cancel is not None and cancel.is_set():
            raise WorkflowError(f"cancelled while waiting for {ref}", object=str(ref))
        writes = store.writes
        version = store.verify_version()
        row, next_change = observe()
        obj = None if row is None else row.to_obj()
        verdict = rule(obj)
        if row is None and seen and not verdict.ready:
            # Deleted under the wait: it can never become ready; waiting out the timeout would lie.
            store.verify()  # gone with the whole sandbox (a reset just now)? say that instead
            raise NotFoundError(
                f"{ref} was deleted while waiting for it to become ready",
                object=str(ref),
                expected="the object to exist until it is ready",
                got="no object (deleted)",
            )
        seen = seen or row is not None
        if verdict.message != message:
            message = verdict.message
            if on_progress is not None:
                on_progress(verdict)
        if verdict.failed:
            raise NotReadyError(
                f"{ref} will not become ready: {verdict.message}", object=str(ref), got=verdict.message
            )
        if verdict.ready:
            return obj if obj is not None else {}
        if pods is not None and obj is not None:
            if problems is None:
                problems = PodProblems(grace_of(obj, failure_grace))
            problems.update(pods(obj))
            problem, text = problems.verdict()
            if text != shown:
                shown = text
                if text and on_progress is not None:
                    on_progress(Readiness(False, f"{verdict.message}; {text}"))
            if problem is not None:
                raise stuck(ref, problem, problems.grace)
            expiry = problems.next_expiry()
            if expiry is not None:  # wake when the grace runs out, even if nothing changes
                at = time.time() + max(0.0, expiry - time.monotonic())
                next_change = at if next_change is None else min(next_change, at)
        if time.monotonic() >= deadline:
            raise StepTimeout(
                f"timed out after {timeout:g}s waiting for {ref}: {verdict.message}",
                object=str(ref),
                timeout=timeout,
                last_message=verdict.message,
            )
        _sleep(store, writes, version, next_change, deadline, cancel)


def _sleep(
    store: Store,
    writes: int,
    version: int,
    next_change: float | None,
    deadline: float,
    cancel: threading.Event | None,
) -> None:
    """Until a write here or in another process, the next simulated change, the deadline or a cancel."""
    while True:
        remaining = deadline - time.monotonic()
        if next_change is not None:
            remaining = min(remaining, next_change - time.time())
        if remaining <= 0:
            return
        with store.cond:
            if store.writes != writes:
                return
            store.cond.wait(min(remaining, CROSS_PROCESS_POLL))
            if store.writes != writes:
                return
        if (cancel is not None and cancel.is_set()) or store.data_version() != version:
            return
