"""Waiting for another pyvela app (the ``depends-on-app`` step): its state record says how it went.

There is no Application object to read as in KubeVela: an app's progress is its state record
(``state``), so the wait watches the record's index Secret and judges its latest revision.
"""

from __future__ import annotations

import threading
from typing import Any

from pyvela._backends.protocol import Backend, Readiness
from pyvela._core import actions as a
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.state import decode, state_ref
from pyvela._workflow.waits import app_parked
from pyvela.errors import NotReadyError, StepError, StepTimeout

#: Phases after which waiting longer does not help: someone must deploy the app again.
_FINAL = {"failed": "failed", "terminated": "was terminated"}


def verdict(live: Obj | None, app: str, namespace: str, seen: dict[str, Any] | None = None) -> Readiness:
    """How ``app``'s state record index ``live`` says it went: ready once its latest revision
    succeeded, failed when it failed, was terminated or the record is gone (``seen`` gets the
    latest revision's number and phase)."""
    where = f"{namespace}/{app}"
    if live is None:
        return Readiness(False, f"app {where} was deleted", failed=True)
    revisions = decode(live, app, state_ref(app, namespace)).get("revisions") or []
    if not revisions:
        return Readiness(False, f"app {where} has no revision yet")
    latest = revisions[-1]
    if seen is not None:
        seen.update(revision=latest.get("number"), phase=latest.get("phase"))
    phase = str(latest.get("phase") or "")
    says = f"app {where} revision {latest.get('number')}"
    if phase == "succeeded":
        return Readiness(True, f"{says} succeeded")
    if phase in _FINAL:
        why = latest.get("message") or ""
        return Readiness(False, f"{says} {_FINAL[phase]}" + (f": {why}" if why else ""), failed=True)
    return Readiness(False, f"{says} is {phase or 'not started'}")


def wait_app(
    backend: Backend,
    action: a.WaitApp,
    *,
    step: str,
    events: EventSink,
    timeout: float,
    cancel: threading.Event,
    park: bool = False,
) -> dict[str, Any]:
    """Block until ``action.app``'s latest revision succeeded; its name, namespace, revision, phase.
    ``park`` (the controller's runs): look once, and park until its record changes.

    Raises:
        StepError: the app was never deployed in that namespace (nothing would ever succeed).
        NotReadyError: its latest revision failed or was terminated.
        StateError: the Secret is not a pyvela state record of that app.
        StepTimeout: it did not succeed in ``timeout`` seconds.
        Parked: ``park``, and it has not succeeded yet.
    """
    ref = state_ref(action.app, action.namespace)
    where = f"{action.namespace}/{action.app}"
    first = backend.get(ref)
    if first is None:
        raise StepError(
            f"app {where} is not deployed: there is no pyvela state record {ref.name} in namespace "
            f"{action.namespace}",
            step=step,
            reason="AppNotFound",
            expected=f"a pyvela app named {action.app!r} deployed in namespace {action.namespace!r}",
            got="no such app",
            fix="deploy that app first (`pyvela deploy <its file>`), or correct the step's name/namespace",
        )
    seen: dict[str, Any] = {}

    def judge(live: Obj | None) -> Readiness:
        return verdict(live, action.app, action.namespace, seen)

    def progress(r: Readiness) -> None:
        events.emit(Event(kind="waiting", step=step, message=r.message, data={"object": ref.to_dict()}))

    try:
        if park:
            _look(judge(first), timeout, where, ref)
        else:
            backend.wait(ref, judge, timeout=timeout, on_progress=progress, cancel=cancel)
    except NotReadyError as exc:
        exc.fix = f"deploy app {where} again until it succeeds, then run this workflow again"
        raise
    events.emit(Event(kind="ready", step=step, message=f"app {where} succeeded"))
    return {"name": action.app, "namespace": action.namespace, **seen}


def _look(r: Readiness, remaining: float, where: str, ref: ObjectRef) -> None:
    """One look's verdict, as the blocking wait would end (or Parked: not succeeded yet)."""
    if r.ready:
        return
    if r.failed:
        raise NotReadyError(f"{ref} will not become ready: {r.message}", object=str(ref), got=r.message)
    if remaining <= 0:
        raise StepTimeout(
            f"timed out waiting for app {where}: {r.message}", object=str(ref), reason="Timeout"
        )
    raise app_parked(where, ref, r.message)
