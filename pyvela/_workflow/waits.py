"""The waits other than ``wait_ready``, parked in the controller's runs (``park=True``).

Each looks once and, when what it waits for is not there yet, raises :class:`Parked` naming
what can end the wait, so the controller wakes the run when that changes (``parking`` has
the rest: the record saved, the step's deadline kept across parks). The CLI's runs block as
before:

- a timed ``suspend(duration=...)``: its end is written in the step's journal when the
  suspend is first reached, so every later run of the step waits for the same moment (and a
  step that parks again at it does not start the duration over); the controller's requeue
  comes at that moment;
- ``depends-on-app``: the other app's state record is read once (``apps.verdict``); its
  index Secret's next change (a save of that app's run) wakes the run;
- a delete that waits for its object to go: the delete is sent, the object read once; its
  watch's DELETED event wakes the run, whose next try sends the delete again (a delete of a
  terminating object changes nothing) and finds it gone, answering as the first try did
  (it existed: kept in the journal when it parked);
- a CustomResourceDefinition applied by a component: its Established condition read once;
  the next try applies the component again (unchanged objects: no-op applies) and goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._backends.readiness import rule_for
from pyvela._core import actions as a
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.driver import StepRun, fingerprint
from pyvela._workflow.parking import APP, GONE, TIME, Parked, look


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def suspend_until(action: a.Suspend, index: int, run: StepRun) -> None:
    """A timed suspend in a run that parks: over once its end (journaled when the suspend is
    first reached) has come; else Parked until then."""
    assert action.duration is not None
    fp = fingerprint(action)
    entry = next((e for e in run.journal if e.get("index") == index and e.get("fingerprint") == fp), None)
    if entry is None:
        until = time.time() + float(action.duration)
        _remember(run, index, action, {"until": until})  # the next run waits for this end
    else:
        until = float(entry["result"]["until"])
    if time.time() >= until:
        return None
    raise Parked(None, f"it ends at {_clock(until)}", what=action.describe(), until=TIME, wake_at=until)


def parked_action(action: a.Action[Any], index: int, run: StepRun, perform: Callable[[], Any]) -> Any:
    """A timed suspend or a delete in a run that parks (``StepRun.park``)."""
    if isinstance(action, a.Suspend):
        return suspend_until(action, index, run)
    # A delete: its answer (whether the object existed) is the first try's, kept in the journal
    # when it parks, so the try that finds it gone answers what a blocking delete would have.
    fp = fingerprint(action)
    entry = next((e for e in run.journal if e.get("index") == index and e.get("fingerprint") == fp), None)
    try:
        existed = perform()  # the executor's ``delete_parked``
    except Parked:
        if entry is None:
            _remember(run, index, action, {"existed": True})
        raise
    return bool(entry["result"]["existed"]) if entry is not None else existed


def _remember(run: StepRun, index: int, action: a.Action[Any], result: dict[str, Any]) -> None:
    run.journal[:] = [e for e in run.journal if int(e.get("index", -1)) < index]
    entry = {
        "index": index,
        "action": action.describe(),
        "fingerprint": fingerprint(action),
        "result": result,
    }
    run.journal.append(entry)
    run.on_journal(list(run.journal))  # saved before it parks: the next run finds it


def delete_parked(backend: Backend, ref: ObjectRef, *, judgeable: bool) -> bool:
    """Delete ``ref`` without waiting; whether it existed when gone, else Parked until its
    watch says it went (``judgeable``: on the control cluster, whose watch a controller has)."""
    existed = backend.delete(ref, wait=False)
    if not existed or backend.get(ref) is None:
        return existed
    exc = Parked(ref, "it is being deleted (a finalizer or its dependents hold it)", until=GONE)
    exc.judgeable = judgeable
    raise exc


def crd_established(backend: Backend, live: Obj, *, remaining: float) -> None:
    """A CRD a component applied: established, or Parked until its condition says so (failed
    as the blocking wait would be when the step's deadline passed)."""
    ref = ObjectRef.of(live)
    look(backend, ref, rule_for(ref.api_version, ref.kind), remaining=remaining, since=None)


def app_parked(where: str, ref: ObjectRef, message: str) -> Parked:
    """``depends-on-app``'s wait for another app, not succeeded yet (``message``: its verdict)."""
    exc = Parked(ref, message.removeprefix(f"app {where} "), what=f"app {where}", until=APP)
    exc.judgeable = True  # its record is a Secret of the control cluster, which the controller watches
    return exc
