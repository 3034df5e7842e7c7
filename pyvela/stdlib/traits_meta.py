"""Traits that patch the workload as a whole: scaler, labels, annotations, resource,
hostalias and lifecycle."""

# No `from __future__ import annotations`: the `annotations` trait needs the name.
import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import TraitContext, TraitResult, trait

from ._patch import Patch, containers, on_pod_spec
from ._types import Checked, HostAlias, Params, as_list, as_map, host_aliases
from .traits_containers import POD_WORKLOADS


@attrs.frozen(kw_only=True)
class ScalerParams(Params):
    """Parameters of ``scaler``.

    Attributes:
        replicas: The number of pods.
    """

    replicas: int = 1


@trait(name="scaler", params=ScalerParams, applies_to=("Deployment", "StatefulSet"))
def scaler(p: ScalerParams, ctx: TraitContext) -> TraitResult:
    """Set the number of replicas of the workload.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/scaler.cue.
    """
    return TraitResult(patch={"spec": {"replicas": p.replicas}})


def _merge_patch(current: Any, values: Mapping[str, str | None]) -> dict[str, Any]:
    """JSON merge patch of a string map: ``None`` removes a key (only when it is there)."""
    have = as_map(current)
    return {k: v for k, v in values.items() if v is not None or k in have}


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = as_map(obj).get(key)
    return obj


@attrs.frozen(kw_only=True)
class LabelsParams(Params):
    """Parameters of ``labels`` (KubeVela's properties are the map itself).

    Attributes:
        labels: Labels to set; ``None`` removes a label.
    """

    labels: Mapping[str, str | None]


def _metadata_patch(w: Any, field: str, values: Mapping[str, str | None], *, jobs: bool) -> TraitResult:
    """Merge ``values`` into ``field`` of the workload's metadata and of its pod (and, with
    ``jobs``, job) templates' metadata, wherever the workload has those templates."""

    def at(*path: str) -> dict[str, Any]:
        return {field: _merge_patch(_get(w, *path, field), values)}

    patch: Patch = {"metadata": at("metadata")}
    spec: Patch = {}
    if _get(w, "spec", "template") is not None:
        spec["template"] = {"metadata": at("spec", "template", "metadata")}
    if jobs and _get(w, "spec", "jobTemplate") is not None:
        spec["jobTemplate"] = {"metadata": at("spec", "jobTemplate", "metadata")}
        if _get(w, "spec", "jobTemplate", "spec", "template") is not None:
            inner = at("spec", "jobTemplate", "spec", "template", "metadata")
            spec["jobTemplate"]["spec"] = {"template": {"metadata": inner}}
    if spec:
        patch["spec"] = spec
    return TraitResult(patch=patch)


@trait(name="labels", params=LabelsParams)
def labels(p: LabelsParams, ctx: TraitContext) -> TraitResult:
    """Label the workload, and its pods when it has a pod template.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/labels.cue.
    """
    # labels.cue, unlike annotations.cue, leaves a CronJob's job template alone.
    return _metadata_patch(ctx.workload, "labels", p.labels, jobs=False)


@attrs.frozen(kw_only=True)
class AnnotationsParams(Params):
    """Parameters of ``annotations`` (KubeVela's properties are the map itself).

    Attributes:
        annotations: Annotations to set; ``None`` removes an annotation.
    """

    annotations: Mapping[str, str | None]


@trait(name="annotations", params=AnnotationsParams)
def annotations(p: AnnotationsParams, ctx: TraitContext) -> TraitResult:
    """Annotate the workload, and its pods or jobs when it has templates for them.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/annotations.cue.
    """
    return _metadata_patch(ctx.workload, "annotations", p.annotations, jobs=True)


# --------------------------------------------------------------------------- resource

QUANTITY = re.compile(r"^([1-9][0-9]{0,63})(E|P|T|G|M|K|Ei|Pi|Ti|Gi|Mi|Ki)$")
Cpu = int | float | str


def _check_memory(value: str | None) -> None:
    if value is not None and not QUANTITY.match(value):
        raise ValueError(f"memory {value!r} is not a quantity like 512Mi or 2G")


@attrs.frozen(kw_only=True)
class ResourceAmounts(Checked):
    """CPU and memory amounts.

    Attributes:
        cpu: CPU cores (``1``, ``0.5`` or ``"500m"``).
        memory: Memory (``"2048Mi"``, ``"1Gi"``).
    """

    cpu: Cpu = 1
    memory: str = "2048Mi"

    def validate(self) -> None:
        _check_memory(self.memory)


@attrs.frozen(kw_only=True)
class ResourceParams(Params):
    """Parameters of ``resource``: ``cpu``/``memory`` for both, or ``requests``/``limits``.

    Attributes:
        cpu: CPU for requests and limits (``1``, ``0.5`` or ``"500m"``).
        memory: Memory for requests and limits (``"2048Mi"``).
        requests: What the container requests (replaces its requests).
        limits: What the container may use at most (replaces its limits).
    """

    cpu: Cpu | None = None
    memory: str | None = None
    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None

    def validate(self) -> None:
        _check_memory(self.memory)


