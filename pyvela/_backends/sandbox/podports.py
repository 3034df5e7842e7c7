"""The API server's checks of a pod template's container ports, in the sandbox.

A real API server refuses ``containerPort: 70000`` or a port named ``http_port`` in any
workload's pod template; a sandbox that stored them would report success for a deploy a
cluster refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

#: Where each workload kind keeps its pod spec.
POD_SPEC = {
    ("", "Pod"): ("spec",),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_SVC_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


#: What a refused port is: the field's path, its value, why.
Problem = tuple[str, Any, str]


def template_metadata(group: str, kind: str, obj: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """Where a workload's pod template metadata is, and it (None for a Pod or no template)."""
    path = POD_SPEC.get((group, kind), ())[:-1]
    meta: Any = obj
    for key in (*path, "metadata") if path else ():
        meta = meta.get(key) if isinstance(meta, Mapping) else None
    return (".".join((*path, "metadata")), meta) if path and isinstance(meta, Mapping) else None


def containers(group: str, kind: str, obj: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each init container and container of ``obj``'s pod spec, with its field path
    (``spec.template.spec.containers[0]``); nothing for a kind without a pod spec."""
    path = POD_SPEC.get((group, kind))
    if path is None:
        return
    spec: Any = obj
    for key in path:
        spec = spec.get(key) if isinstance(spec, Mapping) else None
    if not isinstance(spec, Mapping):
        return
    where = ".".join(path)
    for field in ("initContainers", "containers"):
        listed = spec.get(field)
        for i, container in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(container, Mapping):
                yield f"{where}.{field}[{i}]", container


def problem(group: str, kind: str, obj: Mapping[str, Any]) -> Problem | None:
    """The first container port of ``obj``'s pod template the API server would refuse."""
    for at, container in containers(group, kind, obj):
        ports = container.get("ports")
        if isinstance(ports, list):
            found = _ports(f"{at}.ports", ports)
            if found is not None:
                return found
    return None


def _ports(at: str, ports: list[Any]) -> Problem | None:
    seen: set[str] = set()
    for j, port in enumerate(ports):
        if not isinstance(port, Mapping):
            return f"{at}[{j}]", port, "must be a mapping"
        number = port.get("containerPort")
        if type(number) is not int or not 0 < number < 65536:
            return f"{at}[{j}].containerPort", number, "must be between 1 and 65535, inclusive"
        host = port.get("hostPort")
        if host is not None and (type(host) is not int or not 0 <= host < 65536):
            return f"{at}[{j}].hostPort", host, "must be between 0 and 65535, inclusive"
        protocol = port.get("protocol")
        if protocol is not None and protocol not in _PROTOCOLS:
            why = 'supported values: "SCTP", "TCP", "UDP"'
            return f"{at}[{j}].protocol", protocol, why
        label = port.get("name")
        if label is None or label == "":
            continue
        if not _service_name(label):
            why = (
                "must be no more than 15 characters, contain only lowercase alphanumerics and '-',"
                " at least one letter, and not start, end or have two '-' in a row"
            )
            return f"{at}[{j}].name", label, why
        if label in seen:
            return f"{at}[{j}].name", label, "Duplicate value"
        seen.add(label)
    return None


def _service_name(label: Any) -> bool:
    return (
        isinstance(label, str)
        and len(label) <= 15
        and bool(_SVC_NAME.fullmatch(label))
        and "--" not in label
        and any(c.isalpha() for c in label)
    )
