"""A controller's first reconcile of an app after a restart (nothing in memory but what its
watches listed): the record's index is the one request; its parts come from the Secret
watch when the watch holds the index at the version just read, else from the server."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._cli.centres import config_centre_for
from pyvela._controller.cache import WatchCache
from pyvela._controller.operator import Controller
from pyvela._controller.reconciler import Reconciler
from pyvela._core.objects import LABEL_MANAGED_BY, MANAGER, ObjectRef
from pyvela._workflow.state import state_ref

from .test_cache import NS, Counting, body

INDEX = state_ref("shop", NS)


def listed(box: Sandbox) -> WatchCache:
    """What the controller's label watches list at its start: the owned objects and Secrets."""
    cache = WatchCache()
    for api, kind in (("apps/v1", "Deployment"), ("v1", "Service")):
        for obj in box.list(api, kind, NS, {LABEL_MANAGED_BY: MANAGER}):
            cache.put(obj, listed=True)
    for obj in box.list("v1", "Secret", NS, {LABEL_MANAGED_BY: MANAGER}):
        cache.put_state(obj, listed=True)  # as the operator does with a state record's
    return cache


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    box = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.1))
    first = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "w", wait_lock=5).reconcile(
        body()
    )
    assert first.result.phase == "succeeded" and first.status["ready"] == "6/6"
    return box


def _restarted(box: Sandbox, cache: WatchCache, tmp_path: Path) -> tuple[Reconciler, Counting]:
    counting = Counting(box)
    reconciler = Reconciler(
        counting, centre_for=config_centre_for, workdir=tmp_path / "w2", wait_lock=5, cache=cache
    )
    return reconciler, counting


def test_after_a_restart_the_first_reconcile_reads_the_index_alone(box: Sandbox, tmp_path: Path) -> None:
    reconciler, counting = _restarted(box, listed(box), tmp_path)
    cold = reconciler.reconcile(body())
    assert cold.result.up_to_date and cold.corrected == () and cold.status["ready"] == "6/6"
    assert counting.got == [f"Secret/{INDEX.name}"] and sum(counting.calls.values()) == 1


def test_parts_the_watch_may_not_have_caught_up_with_are_read_from_the_server(
    box: Sandbox, tmp_path: Path
) -> None:
    cache = listed(box)
    stale = copy.deepcopy(cache.get(INDEX))
    assert stale is not None
    stale["metadata"]["resourceVersion"] = "1"  # the watch is behind the index just read
    cache.put(stale)
    reconciler, counting = _restarted(box, cache, tmp_path)
    assert reconciler.reconcile(body()).result.up_to_date
    parts = [g for g in counting.got if g.startswith(f"Secret/{INDEX.name}.")]
    assert len(parts) >= 2 and counting.writes == 0  # read from the server, not the watch
    counting.reset()
    assert reconciler.reconcile(body()).result.up_to_date  # kept under the index's version
    assert counting.got == [f"Secret/{INDEX.name}"]


def test_a_state_records_save_wakes_no_app_but_feeds_the_watch_cache(box: Sandbox) -> None:
    cache = WatchCache()

    class R:
        pass

    reconciler: Any = R()
    reconciler.cache = cache
    c = Controller(reconciler, resync=300, debounce=0.01, workers=1)

    async def run() -> bool:
        c._wakes[f"{NS}/shop"] = asyncio.Event()
        index = box.get(INDEX)
        assert index is not None
        c.owned_changed(index, "MODIFIED")
        assert cache.get(INDEX) is not None
        c.owned_changed(index, "DELETED")
        assert cache.get(INDEX) is None
        return c._wakes[f"{NS}/shop"].is_set()

    assert asyncio.run(run()) is False


def test_the_watch_cache_keeps_the_newest_revisions_parts_alone(box: Sandbox, tmp_path: Path) -> None:
    second = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "w", wait_lock=5)
    assert second.reconcile(body(image="nginx:1.15")).result.revision == 2
    parts = [o for o in box.list("v1", "Secret", NS, {LABEL_MANAGED_BY: MANAGER}) if o["type"] != "Opaque"]
    older = [o for o in parts if o["metadata"]["name"].startswith(f"{INDEX.name}.1.")]
    newer = [o for o in parts if o["metadata"]["name"].startswith(f"{INDEX.name}.2.")]
    assert older and newer
    cache = WatchCache()
    for obj in [*newer, *older]:  # a listing's order is not the revisions'
        cache.put_state(obj, listed=True)
    assert all(cache.get(ObjectRef.of(o)) is None for o in older)
    assert all(cache.get(ObjectRef.of(o)) is not None for o in newer)
    for obj in older:
        cache.put_state(obj)
    cache.put_state(box.get(INDEX) or {})
    assert all(cache.get(ObjectRef.of(o)) is None for o in older) and cache.get(INDEX) is not None
    reconciler, counting = _restarted(box, listed(box), tmp_path)
    assert reconciler.reconcile(body(image="nginx:1.15")).result.up_to_date
    assert counting.got == [f"Secret/{INDEX.name}"]