@trait(
    name="resource",
    params=ResourceParams,
    applies_to=("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"),
)
def resource(p: ResourceParams, ctx: TraitContext) -> TraitResult:
    """Set the resource requests and limits of the workload's first container.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/resource.cue.
    """
    new: dict[str, Any] = {}
    both = {k: v for k, v in (("cpu", p.cpu), ("memory", p.memory)) if v is not None}
    if both and p.requests is None and p.limits is None:
        new = {"requests": dict(both), "limits": dict(both)}
    if p.requests is not None:
        new["requests"] = {"cpu": p.requests.cpu, "memory": p.requests.memory}
    if p.limits is not None:
        new["limits"] = {"cpu": p.limits.cpu, "memory": p.limits.memory}
    w = ctx.workload
    if _get(w, "spec", "template") is not None:
        first = containers(w)
        path: tuple[str, ...] = ("spec", "template", "spec")
    elif _get(w, "spec", "jobTemplate") is not None:
        first = [
            as_map(c)
            for c in as_list(_get(w, "spec", "jobTemplate", "spec", "template", "spec", "containers"))
        ]
        path = ("spec", "jobTemplate", "spec", "template", "spec")
    else:
        return TraitResult()
    if not first or not new:
        return TraitResult()
    name = first[0]["name"]
    # KubeVela's patch has no container name, so it lands on the first container, and
    # retainKeys replaces requests/limits as a whole. With only one of cpu/memory KubeVela
    # renders nothing at all; here that one amount is merged in and the other kept.
    items: list[Patch] = [{"name": name, "resources": new}]
    if len(both) != 1 or p.requests is not None or p.limits is not None:
        items.insert(0, {"name": name, "resources": dict.fromkeys(new)})
    patch: Patch = {"containers": items}
    for key in reversed(path):
        patch = {key: patch}
    return TraitResult(patch=patch)


# --------------------------------------------------------------------------- pod spec


@attrs.frozen(kw_only=True)
class HostAliasParams(Params):
    """Parameters of ``hostalias``.

    Attributes:
        host_aliases: Entries added to the pods' /etc/hosts (merged by IP).
    """

    host_aliases: tuple[HostAlias, ...]


@trait(name="hostalias", params=HostAliasParams, applies_to=POD_WORKLOADS)
def hostalias(p: HostAliasParams, ctx: TraitContext) -> TraitResult:
    """Add entries to the pods' /etc/hosts.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/hostalias.cue.
    """
    return TraitResult(patch=on_pod_spec({"hostAliases": host_aliases(p.host_aliases)}))


@attrs.frozen(kw_only=True)
class LifecycleExec(Checked):
    """Run a command in the container.

    Attributes:
        command: The command and its arguments.
    """

    command: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LifecycleHttpHeader(Checked):
    """An HTTP header.

    Attributes:
        name: Header name.
        value: Header value.
    """

    name: str
    value: str


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not in 1-65535")


@attrs.frozen(kw_only=True)
class LifecycleHttpGet(Checked):
    """Send an HTTP GET to the container.

    Attributes:
        port: The port (1-65535).
        path: The request path.
        host: The host to connect to (default: the pod IP).
        scheme: ``HTTP`` (default) or ``HTTPS``.
        http_headers: Extra request headers.
    """

    port: int
    path: str | None = None
    host: str | None = None
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    http_headers: tuple[LifecycleHttpHeader, ...] | None = None

    def validate(self) -> None:
        _check_port(self.port)


@attrs.frozen(kw_only=True)
class LifecycleTcpSocket(Checked):
    """Open a TCP connection to the container.

    Attributes:
        port: The port (1-65535).
        host: The host to connect to (default: the pod IP).
    """

    port: int
    host: str | None = None

    def validate(self) -> None:
        _check_port(self.port)


@attrs.frozen(kw_only=True)
class LifecycleHandler(Checked):
    """What to do at a container lifecycle event.

    Attributes:
        exec: Run a command.
        http_get: Send an HTTP GET request.
        tcp_socket: Open a TCP connection.
    """

    exec: LifecycleExec | None = None
    http_get: LifecycleHttpGet | None = None
    tcp_socket: LifecycleTcpSocket | None = None


def _handler(h: LifecycleHandler) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if h.exec is not None:
        out["exec"] = {"command": list(h.exec.command)}
    if h.http_get is not None:
        g = h.http_get
        get: dict[str, Any] = {"port": g.port, "scheme": g.scheme}
        get.update({k: v for k, v in (("path", g.path), ("host", g.host)) if v is not None})
        if g.http_headers is not None:
            get["httpHeaders"] = [{"name": x.name, "value": x.value} for x in g.http_headers]
        out["httpGet"] = get
    if h.tcp_socket is not None:
        sock: dict[str, Any] = {"port": h.tcp_socket.port}
        if h.tcp_socket.host is not None:
            sock["host"] = h.tcp_socket.host
        out["tcpSocket"] = sock
    return out


@attrs.frozen(kw_only=True)
class LifecycleParams(Params):
    """Parameters of ``lifecycle``.

    Attributes:
        post_start: Run right after a container starts.
        pre_stop: Run before a container is stopped.
    """

    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


@trait(name="lifecycle", params=LifecycleParams, applies_to=POD_WORKLOADS)
def lifecycle(p: LifecycleParams, ctx: TraitContext) -> TraitResult:
    """Add post-start and pre-stop hooks to every container of the workload.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/lifecycle.cue.
    """
    hooks: dict[str, Any] = {}
    if p.post_start is not None:
        hooks["postStart"] = _handler(p.post_start)
    if p.pre_stop is not None:
        hooks["preStop"] = _handler(p.pre_stop)
    items = [{"name": c["name"], "lifecycle": hooks} for c in containers(ctx.workload)]
    return TraitResult(patch=on_pod_spec({"containers": items}))
