"""Waiting without blocking: how a run waits for readiness in the controller.

``pyvela deploy`` waits the way a person at a terminal expects: a step's ``wait_ready``
blocks until the object is ready. A controller cannot hold a worker per waiting app (1,000
apps being created would each hold one for as long as their Deployments take), so it gives
the runner ``park=True``, as KubeVela's controller does: a wait for an object not ready yet
looks once and, when it is not, ends the step as ``waiting`` (:class:`Parked`). The run then
ends with the revision ``waiting``, its record saved as for any resume; the next run of the
same revision (the controller's reconcile on the object's next change, or its requeue) runs
the waiting step again. That repeats nothing a person would see: journaled side effects
replay from the journal, an apply of unchanged objects is a no-op, and the step's deadline
counts from its first start (kept in the step's ``parked`` entry), so a step timeout holds
across parks as in one blocking wait. The other waits (a timed suspend, another app, a
delete, a CRD) park the same way, each naming what ends it (``waits``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pyvela._backends.pods import POD_OWNERS, grace_of, problems_of, selector_of, stuck
from pyvela._backends.protocol import Backend, Readiness, ReadinessRule
from pyvela._core.actions import WaitReady
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.driver import Suspended
from pyvela._workflow.events import Event
from pyvela._workflow.health import rule_of
from pyvela._workflow.state import now_iso
from pyvela.errors import NotReadyError, StepTimeout

#: The step phase (and revision phase) of a run that parked: not finished, not failed.
WAITING = "waiting"
#: The step's reason while it waits (KubeVela's word for a step waiting on health).
REASON = "Wait"


#: What a parked step waits for (``Parked.until``): an object ready (``wait_ready``, a CRD's
#: Established condition), an object gone (a delete), another app's success
#: (``depends-on-app``: its state record), or a moment (a timed ``suspend``).
READY, GONE, APP, TIME = "ready", "gone", "app", "time"


class Parked(Suspended):
    """A step's wait found what it waits for not there yet, and the runner does not block (a
    Suspended: the driver lets it through, as a suspend, rather than throw it into the step)."""

    def __init__(
        self,
        ref: ObjectRef | None,
        message: str,
        *,
        what: str | None = None,
        until: str = READY,
        wake_at: float | None = None,
    ) -> None:
        self.message = f"waiting for {what or ref}: {message}"
        super().__init__(self.message)
        #: The object whose change may end the wait (None: only time ends it).
        self.ref = ref
        self.until = until
        #: When the wait ends by itself (epoch seconds; a timed suspend's end).
        self.wake_at = wake_at
        #: Judged by its definition's or kind's rule (not one the step passed), on the control
        #: cluster: a controller can judge a newer copy of the object the same way.
        self.judgeable = until == TIME


def look(
    backend: Backend,
    ref: ObjectRef,
    rule: ReadinessRule,
    *,
    remaining: float,
    since: float | None,
    failure_grace: float | None = None,
) -> Obj:
    """One observation of ``ref``: the object when ``rule`` says ready; else Parked, or the
    failure a blocking wait would end with (the rule says failed, its Pods stuck past the
    grace since the step first started waiting, the step's deadline passed)."""
    live = backend.get(ref)
    verdict = rule(live)
    if verdict.failed:
        raise NotReadyError(
            f"{ref} will not become ready: {verdict.message}", object=str(ref), got=verdict.message
        )
    if verdict.ready:
        return live if live is not None else {}
    if remaining <= 0:
        raise StepTimeout(
            f"timed out waiting for {ref}: {verdict.message}", object=str(ref), reason="Timeout"
        )
    now = time.time()
    grace = grace_of(live, failure_grace)
    if live is not None and ref.kind in POD_OWNERS and since is not None and now - since >= grace:
        selector = selector_of(live)  # looked at only when a problem would fail the step
        pods = backend.list("v1", "Pod", ref.namespace, selector) if selector else []
        # A Pod's problem has lasted no longer than the Pod (one look cannot tell since when).
        old = [pod for pod in pods if now - _created(pod) >= grace]
        problems = [p for pod in old for p in problems_of(pod)]
        if problems:
            raise stuck(ref, problems[0], grace)
    raise Parked(ref, verdict.message or "not ready yet")


def _created(obj: Mapping[str, Any]) -> float:
    """An object's creationTimestamp in epoch seconds (now when it has none)."""
    stamp = str((obj.get("metadata") or {}).get("creationTimestamp") or "")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


def park_state(exc: Parked, *, since: float, timeout: float) -> dict[str, Any]:
    """What the step's record keeps while it waits: when it first started (its deadline
    counts from there), when that deadline is, what it waits for."""
    state: dict[str, Any] = {
        "since": since,
        "deadline": since + timeout,
        "object": None if exc.ref is None else exc.ref.to_dict(),
        "message": exc.message,
        "judgeable": exc.judgeable,
        "until": exc.until,
    }
    if exc.wake_at is not None:
        state["wake_at"] = exc.wake_at
    return state


def parked_since(step: Mapping[str, Any]) -> float | None:
    """When a step that parked first started (None: it did not park, it starts afresh)."""
    parked = step.get("parked")
    return float(parked["since"]) if isinstance(parked, Mapping) and "since" in parked else None


def next_deadline(steps: Mapping[str, Mapping[str, Any]]) -> float | None:
    """The earliest moment (epoch seconds) a waiting step is due: its deadline, or the end of
    its timer (a timed suspend), for a requeue no later."""
    due = [
        min(float(p["deadline"]), float(p.get("wake_at") or p["deadline"]))
        for st in steps.values()
        if st.get("phase") == WAITING and isinstance(p := st.get("parked"), Mapping)
    ]
    return min(due, default=None)


def wait_ready(
    executor: Any,
    action: WaitReady,
    *,
    step: str,
    timeout: float,
    cancel: threading.Event,
    since: float | None = None,
) -> Obj:
    """The executor's ``WaitReady``: block until ready (the CLI), or look once and park
    (``executor.park``, the controller); ``since``: when the step first started."""
    rule = action.rule or rule_of(executor.loaded.app, action.ref, executor.inventory.get(action.ref))
    emit = executor.events.emit
    data = {"object": action.ref.to_dict()}
    emit(Event(kind="waiting", step=step, message=f"waiting for {action.ref}", data=data))

    def progress(r: Readiness) -> None:
        message = f"{action.ref.name}: {r.message or ('ready' if r.ready else 'not ready yet')}"
        emit(Event(kind="waiting", step=step, message=message, data={**data, "ready": r.ready}))

    if getattr(executor, "park", False):
        try:
            live = look(
                executor.backend,
                action.ref,
                rule,
                remaining=timeout,
                since=since,
                failure_grace=action.failure_grace,
            )
        except Parked as exc:
            exc.judgeable = action.rule is None and executor.inventory.cluster is None
            raise
    else:
        live = executor.backend.wait(
            action.ref,
            rule,
            timeout=timeout,
            on_progress=progress,
            cancel=cancel,
            failure_grace=action.failure_grace,
        )
    emit(Event(kind="ready", step=step, message=f"{action.ref} is ready", data=data))
    return live


def waiting_message(steps: Mapping[str, Mapping[str, Any]]) -> str:
    """The revision's message while steps wait (empty when none does)."""
    waiting = [f"{n}: {st.get('message')}" for n, st in steps.items() if st.get("phase") == WAITING]
    return "; ".join(waiting)


def supersede(rev: dict[str, Any] | None) -> None:
    """End a revision still waiting when a new one starts: ``terminated``, its waiting steps
    too (it was parked, so no process runs it: the record is the whole of it)."""
    if rev is None or rev.get("phase") != WAITING:
        return
    for st in (rev.get("steps") or {}).values():
        if st.get("phase") in (WAITING, "pending", "running"):
            st.update(
                phase="skipped", reason="Superseded", message="a new revision started before it finished"
            )
    rev.update(phase="terminated", message="superseded by a new revision while it waited", finished=now_iso())
