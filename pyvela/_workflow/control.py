"""The control channel that lets another process suspend or terminate a running deploy (or
changes the record itself when no deploy runs).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pyvela._backends.protocol import Backend, Readiness
from pyvela._core.objects import Obj
from pyvela._workflow.engine import DONE, FAILED, PENDING, SKIPPED, Engine
from pyvela._workflow.state import AppLock, control_ref, now_iso
from pyvela.errors import PyvelaError

if TYPE_CHECKING:
    from pyvela._workflow.view import AppView


class ControlWatcher:
    """Waits (a watch, not a poll) for suspend/terminate requests addressed to this run."""

    def __init__(self, backend: Backend, app: str, namespace: str, engine: Engine) -> None:
        self.backend = backend
        self.ref = control_ref(app, namespace)
        self.engine = engine
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="pyvela-control", daemon=True)

    def start(self) -> None:
        self.backend.delete(self.ref, wait=False)  # a request left by an earlier run is stale
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        def requested(obj: Obj | None) -> Readiness:
            action = ((obj or {}).get("data") or {}).get("action")
            return Readiness(ready=bool(action), message=str(action or ""))

        while not self.stop_event.is_set():
            try:
                live = self.backend.wait(self.ref, requested, timeout=3600.0, cancel=self.stop_event)
            except PyvelaError:
                # A failing cluster must not make this thread spin; the run itself reports errors.
                if self.stop_event.wait(1.0):
                    return
                continue
            action = (live.get("data") or {}).get("action")
            if action == "terminate":
                self.engine.cancel.set()
            elif action == "suspend":
                self.engine.suspend_requested.set()
            # Removed once taken, so a request that is gone has reached the engine.
            self.backend.delete(self.ref, wait=False)


def request_control(view: AppView, action: str) -> tuple[dict[str, Any], str]:
    """Ask for ``suspend`` or ``terminate``: (the latest revision, what was done).

    A deploy holding the app's lock is sent the request through the control ConfigMap (it
    watches it); otherwise the record itself is changed, under the lock.
    """
    backend, store = view.backend, view.store
    lock = AppLock(backend, store.app, store.namespace)
    try:
        lock.acquire(wait=0.0)
    except PyvelaError:
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": control_ref(store.app, store.namespace).name, "namespace": store.namespace},
            "data": {"action": action, "at": now_iso()},
        }
        backend.apply(cm)
        return view.current()[1], f"{action} requested from the running deploy"
    try:
        record, rev = view.current()
        if rev["phase"] in ("succeeded", "failed", "terminated") and action == "suspend":
            return rev, f"nothing to suspend: the workflow is {rev['phase']}"
        if action == "suspend":
            rev["phase"] = "suspended"
        else:
            for st in rev["steps"].values():
                if st["phase"] not in DONE:
                    st.update(
                        phase=SKIPPED if st["phase"] == PENDING else FAILED,
                        reason="Terminate",
                        message="the workflow was terminated",  # not a gate's "waiting for resume"
                    )
            rev["phase"], rev["finished"] = "terminated", now_iso()
        store.save(record)
        return rev, f"workflow {rev['phase']}"
    finally:
        lock.release()
