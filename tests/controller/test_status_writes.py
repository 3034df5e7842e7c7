"""The operator's status writes, without kopf running: one write per reconcile that changed
the status (never two while kopf's body still shows the status our write replaced), none for
a no-change reconcile; the writes on a pool of their own, never behind running deploys; a
write that fails is logged and made again by the next reconcile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from pyvela._controller.kubevela import KUBEVELA
from pyvela._controller.operator import Controller
from pyvela._controller.reconciler import Outcome
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.results import RunResult
from pyvela.errors import ConflictError


class StatusServer:
    """A backend that keeps each object's status as a status merge patch leaves it (the
    server's answer is the patched object), and can refuse."""

    description = "status server"

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self.refuse = 0
        self.lock = threading.Lock()

    def merge_patch(self, ref: ObjectRef, patch: Mapping[str, Any], *, status: bool = False) -> Obj:
        assert status
        with self.lock:
            if self.refuse:
                self.refuse -= 1
                raise ConflictError(f"{ref}: the object has been modified")
            self.writes.append((ref.name, dict(patch["status"])))
            old = self.statuses.setdefault(ref.name, {})
            for k, v in patch["status"].items():
                if v is None:
                    old.pop(k, None)
                else:
                    old[k] = v
            return {"metadata": {"name": ref.name}, "status": dict(old)}


def _result(phase: str = "succeeded") -> RunResult:
    return RunResult(app="web", namespace="ns", target="t", revision=1, hash="h", phase=phase)


class Reconciler:
    """Answers the statuses it is given, one per reconcile (the last one again after)."""

    def __init__(self, backend: StatusServer, statuses: list[dict[str, Any]]) -> None:
        self.backend = backend
        self.statuses = statuses

    def reconcile(self, body: Mapping[str, Any]) -> Outcome:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Outcome(status=dict(status), result=_result())


def _body(name: str = "web") -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": name, "generation": 1}}


def _loop(c: Controller, body: dict[str, Any], reconciles: int) -> None:
    """``reconciles`` turns of the app's loop; ``body`` is never updated, as kopf's lags."""
    turns = [0]

    async def sleep(key: str, delay: float, stopped: Any, *, failing: bool) -> None:
        turns[0] += 1
        if turns[0] == reconciles:
            raise asyncio.CancelledError

    c._sleep = sleep  # type: ignore[method-assign]
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(c.app_loop(body, False))


READY = {"phase": "succeeded", "revision": 1, "ready": "2/2", "message": ""}


def test_one_write_per_change_while_kopfs_body_still_shows_the_old_status() -> None:
    server = StatusServer()
    c = Controller(Reconciler(server, [READY]), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
    _loop(c, _body(), reconciles=4)  # the deploy, then no-ops woken by its objects and resyncs
    assert len(server.writes) == 1, server.writes
    assert server.statuses["web"]["ready"] == "2/2"


def test_a_later_change_is_written_and_an_arrived_body_is_believed() -> None:
    server = StatusServer()
    later = READY | {"ready": "1/2"}
    c = Controller(Reconciler(server, [READY, READY, later, later]), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
    _loop(c, _body(), reconciles=5)
    assert [w["ready"] for _n, w in server.writes] == ["2/2", "1/2"]
    # The body now shows what the server has (our write arrived): compared with as it is.
    body = _body() | {"status": dict(server.statuses["web"])}
    c2 = Controller(Reconciler(server, [later]), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
    c2.written = c.written
    _loop(c2, body, reconciles=2)
    assert len(server.writes) == 2


def test_kubevela_conditions_are_not_rewritten_while_the_body_lags() -> None:
    """KubeVela's shape reads the old conditions (their lastTransitionTime): from the status
    written, not from the stale body, or each reconcile would write new times."""
    server = StatusServer()
    view = {"app": "web", "phase": "succeeded", "revision": 1, "hash": "h", "steps": {}, "objects": []}

    class Kv(Reconciler):
        def reconcile(self, body: Mapping[str, Any]) -> Outcome:
            return Outcome(status=dict(READY), result=_result(), view=view)

    c = Controller(Kv(server, [READY]), resync=300, debounce=0.01, workers=1, served=KUBEVELA)  # type: ignore[arg-type]
    body = _body() | {"apiVersion": "core.oam.dev/v1beta1", "kind": "Application", "spec": {"components": []}}
    _loop(c, body, reconciles=3)
    assert len(server.writes) == 1


def test_a_failed_write_is_logged_and_made_again_by_the_next_reconcile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = StatusServer()
    server.refuse = 1
    c = Controller(Reconciler(server, [READY]), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="pyvela.controller"):
        _loop(c, _body(), reconciles=3)
    assert "ns/web: status not written" in caplog.text and "modified" in caplog.text
    assert len(server.writes) == 1  # the second reconcile wrote it, the third had nothing to write


def test_a_status_write_does_not_wait_for_running_deploys() -> None:
    """With the one reconcile worker held by a long deploy (queued behind a quick reconcile),
    the quick app's status is written at once, on the status pool, not after the deploy."""
    server = StatusServer()
    release = threading.Event()
    deploying = threading.Event()

    class Slow(Reconciler):
        def reconcile(self, body: Mapping[str, Any]) -> Outcome:
            if body["metadata"]["name"] == "slow":
                deploying.set()
                release.wait(20)
            else:
                release.wait(0.3)  # slow's deploy is queued behind this meanwhile
            return Outcome(status=dict(READY), result=_result())

    c = Controller(Slow(server, [READY]), resync=300, debounce=0.01, workers=1)  # type: ignore[arg-type]

    async def run() -> tuple[bool, list[str]]:
        written = asyncio.Event()

        async def sleep(key: str, delay: float, stopped: Any, *, failing: bool) -> None:
            if key == "ns/fast":
                written.set()
            await asyncio.sleep(30)

        c._sleep = sleep  # type: ignore[method-assign]
        tasks = [asyncio.create_task(c.app_loop(_body(name), False)) for name in ("fast", "slow")]
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(written.wait(), 5)
            # Under load the worker thread may pick up slow's deploy only after fast's write.
            await asyncio.to_thread(deploying.wait, 5)
            return deploying.is_set() and not release.is_set(), [n for n, _w in server.writes]
        finally:
            release.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    held, writes = asyncio.run(run())
    assert held and writes == ["fast"]  # written while slow's deploy held the worker
