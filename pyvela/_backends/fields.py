"""Reading an object's status defensively, for the readiness rules: any field may be missing,
of the wrong type or garbage (a rule never raises), and a missing count reads as 0
(Kubernetes omits zeros).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyvela._backends.protocol import Readiness

_DIGITS = re.compile(r"[0-9]{1,18}")


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def count(value: Any, default: int = 0) -> int:
    """An integer field; missing or garbage reads as ``default`` (0: Kubernetes omits zeros)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return default


def generation(obj: Mapping[str, Any]) -> int:
    return count(mapping(obj.get("metadata")).get("generation"))


def status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj.get("status"))


def spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj.get("spec"))


def replicas(obj: Mapping[str, Any]) -> int:
    value = spec(obj).get("replicas")
    return 1 if value is None else max(0, count(value, 1))


def conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    conditions = status.get("conditions")
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(conditions, list):
        for cond in conditions:
            if isinstance(cond, Mapping) and isinstance(cond.get("type"), str):
                out[cond["type"]] = cond
    return out


def is_status(cond: Mapping[str, Any] | None, status: str) -> bool:
    return cond is not None and text(cond.get("status")) == status


def why(cond: Mapping[str, Any] | None) -> str:
    if cond is None:
        return ""
    reason, message = text(cond.get("reason")), text(cond.get("message"))
    return f"{reason}: {message}" if reason and message else reason or message


def observed(status: Mapping[str, Any], generation: int) -> Readiness | None:
    observed = count(status.get("observedGeneration"))
    if observed < generation:
        message = f"waiting for the controller to observe generation {generation} (seen {observed})"
        return Readiness(False, message)
    return None
