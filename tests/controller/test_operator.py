"""The controller's wake-ups, without kopf running: which owned-object events wake which
app, and a failing app woken early only by its own spec."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from pyvela._controller.operator import Controller


def _controller() -> Controller:
    return Controller(None, resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]


def _owned(rv: str, image: str = "a:1", app: str = "web") -> dict[str, Any]:
    return {
        "metadata": {
            "uid": "u1",
            "namespace": "ns",
            "resourceVersion": rv,
            "labels": {"app.oam.dev/name": app},
        },
        "spec": {"image": image},
        "status": {"rv": rv},
    }


def test_owned_events_wake_their_app_once_per_real_change() -> None:
    async def run() -> list[bool]:
        c = _controller()
        c._wakes["ns/web"] = asyncio.Event()
        seen = []
        c.owned_changed(_owned("1"), None)  # the watch's first listing: the loop reconciles anyway
        seen.append(c._wakes["ns/web"].is_set())
        c.owned_changed(_owned("2"), "MODIFIED")  # only the status moved
        seen.append(c._wakes["ns/web"].is_set())
        c.owned_changed(_owned("3", image="a:2"), "MODIFIED")  # someone edited it
        seen.append(c._wakes["ns/web"].is_set() and c._reasons["ns/web"] == "drift")
        c._wakes["ns/web"].clear()
        c.owned_changed(_owned("3", image="a:2"), "DELETED")
        seen.append(c._wakes["ns/web"].is_set())
        return seen

    assert asyncio.run(run()) == [False, False, True, True]


def test_a_module_apps_objects_wake_the_resource_they_belong_to() -> None:
    async def run() -> bool:
        c = _controller()
        c._wakes["ns/seed-module"] = asyncio.Event()
        c._owner[("ns", "lixiang-app")] = "ns/seed-module"
        c.owned_changed(_owned("1", app="lixiang-app"), "DELETED")
        return c._wakes["ns/seed-module"].is_set()

    assert asyncio.run(run())


def test_a_failing_app_sleeps_through_drift_but_not_a_spec_change() -> None:
    async def run(reason: str) -> float:
        c = _controller()
        c._wakes["ns/web"] = asyncio.Event()
        started = time.monotonic()

        async def poke() -> None:
            await asyncio.sleep(0.05)
            c.wake("ns/web", reason)

        task = asyncio.create_task(poke())
        await c._sleep("ns/web", 1.5, False, failing=True)
        await task
        return time.monotonic() - started

    assert asyncio.run(run("spec")) < 1.0
    assert asyncio.run(run("drift")) >= 1.4  # the backoff holds: a poison app's objects cannot spin it


def test_a_failed_run_is_retried_with_the_backoff_not_at_the_resync() -> None:
    """A deploy that returns failed (a step's timeout, a refused apply) is a failure as much as
    a reconcile that raises: retried after 5 s, 10 s... (its re-run resumes), a success resets."""
    from pyvela._controller.reconciler import Outcome
    from pyvela._workflow.results import RunResult

    phases = ["failed", "failed", "succeeded"]
    sleeps: list[tuple[float, bool]] = []
    written: list[dict[str, Any]] = []

    class Reconciler:
        def reconcile(self, body: dict[str, Any]) -> Outcome:
            phase = phases.pop(0)
            result = RunResult(app="web", namespace="ns", target="t", revision=1, hash="h", phase=phase)
            return Outcome(status={"phase": phase, "message": f"run {phase}"}, result=result)

    c = Controller(Reconciler(), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
    c.write_status = lambda body, status, *_: written.append(status)  # type: ignore[method-assign]

    async def sleep(key: str, delay: float, stopped: Any, *, failing: bool) -> None:
        sleeps.append((delay, failing))
        if len(sleeps) == 3:
            raise asyncio.CancelledError

    c._sleep = sleep  # type: ignore[method-assign]
    body = {"metadata": {"namespace": "ns", "name": "web", "generation": 1}}
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(c.app_loop(body, False))
    assert sleeps == [(5.0, True), (10.0, True), (300, False)]
    assert [s["failures"] for s in written] == [1, 2, 0]
    assert written[0]["message"] == "run failed (retry in 5s)"
