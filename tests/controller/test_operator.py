"""The controller's wake-ups, without kopf running: which owned-object events wake which
app, and a failing app woken early only by its own spec."""

from __future__ import annotations

import asyncio
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
