"""Helpers of the lifecycle: live summaries for ``status``, and the control channel that
lets another process suspend or terminate a running deploy.
"""

from __future__ import annotations

import threading
from typing import Any

from pyvela._backends.protocol import Backend, Readiness
from pyvela._core.objects import Obj
from pyvela._workflow.engine import Engine
from pyvela._workflow.state import control_ref
from pyvela.errors import PyvelaError


def summary(live: Obj | None) -> dict[str, Any]:
    """The live fields a status reader wants: clusterIP, images and env of workloads."""
    if live is None:
        return {}
    out: dict[str, Any] = {}
    spec = live.get("spec") or {}
    if live.get("kind") == "Service":
        out["clusterIP"] = spec.get("clusterIP")
    template = (spec.get("template") or {}).get("spec") or {}
    containers = template.get("containers") or []
    if containers:
        out["containers"] = {
            c.get("name"): {
                "image": c.get("image"),
                "env": {v["name"]: v["value"] for v in c.get("env") or [] if "value" in v},
            }
            for c in containers
        }
    return out


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
            self.backend.delete(self.ref, wait=False)
            if action == "terminate":
                self.engine.cancel.set()
            elif action == "suspend":
                self.engine.suspend_requested.set()
