"""What the standard workflow steps share: the cluster an object goes to, plain data, Kubernetes names."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from pyvela import ApplyObjectTo, ObjectRef, ReadObjectFrom, Ref, StepContext

#: What KubeVela's ``cluster`` parameters call the cluster the app is deployed from.
LOCAL = ("", "local")

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def is_ref(value: Any) -> bool:
    """A step output not produced yet: checked by the runner when it is."""
    return isinstance(value, Ref)


def check_cluster(cluster: str) -> None:
    """A cluster's name as topologies write it (whether the run knows it is seen when it runs)."""
    if is_ref(cluster) or cluster in LOCAL:
        return
    if cluster != cluster.strip() or "/" in cluster:
        raise ValueError(f"cluster {cluster!r} is not a cluster's name (see `pyvela clusters`)")


def check_topology(topology: str | None) -> None:
    """A topology policy's name, when given (the app must have it: checked when the step runs)."""
    if topology is not None and not is_ref(topology) and not topology.strip():
        raise ValueError("topology: name one of the app's topology policies, or leave it unset")


def applying(
    ctx: StepContext, obj: Mapping[str, Any], *, cluster: str = "", topology: str | None = None
) -> Any:
    """Apply ``obj`` where an object step's ``cluster`` or ``topology`` says (default: the app's cluster)."""
    if topology is not None:
        return ApplyObjectTo(object=obj, topology=topology)
    return ctx.apply(obj) if cluster in LOCAL else ApplyObjectTo(object=obj, cluster=cluster)


def reading_from(ctx: StepContext, ref: ObjectRef, cluster: str) -> Any:
    """Read ``ref`` from an object step's ``cluster`` (default: the app's cluster)."""
    return ctx.read(ref) if cluster in LOCAL else ReadObjectFrom(ref=ref, cluster=cluster)


def check_name(field: str, value: str | None) -> None:
    """A Kubernetes object name (DNS subdomain), when given and already known."""
    if value is None or is_ref(value):
        return
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            f"{field} {value!r} is not a Kubernetes name: lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters"
        )


def check_segment(field: str, value: str) -> None:
    """A name any kind accepts in a URL path (RBAC names may hold ':'; none may hold '/')."""
    if is_ref(value):
        return
    if not value or "/" in value or "%" in value or value in (".", ".."):
        raise ValueError(
            f"{field} {value!r} cannot name an object: it is empty, '.', '..' or holds '/' or '%'"
        )


def check_data_keys(field: str, data: Any) -> None:
    """ConfigMap and Secret keys: letters, digits, '-', '_' and '.'."""
    if is_ref(data) or not isinstance(data, Mapping):
        return
    for key in cast(Mapping[str, Any], data):
        if not _DATA_KEY.match(key) or len(key) > 253:
            raise ValueError(
                f"{field}[{key!r}] is not a valid ConfigMap/Secret key: use letters, digits, '-', '_' and '.'"
            )


def plain(value: Any) -> Any:
    """JSON data from the (immutable) parameter values: dicts and lists, as Kubernetes takes them."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in cast(Mapping[object, Any], value).items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in cast(Sequence[Any], value)]
    return value


def meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace}


def as_str_list(value: Any) -> list[str]:
    """``value``'s strings if it is a list, else an empty list."""
    if not isinstance(value, list):
        return []
    return [str(v) for v in cast(list[object], value)]


def check_port(field: str, port: int) -> None:
    if not is_ref(port) and not 1 <= port <= 65535:
        raise ValueError(f"{field} {port} is not a port: 1-65535")


def shown(live: dict[str, Any]) -> dict[str, Any]:
    """``live`` as an output may hold it: a Secret keeps its keys, never its values."""
    if live.get("kind") != "Secret" or live.get("apiVersion") != "v1":
        return live
    out = {k: v for k, v in live.items() if k != "stringData"}
    if isinstance(live.get("data"), Mapping):
        out["data"] = dict.fromkeys(cast(Mapping[str, Any], live["data"]), "***")
    return out
