"""Long-running workloads: ``webservice`` and ``worker`` (Deployments), ``statefulset``, ``daemon``
(a DaemonSet)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import ComponentContext, Obj, Rendered, WorkloadType, component

from ._pod import LABEL_COMPONENT, pod_metadata, pod_spec, service
from ._types import Checked, EnvVar, ExposeType, HealthProbe, HostAlias, Params, Protocol, PullPolicy
from ._volumes import Volume, VolumeMounts
from .health import daemon_status, health_of, webservice_status, worker_status

DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")
DAEMON_SET = WorkloadType(api_version="apps/v1", kind="DaemonSet")
STATEFUL_SET = WorkloadType(api_version="apps/v1", kind="StatefulSet")


@attrs.frozen(kw_only=True)
class Port(Checked):
    """A port of the main container, optionally exposed through the component's Service.

    Attributes:
        port: The port number (the Service's port when exposed).
        container_port: The container's port when it differs from ``port``.
        name: The port's name (default ``port-<n>``, plus ``-udp``/``-sctp`` for those protocols).
        protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
        expose: Put it on the Service named after the component.
        node_port: The node port to use when ``expose_type`` is ``NodePort``.
    """

    port: int
    container_port: int | None = None
    name: str | None = None
    protocol: Protocol = "TCP"
    expose: bool = False
    node_port: int | None = None


def _port_name(p: Port) -> str:
    if p.name is not None:
        return p.name
    base = f"port-{p.container_port if p.container_port is not None else p.port}"
    return base if p.protocol == "TCP" else f"{base}-{p.protocol.lower()}"


@attrs.frozen(kw_only=True)
class WebserviceParams(Params):
    """Parameters of ``webservice``.

    Attributes:
        image: The container image.
        labels: Extra labels for the pods.
        annotations: Annotations for the pods.
        image_pull_policy: ``Always``, ``Never`` or ``IfNotPresent``.
        image_pull_secrets: Names of Secrets used to pull the image.
        port: Deprecated single container port (use ``ports``).
        ports: Container ports; those with ``expose`` go on a Service named after the component.
        expose_type: The Service's type: ``ClusterIP`` (default), ``NodePort`` or ``LoadBalancer``.
        add_revision_label: Label the pods with ``app.oam.dev/revision`` (the app revision).
        cmd: The container's command (replaces the image's entrypoint).
        args: The command's arguments.
        env: Environment variables.
        cpu: CPU for requests and limits, e.g. ``"0.5"``.
        memory: Memory for requests and limits, e.g. ``"512Mi"``.
        volume_mounts: Volumes to mount, by kind.
        volumes: Deprecated volume list (ignored when ``volume_mounts`` is given).
        liveness_probe: When to restart the container.
        readiness_probe: When the container may receive traffic.
        host_aliases: Extra /etc/hosts entries.
    """

    image: str
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    image_pull_policy: PullPolicy | None = None
    image_pull_secrets: tuple[str, ...] | None = None
    port: int | None = None
    ports: tuple[Port, ...] | None = None
    expose_type: ExposeType = "ClusterIP"
    add_revision_label: bool = False
    cmd: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    cpu: str | None = None
    memory: str | None = None
    volume_mounts: VolumeMounts | None = None
    volumes: tuple[Volume, ...] | None = None
    liveness_probe: HealthProbe | None = None
    readiness_probe: HealthProbe | None = None
    host_aliases: tuple[HostAlias, ...] | None = None


def _controller(kind: str, ctx: ComponentContext, template: dict[str, Any]) -> Obj:
    """A Deployment or DaemonSet selecting its pods by component."""
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": ctx.name},
        "spec": {"selector": {"matchLabels": {LABEL_COMPONENT: ctx.name}}, "template": template},
    }


def _serving(
    kind: str,
    p: WebserviceParams | DaemonParams,
    ctx: ComponentContext,
    spec: dict[str, Any],
    exposed: list[dict[str, Any]],
    output: str = "webserviceExpose",
) -> Obj | Rendered:
    """webservice's, statefulset's and daemon's workload, and the Service of exposed ports
    (output ``webserviceExpose``; ``statefulsetsExpose`` for a statefulset)."""
    meta = pod_metadata(
        ctx.app_name,
        ctx.name,
        labels=p.labels,
        annotations=p.annotations,
        revision=ctx.app_revision if p.add_revision_label else None,
    )
    workload = _controller(kind, ctx, {"metadata": meta, "spec": spec})
    if not exposed:
        return workload
    return Rendered(workload=workload, outputs={output: service(ctx.name, ctx.name, exposed, p.expose_type)})


@component(
    name="webservice", params=WebserviceParams, workload=DEPLOYMENT, health=health_of(webservice_status)
)
def webservice(p: WebserviceParams, ctx: ComponentContext) -> Obj | Rendered:
    """A long-running, scalable service with a stable network endpoint (a Deployment).

    Ports with ``expose`` get a Service named after the component (output
    ``webserviceExpose``).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/webservice.cue.
    """
    return _webservice_like("Deployment", p, ctx, "webserviceExpose")


@attrs.frozen(kw_only=True)
class StatefulsetParams(WebserviceParams):
    """Parameters of ``statefulset``: those of ``webservice`` (described there; ``pyvela defs``
    shows them with the base's descriptions)."""


@component(
    name="statefulset", params=StatefulsetParams, workload=STATEFUL_SET, health=health_of(webservice_status)
)
def statefulset(p: StatefulsetParams, ctx: ComponentContext) -> Obj | Rendered:
    """A long-running, scalable service with stable identities for stateful software (a StatefulSet).

    Ports with ``expose`` get a Service named after the component (output
    ``statefulsetsExpose``). As in KubeVela, no ``serviceName`` is set: give the StatefulSet
    a governing Service with a trait when its pods need stable DNS names.

    Follows vela-templates/definitions/internal/component/statefulset.cue of KubeVela's main
    branch (v1.10.1 has no statefulset component): webservice's parameters and health, a
    StatefulSet instead of a Deployment.
    """
    return _webservice_like("StatefulSet", p, ctx, "statefulsetsExpose")


def _webservice_like(kind: str, p: WebserviceParams, ctx: ComponentContext, output: str) -> Obj | Rendered:
    ports: list[dict[str, Any]] | None = None
    if p.ports is not None:
        ports = [
            {
                "containerPort": v.container_port if v.container_port is not None else v.port,
                "protocol": v.protocol,
                "name": _port_name(v),
            }
            for v in p.ports
        ]
    elif p.port is not None:
        ports = [{"containerPort": p.port}]
    spec = pod_spec(
        ctx.name, p, args=p.args, ports=ports, volume_mounts=p.volume_mounts, aliases=p.host_aliases
    )
    exposed: list[dict[str, Any]] = []
    for v in p.ports or ():
        if not v.expose:
            continue
        item: dict[str, Any] = {
            "port": v.port,
            "targetPort": v.container_port if v.container_port is not None else v.port,
            "name": _port_name(v),
            "protocol": v.protocol,
        }
        if v.node_port is not None and p.expose_type == "NodePort":
            item["nodePort"] = v.node_port
        exposed.append(item)
    return _serving(kind, p, ctx, spec, exposed, output)


@attrs.frozen(kw_only=True)
class WorkerParams(Params):
    """Parameters of ``worker``.

    Attributes:
        image: The container image.
        image_pull_policy: The image pull policy (``Always``, ``Never``, ``IfNotPresent``).
        image_pull_secrets: Names of Secrets used to pull the image.
        cmd: The container's command (replaces the image's entrypoint).
        env: Environment variables.
        cpu: CPU for requests and limits, e.g. ``"0.5"``.
        memory: Memory for requests and limits, e.g. ``"512Mi"``.
        volume_mounts: Volumes to mount, by kind.
        volumes: Deprecated volume list (ignored when ``volume_mounts`` is given).
        liveness_probe: When to restart the container.
        readiness_probe: When the container counts as ready.
    """

    image: str
    image_pull_policy: str | None = None
    image_pull_secrets: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    cpu: str | None = None
    memory: str | None = None
    volume_mounts: VolumeMounts | None = None
    volumes: tuple[Volume, ...] | None = None
    liveness_probe: HealthProbe | None = None
    readiness_probe: HealthProbe | None = None


@component(name="worker", params=WorkerParams, workload=DEPLOYMENT, health=health_of(worker_status))
def worker(p: WorkerParams, ctx: ComponentContext) -> Obj:
    """A long-running, scalable back-end service without a network endpoint (a Deployment).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/worker.cue.
    """
    spec = pod_spec(ctx.name, p, volume_mounts=p.volume_mounts)
    return _controller("Deployment", ctx, {"metadata": pod_metadata(ctx.app_name, ctx.name), "spec": spec})


@attrs.frozen(kw_only=True)
class DaemonPort(Checked):
    """A port of a daemon's container.

    Attributes:
        port: The container port (also the Service's port when exposed).
        name: The port's name (default ``port-<n>``).
        protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
        expose: Put it on the Service named after the component.
    """

    port: int
    name: str | None = None
    protocol: Protocol = "TCP"
    expose: bool = False


@attrs.frozen(kw_only=True)
class DaemonParams(Params):
    """Parameters of ``daemon``.

    Attributes:
        image: The container image.
        labels: Extra labels for the pods.
        annotations: Annotations for the pods.
        image_pull_policy: ``Always``, ``Never`` or ``IfNotPresent``.
        image_pull_secrets: Names of Secrets used to pull the image.
        port: Deprecated single container port (use ``ports``).
        ports: Container ports; those with ``expose`` go on a Service named after the component.
        expose_type: The Service's type: ``ClusterIP`` (default), ``NodePort``, ``LoadBalancer``
            or ``ExternalName``.
        add_revision_label: Label the pods with ``app.oam.dev/revision`` (the app revision).
        cmd: The container's command (replaces the image's entrypoint).
        env: Environment variables.
        cpu: CPU for requests and limits, e.g. ``"0.5"``.
        memory: Memory for requests and limits, e.g. ``"512Mi"``.
        volume_mounts: Volumes to mount, by kind.
        volumes: Deprecated volume list (ignored when ``volume_mounts`` is given).
        liveness_probe: When to restart the container.
        readiness_probe: When the container may receive traffic.
        host_aliases: Extra /etc/hosts entries.
    """

    image: str
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    image_pull_policy: PullPolicy | None = None
    image_pull_secrets: tuple[str, ...] | None = None
    port: int | None = None
    ports: tuple[DaemonPort, ...] | None = None
    expose_type: Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = "ClusterIP"
    add_revision_label: bool = False
    cmd: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    cpu: str | None = None
    memory: str | None = None
    volume_mounts: VolumeMounts | None = None
    volumes: tuple[Volume, ...] | None = None
    liveness_probe: HealthProbe | None = None
    readiness_probe: HealthProbe | None = None
    host_aliases: tuple[HostAlias, ...] | None = None


@component(name="daemon", params=DaemonParams, workload=DAEMON_SET, health=health_of(daemon_status))
def daemon(p: DaemonParams, ctx: ComponentContext) -> Obj | Rendered:
    """A service with one pod on every node (a DaemonSet).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/daemon.cue.
    """
    ports: list[dict[str, Any]] | None = None
    if p.ports is not None:
        ports = [
            {"containerPort": v.port, "protocol": v.protocol, "name": v.name or f"port-{v.port}"}
            for v in p.ports
        ]
    elif p.port is not None:
        ports = [{"containerPort": p.port}]
    spec = pod_spec(
        ctx.name,
        p,
        ports=ports,
        volume_mounts=p.volume_mounts,
        host_path_options=True,
        aliases=p.host_aliases,
    )
    exposed = [
        {"port": v.port, "targetPort": v.port, "name": v.name or f"port-{v.port}"}
        for v in p.ports or ()
        if v.expose
    ]
    return _serving("DaemonSet", p, ctx, spec, exposed)
