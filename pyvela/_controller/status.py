"""What the controller writes in an Application's ``status`` (a summary of ``pyvela status
-o json``), and how long a failing app waits before its next try."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: At most this many objects are listed in the status (the count in ``ready`` is of all).
MAX_OBJECTS = 100
MAX_MESSAGE = 1000
BACKOFF_BASE = 5.0
BACKOFF_CAP = 300.0


def backoff(failures: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds before the next try after ``failures`` consecutive failures: doubling, capped."""
    if failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - 1, 32)))


def _ref(obj: Mapping[str, Any]) -> str:
    ns = obj.get("namespace")
    return f"{obj.get('kind')}/{ns}/{obj.get('name')}" if ns else f"{obj.get('kind')}/{obj.get('name')}"


def app_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's status from ``AppOps.status()`` (what ``pyvela status -o json`` prints)."""
    objects = list(status.get("objects") or [])
    ready = sum(1 for o in objects if o.get("ready"))
    steps = {
        name: {k: v for k, v in (("phase", s.get("phase")), ("message", s.get("message"))) if v}
        for name, s in (status.get("steps") or {}).items()
    }
    return {
        "app": status.get("app"),
        "phase": status.get("phase"),
        "revision": status.get("revision"),
        "hash": status.get("hash"),
        "ready": f"{ready}/{len(objects)}",
        "message": str(status.get("message") or "")[:MAX_MESSAGE],
        "steps": steps,
        "objects": [
            {
                "object": _ref(o.get("object") or {}),
                **({"component": o["component"]} if o.get("component") else {}),
                "ready": bool(o.get("ready")),
                **({"message": o["message"]} if o.get("message") else {}),
            }
            for o in objects[:MAX_OBJECTS]
        ],
    }


def failed_status(message: str, failures: int) -> dict[str, Any]:
    """A reconcile that raised (the app does not load, the cluster refused…): the revision's
    fields are left as they were, the message says why and when the next try is."""
    return {
        "phase": "error",
        "message": f"{message[:MAX_MESSAGE]} (retry in {backoff(failures):.0f}s)",
        "failures": failures,
    }
