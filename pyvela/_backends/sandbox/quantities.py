"""The API server's checks of resource quantities, in the sandbox.

A real API server refuses ``cpu: lots`` in a container's requests or a PVC's storage
request; a sandbox that stored them would report success for a deploy a cluster refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyvela._backends.sandbox.podports import Problem, containers

#: Kubernetes' quantity grammar: a signed number, then a binary or decimal SI suffix or a
#: decimal exponent (``k8s.io/apimachinery/pkg/api/resource``).
_QUANTITY = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)?")
#: The expression the API server's message quotes.
_SHOWN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_WHY = f"quantities must match the regular expression '{_SHOWN}'"


def quantity_problem(at: str, value: Any, non_negative: bool = True) -> Problem | None:
    """Why ``value`` (at ``at``) is no quantity the API server accepts, if it is not."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return at, value, _WHY
    match = _QUANTITY.fullmatch(str(value))
    if match is None:
        return at, value, _WHY
    if non_negative and match[1] == "-" and float(match[2]) != 0:
        return at, value, "must be greater than or equal to 0"
    return None


def _resources(at: str, resources: Any) -> Problem | None:
    if not isinstance(resources, Mapping):
        return None
    for part in ("limits", "requests"):
        values = resources.get(part)
        if not isinstance(values, Mapping):
            continue
        for name, value in values.items():
            found = quantity_problem(f"{at}.{part}[{name}]", value)
            if found is not None:
                return found
    return None


def _claim(at: str, claim: Any) -> Problem | None:
    spec = claim.get("spec") if isinstance(claim, Mapping) else None
    return _resources(f"{at}spec.resources", spec.get("resources")) if isinstance(spec, Mapping) else None


def problem(group: str, kind: str, obj: Mapping[str, Any]) -> Problem | None:
    """The first resource quantity of ``obj`` (pod template, claim templates, PVC) refused."""
    if (group, kind) == ("", "PersistentVolumeClaim"):
        return _claim("", obj)
    for at, container in containers(group, kind, obj):
        found = _resources(f"{at}.resources", container.get("resources"))
        if found is not None:
            return found
    top = obj.get("spec")
    templates = (
        top.get("volumeClaimTemplates") if isinstance(top, Mapping) and kind == "StatefulSet" else None
    )
    for i, claim in enumerate(templates if isinstance(templates, list) else []):
        found = _claim(f"spec.volumeClaimTemplates[{i}].", claim)
        if found is not None:
            return found
    return None
