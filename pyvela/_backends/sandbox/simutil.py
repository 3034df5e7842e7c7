"""Helpers shared by the simulated controllers (pure, total on any input shape)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from typing import Any

from pyvela._backends.sandbox.settings import ANNOTATION_FAIL, Sim


def m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def count(value: Any, default: int = 0) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return default


_last_iso: tuple[int, str] = (-1, "")


def iso(t: float) -> str:
    # One second's text is asked for thousands of times (each object's stamps and
    # conditions): strftime is kept for the first of each second only.
    global _last_iso
    second = math.floor(t)
    last = _last_iso
    if last[0] == second:
        return last[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_iso = (second, text)
    return text


#: What ``json.dumps(sort_keys=True, separators=(",", ":"), default=str)`` builds per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def short_hash(value: Any) -> str:
    data = _CANONICAL.encode(value).encode()
    return hashlib.blake2b(data, digest_size=5).hexdigest()


def generation(obj: Mapping[str, Any]) -> int:
    return count(m(obj.get("metadata")).get("generation"), 1)


def name_of(obj: Mapping[str, Any]) -> str:
    name = m(obj.get("metadata")).get("name")
    return name if isinstance(name, str) else ""


def replicas(spec: Mapping[str, Any]) -> int:
    value = spec.get("replicas")
    return 1 if value is None else max(0, count(value, 1))


def ramp(n: int, t0: float, delay: float, now: float) -> tuple[int, float | None]:
    """Of ``n`` steps spread evenly over ``delay`` (the i-th at ``t0 + delay*i/n``): how many
    have happened by ``now``, and when the next one happens."""
    if n <= 0:
        return 0, None
    if delay <= 0:
        return n, None

    def at(i: int) -> float:
        return t0 + delay * i / n

    k = min(n, max(0, int((now - t0) * n / delay)))
    while k < n and at(k + 1) <= now:
        k += 1
    while k > 0 and at(k) > now:
        k -= 1
    return k, (at(k + 1) if k < n else None)


def cond(kind: str, status: bool, reason: str, message: str, t: float) -> dict[str, Any]:
    stamp = iso(t)
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp,
        "lastUpdateTime": stamp,
    }


def omit_zeros(status: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        if status.get(key) == 0:
            del status[key]
    return status


def earliest(*times: float | None) -> float | None:
    present = [t for t in times if t is not None]
    return min(present) if present else None


def fail_note(sim: Sim) -> str:
    return f"simulated failure {sim.fail} (sandbox settings or annotation {ANNOTATION_FAIL})"
