"""Kubernetes Events pyvela records on an app's state record, so ``kubectl get events`` and
``kubectl describe secret pyvela-app.<app>`` show each revision's start, success or failure.

Written as core/v1 Events (what ``kubectl get events`` lists; the API server serves the
same objects as events.k8s.io/v1) on the index Secret, by the ``pyvela`` component, as
client-go's recorder writes them. Like that recorder, it never fails the run: an Event
the cluster refuses (RBAC, a quota) is dropped.
"""

from __future__ import annotations

import contextlib
import socket
import time
from datetime import UTC, datetime
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, Obj
from pyvela._workflow.events import Event
from pyvela._workflow.state import state_ref
from pyvela.errors import PyvelaError

COMPONENT = "pyvela"
#: Event reason and type per phase a run ends in.
FINISHED = {
    "succeeded": ("RevisionSucceeded", "Normal"),
    "failed": ("RevisionFailed", "Warning"),
    "terminated": ("RevisionTerminated", "Warning"),
    "suspended": ("RevisionSuspended", "Normal"),
}
#: Events pyvela writes on its state objects, by reason.
REASONS = ("RevisionStarted", "RevisionResumed", *(r for r, _ in FINISHED.values()))


def event_object(
    involved: dict[str, Any],
    reason: str,
    type_: str,
    message: str,
    *,
    labels: dict[str, str] | None = None,
    component: str = COMPONENT,
) -> Obj:
    """A core/v1 Event about ``involved`` (apiVersion, kind, namespace, name, uid...), as
    client-go's recorder writes it: named after the object and the time in nanoseconds, in hex."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved.get('name')}.{time.time_ns():x}",
            "namespace": involved.get("namespace"),
            "labels": {LABEL_MANAGED_BY: MANAGER, **(labels or {})},
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message[:1024],
        "type": type_,
        "source": {"component": component, "host": socket.gethostname()},
        "reportingComponent": component,
        "reportingInstance": socket.gethostname()[:128],
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


class StateEvents:
    """An event sink turning a run's start and end into Events on the app's state record."""

    def __init__(self, backend: Backend, app: str, namespace: str) -> None:
        self.backend = backend
        self.app = app
        self.namespace = namespace
        self._revision: Any = None
        self._resumed = False
        self._quiet = False  # a parked run going on: no Event until it ends

    def emit(self, event: Event) -> None:
        if event.kind == "resumed":
            self._resumed, self._quiet = True, bool(event.data.get("waiting"))
        elif event.kind == "run-started" and self._quiet:
            self._revision, self._resumed = event.data.get("revision"), False
        elif event.kind == "run-started":
            self._revision = event.data.get("revision")
            what = str(event.data.get("kind") or "deploy")
            reason = "RevisionResumed" if self._resumed else "RevisionStarted"
            verb = "resumed" if self._resumed else "started"
            self.record(reason, "Normal", f"revision {self._revision} ({what}) {verb}: {event.message}")
            self._resumed = False
        elif event.kind == "run-finished" and (event.data.get("phase") or event.message) != "waiting":
            phase = str(event.data.get("phase") or event.message)
            reason, kind = FINISHED.get(phase, (f"Revision{phase.title()}", "Normal"))
            revision = event.data.get("revision", self._revision)
            detail = str(event.data.get("message") or "")
            self.record(reason, kind, f"revision {revision} {phase}" + (f": {detail}" if detail else ""))

    def record(self, reason: str, type_: str, message: str) -> None:
        with contextlib.suppress(PyvelaError):
            self.backend.create(self.event(reason, type_, message))

    def event(self, reason: str, type_: str, message: str) -> Obj:
        ref = state_ref(self.app, self.namespace)
        live = self.backend.get(ref)
        meta = (live or {}).get("metadata") or {}
        involved: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "namespace": ref.namespace,
            "name": ref.name,
        }
        if meta.get("uid"):
            involved["uid"] = meta["uid"]
        if meta.get("resourceVersion"):
            involved["resourceVersion"] = meta["resourceVersion"]
        return event_object(involved, reason, type_, message, labels={LABEL_APP: self.app})
