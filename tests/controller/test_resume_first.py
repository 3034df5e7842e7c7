"""The controller's work queue and wake-ups for parked runs: a parked run's resume is taken
before queued first deploys (first in, first out among equals); an app parked on another
app's record, or on an object to go, is woken by that object's watch event (a state record's
save wakes nobody else)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from pyvela._controller.operator import Controller
from pyvela._controller.workqueue import NORMAL, RESUME, PriorityPool
from pyvela._workflow.state import STATE_TYPE


def test_the_pool_takes_resumes_first_then_first_in_first_out() -> None:
    pool = PriorityPool(max_workers=1, thread_name_prefix="t")
    gate = threading.Event()
    order: list[str] = []
    try:
        started = threading.Event()

        def hold() -> None:
            started.set()
            gate.wait(10)

        blocker = pool.submit(hold)
        assert started.wait(10)
        futures = [pool.submit_at(NORMAL, order.append, f"deploy-{i}") for i in range(3)]
        futures.append(pool.submit_at(RESUME, order.append, "resume-a"))
        futures.append(pool.submit_at(NORMAL, order.append, "deploy-3"))
        futures.append(pool.submit_at(RESUME, order.append, "resume-b"))
        assert pool.queued() == 6
        gate.set()
        blocker.result(10)
        for f in futures:
            f.result(10)
        assert order == ["resume-a", "resume-b", "deploy-0", "deploy-1", "deploy-2", "deploy-3"]
    finally:
        pool.shutdown(wait=True)


def test_the_pool_runs_up_to_its_workers_at_once_and_reports_errors() -> None:
    pool = PriorityPool(max_workers=3)
    running, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1

    try:
        for f in [pool.submit(work) for _ in range(6)]:
            f.result(10)
        assert peak[0] == 3
        failed = pool.submit(lambda: 1 / 0)
        assert isinstance(failed.exception(10), ZeroDivisionError)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_a_parked_apps_reconcile_goes_ahead_of_queued_ones() -> None:
    """Through the controller's own ``_blocking``, as an app's loop submits its reconcile."""

    async def run() -> list[str]:
        c = Controller(None, workers=1)  # type: ignore[arg-type]
        gate = threading.Event()
        order: list[str] = []
        blocked = asyncio.ensure_future(c._blocking(gate.wait, 10))
        await asyncio.sleep(0.05)
        queued = [asyncio.ensure_future(c._blocking(order.append, f"first-{i}")) for i in range(3)]
        queued.append(asyncio.ensure_future(c._blocking(order.append, "resume", resume=True)))
        await asyncio.sleep(0.05)
        assert c._queued == 4
        gate.set()
        await asyncio.gather(blocked, *queued)
        c.pool.shutdown(wait=False)
        return order

    assert asyncio.run(run()) == ["resume", "first-0", "first-1", "first-2"]


def _record(app: str, rv: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": STATE_TYPE,
        "metadata": {
            "name": f"pyvela-app.{app}",
            "namespace": "ns",
            "uid": f"u-{app}",
            "resourceVersion": rv,
            "labels": {"app.kubernetes.io/managed-by": "pyvela"},
        },
    }


def test_an_app_parked_on_another_app_is_woken_by_its_records_change() -> None:
    async def run() -> list[bool]:
        c = Controller(None, debounce=0.01, workers=1)  # type: ignore[arg-type]
        for key in ("ns/front", "ns/other"):
            c._wakes[key] = asyncio.Event()
        steps = {
            "need": {
                "phase": "waiting",
                "parked": {
                    "until": "app",
                    "object": {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "namespace": "ns",
                        "name": "pyvela-app.base",
                    },
                },
            }
        }
        c.waiters.parked("ns/front", steps)
        seen = []
        c.owned_changed(_record("unrelated", "1"), "MODIFIED")
        seen.append(c._wakes["ns/front"].is_set())
        c.owned_changed(_record("base", "2"), "MODIFIED")  # base's run saved: front looks again
        seen += [c._wakes["ns/front"].is_set(), c._wakes["ns/other"].is_set()]
        c._wakes["ns/front"].clear()
        c.waiters.parked("ns/front", {})  # no longer parked: base's saves wake nobody
        c.owned_changed(_record("base", "3"), "MODIFIED")
        seen.append(c._wakes["ns/front"].is_set())
        c.pool.shutdown(wait=False)
        return seen

    assert asyncio.run(run()) == [False, True, False, False]


def test_an_app_parked_on_a_delete_is_woken_by_the_objects_deleted_event() -> None:
    async def run() -> bool:
        c = Controller(None, debounce=0.01, workers=1)  # type: ignore[arg-type]
        c._wakes["ns/cleaner"] = asyncio.Event()
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "ns", "name": "old"}
        c.waiters.parked(
            "ns/cleaner", {"clean": {"phase": "waiting", "parked": {"until": "gone", "object": ref}}}
        )
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "old", "namespace": "ns", "uid": "u1"},
        }
        c.owned_changed(body, "DELETED")  # no app label: found by the waiters alone
        c.pool.shutdown(wait=False)
        return c._wakes["ns/cleaner"].is_set()

    assert asyncio.run(run())
