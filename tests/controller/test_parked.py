"""A reconcile that does not wait (the controller's ``park=True``): on the sandbox, the first
reconcile of a new app applies its objects and returns with the app ``waiting`` before its
Deployment is ready; the status says which step waits for what; the next reconcile once it
is ready ends ``succeeded``. The operator: a parked app is woken by its objects' status
changes (which otherwise wake nobody) and requeued soon, doubling, never past a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._cli.centres import config_centre_for
from pyvela._controller.operator import Controller
from pyvela._controller.reconciler import Outcome, Reconciler
from pyvela._controller.waiting import requeue_after
from pyvela._core.objects import ObjectRef
from pyvela._workflow.results import RunResult
from tests.controller.test_operator import _owned
from tests.controller.test_reconciler import DEPLOYMENT, body


def test_a_reconcile_returns_before_readiness_and_the_next_one_finishes(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=2.0))
    reconciler = Reconciler(
        box, centre_for=config_centre_for, workdir=tmp_path / "work", wait_lock=5, park=True
    )
    try:
        first = reconciler.reconcile(body())
        assert first.result.phase == "waiting", first.result.to_dict()
        live = box.get(DEPLOYMENT)
        assert live is not None and not (live.get("status") or {}).get("readyReplicas")  # not ready yet
        status = first.status
        assert status["phase"] == "waiting"
        assert status["steps"]["web"]["phase"] == "waiting"
        assert "waiting for Deployment team/web" in status["steps"]["web"]["message"]
        assert "waiting for Deployment team/web" in status["message"]
        assert status["ready"].endswith("/2") and status["ready"] != "2/2"

        deadline = time.monotonic() + 30
        while True:
            again = reconciler.reconcile(body())
            if again.result.phase != "waiting" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert again.result.phase == "succeeded", again.result.to_dict()
        assert again.status["ready"] == "2/2" and again.result.revision == 1
        assert "parked" not in again.result.steps["web"]
        # The state record's Events: the start and the end, none per park.
        state = ObjectRef("v1", "Secret", "team", "pyvela-app.web")
        reasons = [
            e["reason"]
            for e in box.list("v1", "Event", "team")
            if e["involvedObject"].get("name") == state.name
        ]
        assert reasons == ["RevisionStarted", "RevisionSucceeded"]
    finally:
        box.close()


def test_a_parked_apps_objects_wake_it_on_a_status_change() -> None:
    async def run() -> list[bool]:
        c = Controller(None, resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
        c._wakes["ns/web"] = asyncio.Event()
        seen = []
        c.owned_changed(_owned("1"), None)
        c.owned_changed(_owned("2"), "MODIFIED")  # only the status: a settled app sleeps on
        seen.append(c._wakes["ns/web"].is_set())
        c._parked.add("ns/web")
        c.owned_changed(_owned("3"), "MODIFIED")  # only the status: what a parked run waits for
        seen.append(c._wakes["ns/web"].is_set())
        return seen

    assert asyncio.run(run()) == [False, True]


def test_a_parked_app_is_requeued_soon_doubling_then_resyncs_once_done() -> None:
    phases = ["waiting", "waiting", "waiting", "succeeded"]
    sleeps: list[float] = []

    class Parking:
        def reconcile(self, _body: dict[str, Any]) -> Outcome:
            phase = phases.pop(0)
            result = RunResult(app="web", namespace="ns", target="t", revision=1, hash="h", phase=phase)
            return Outcome(status={"phase": phase}, result=result)

    c = Controller(Parking(), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
    c.write_status = lambda *_: None  # type: ignore[method-assign]
    parked: list[bool] = []

    async def sleep(key: str, delay: float, stopped: Any, *, failing: bool) -> None:
        sleeps.append(delay)
        parked.append(key in c._parked)
        if len(sleeps) == 4:
            raise asyncio.CancelledError

    c._sleep = sleep  # type: ignore[method-assign]
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(c.app_loop({"metadata": {"namespace": "ns", "name": "web", "generation": 1}}, False))
    assert sleeps == [5.0, 10.0, 20.0, 300]
    assert parked == [True, True, True, False]


def test_the_requeue_comes_no_later_than_a_waiting_steps_deadline() -> None:
    soon = {"deploy": {"phase": "waiting", "parked": {"since": time.time(), "deadline": time.time() + 3}}}
    assert 2.0 < requeue_after(6, soon, 300) <= 3.6
    assert requeue_after(6, {}, 300) == 60.0 and requeue_after(6, {}, 30) == 30.0


def test_a_parked_run_whose_objects_the_watch_shows_unready_is_not_run_again(tmp_path: Path) -> None:
    """Woken (by a requeue, or a change that does not make it ready), a parked app whose
    waited-for objects are still not ready by the watch's copies is answered from the record:
    no Lease, no apply, no save; a copy that is ready runs it again, to the end."""
    box = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=30.0))
    reconciler = Reconciler(
        box, centre_for=config_centre_for, workdir=tmp_path / "work", wait_lock=5, park=True
    )
    writes: list[str] = []
    for name in ("apply", "create", "replace", "delete", "merge_patch"):
        method = getattr(box, name)

        def counted(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
            writes.append(_name)
            return _method(*args, **kwargs)

        setattr(box, name, counted)
    try:
        assert reconciler.reconcile(body()).result.phase == "waiting"
        live = box.get(DEPLOYMENT)
        assert live is not None
        reconciler.cache.put(live)  # what the watch delivered: not ready
        writes.clear()
        again = reconciler.reconcile(body())
        assert again.result.phase == "waiting" and again.status["phase"] == "waiting"
        assert "waiting for Deployment team/web" in again.status["steps"]["web"]["message"]
        assert writes == []  # answered from the record: nothing taken, applied or saved

        ready = dict(live) | {
            "status": {
                "observedGeneration": live["metadata"].get("generation", 1),
                "replicas": 1,
                "updatedReplicas": 1,
                "readyReplicas": 1,
                "availableReplicas": 1,
                "conditions": [{"type": "Available", "status": "True"}],
            }
        }
        reconciler.cache.put(ready)  # the watch shows it ready: the run goes on (and looks itself)
        box.merge_patch(DEPLOYMENT, {"status": ready["status"]}, status=True)
        done = reconciler.reconcile(body())
        assert done.result.phase == "succeeded", done.result.to_dict()
        assert writes  # it ran: Lease, record
    finally:
        box.close()


def test_a_step_message_gone_once_it_succeeded_is_removed_by_the_status_patch() -> None:
    """A merge patch keeps what it does not name: the waiting step's message would stay beside
    ``succeeded``, and every resync would find the status changed and write it again."""
    from pyvela._controller.served import pyvela_changed, pyvela_patch

    old = {"phase": "waiting", "steps": {"web": {"phase": "waiting", "message": "waiting for Deployment"}}}
    new = {"phase": "succeeded", "steps": {"web": {"phase": "succeeded"}}}
    patch = pyvela_patch(old, {k: dict(v) if isinstance(v, dict) else v for k, v in new.items()})
    assert patch["steps"] == {"web": {"message": None, "phase": "succeeded"}}
    server = {"phase": "succeeded", "steps": {"web": {"phase": "succeeded"}}}  # nulls removed
    assert not pyvela_changed(server, new)
