"""Traits that add containers or change how pods are replaced: sidecar, init-container,
k8s-update-strategy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import TraitContext, TraitResult, trait

from ._patch import Patch, container, on_containers, on_pod_spec, targets
from ._types import (
    Checked,
    EnvVar,
    ExecAction,
    HealthProbe,
    HttpHeader,
    Params,
    PullPolicy,
    as_map,
    probe_fields,
    process_fields,
)
from .traits_containers import POD_WORKLOADS


@attrs.frozen(kw_only=True)
class SharedVolume(Checked):
    """A volume of the pod mounted into the sidecar.

    Attributes:
        name: The volume's name.
        path: Where it is mounted in the sidecar.
    """

    name: str
    path: str


@attrs.frozen(kw_only=True)
class SidecarParams(Params):
    """Parameters of ``sidecar``.

    Attributes:
        name: The sidecar container's name.
        image: Its image.
        cmd: Its command.
        args: The command's arguments.
        env: Its environment variables.
        volumes: Volumes of the pod it mounts.
        liveness_probe: When to restart it.
        readiness_probe: When it counts as ready.
    """

    name: str
    image: str
    cmd: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    volumes: tuple[SharedVolume, ...] | None = None
    liveness_probe: HealthProbe | None = None
    readiness_probe: HealthProbe | None = None


@trait(name="sidecar", params=SidecarParams, applies_to=POD_WORKLOADS)
def sidecar(p: SidecarParams, ctx: TraitContext) -> TraitResult:
    """Add a container next to the main one (merged by name if it exists).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/sidecar.cue.
    """
    item: Patch = {"name": p.name, "image": p.image, **process_fields(p.cmd, p.args, p.env)}
    if p.volumes is not None:
        item["volumeMounts"] = [{"mountPath": v.path, "name": v.name} for v in p.volumes]
    item.update(probe_fields(p.liveness_probe, p.readiness_probe))
    return TraitResult(patch=on_containers([item]))


@attrs.frozen(kw_only=True)
class ExtraVolumeMount(Checked):
    """Another volume of the pod mounted into the init container.

    Attributes:
        name: The volume's name.
        mount_path: Where it is mounted.
    """

    name: str
    mount_path: str


@attrs.frozen(kw_only=True)
class InitContainerParams(Params):
    """Parameters of ``init-container``.

    Attributes:
        name: The init container's name.
        image: Its image.
        image_pull_policy: ``IfNotPresent`` (default), ``Always`` or ``Never``.
        cmd: Its command.
        args: The command's arguments.
        env: Its environment variables.
        mount_name: The name of the scratch volume shared with the main container.
        app_mount_path: Where the main container mounts it.
        init_mount_path: Where the init container mounts it.
        extra_volume_mounts: Other volumes of the pod the init container mounts.
    """

    name: str
    image: str
    app_mount_path: str
    init_mount_path: str
    image_pull_policy: PullPolicy = "IfNotPresent"
    cmd: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    mount_name: str = "workdir"
    extra_volume_mounts: tuple[ExtraVolumeMount, ...] = ()


@trait(name="init-container", params=InitContainerParams, applies_to=POD_WORKLOADS)
def init_container(p: InitContainerParams, ctx: TraitContext) -> TraitResult:
    """Run a container before the main one, sharing a scratch volume with it.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/init-container.cue.
    """
    container(ctx.workload, ctx.name, trait="init-container")
    init: Patch = {"name": p.name, "image": p.image, "imagePullPolicy": p.image_pull_policy}
    init.update(process_fields(p.cmd, p.args, p.env))
    init["volumeMounts"] = [{"name": p.mount_name, "mountPath": p.init_mount_path}] + [
        {"name": v.name, "mountPath": v.mount_path} for v in p.extra_volume_mounts
    ]
    return TraitResult(
        patch=on_pod_spec(
            {
                "containers": [
                    {
                        "name": ctx.name,
                        "volumeMounts": [{"name": p.mount_name, "mountPath": p.app_mount_path}],
                    }
                ],
                "initContainers": [init],
                "volumes": [{"name": p.mount_name, "emptyDir": {}}],
            }
        )
    )


# --------------------------------------------------------------------------- update strategy


def _replacing_map(current: Any, new: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch that turns ``current`` into exactly ``new`` (KubeVela's retainKeys)."""
    have = as_map(current)
    out: dict[str, Any] = dict.fromkeys(k for k in have if k not in new)
    for key, value in new.items():
        out[key] = _replacing_map(have.get(key), as_map(value)) if isinstance(value, Mapping) else value
    return out


@attrs.frozen(kw_only=True)
class RollingStrategy(Checked):
    """How a rolling update proceeds.

    Attributes:
        max_surge: Extra pods allowed above the desired count (Deployment, DaemonSet).
        max_unavailable: Pods that may be unavailable (Deployment, DaemonSet).
        partition: Only pods with an ordinal at or above it are updated (StatefulSet).
    """

    max_surge: str = "25%"
    max_unavailable: str = "25%"
    partition: int = 0


@attrs.frozen(kw_only=True)
class UpdateStrategy(Checked):
    """An update strategy.

    Attributes:
        type: ``RollingUpdate`` (default), ``Recreate`` (Deployment) or ``OnDelete``
            (StatefulSet, DaemonSet).
        rolling_strategy: Settings of ``RollingUpdate``.
    """

    type: Literal["RollingUpdate", "Recreate", "OnDelete"] = "RollingUpdate"
    rolling_strategy: RollingStrategy = RollingStrategy()


@attrs.frozen(kw_only=True)
class UpdateStrategyParams(Params):
    """Parameters of ``k8s-update-strategy``.

    Attributes:
        target_api_version: The workload's apiVersion.
        target_kind: ``Deployment`` (default), ``StatefulSet`` or ``DaemonSet``.
        strategy: The strategy.
    """

    target_api_version: str = "apps/v1"
    target_kind: Literal["Deployment", "StatefulSet", "DaemonSet"] = "Deployment"
    strategy: UpdateStrategy = UpdateStrategy()


@trait(
    name="k8s-update-strategy",
    params=UpdateStrategyParams,
    applies_to=("Deployment", "StatefulSet", "DaemonSet"),
)
def k8s_update_strategy(p: UpdateStrategyParams, ctx: TraitContext) -> TraitResult:
    """Set how the workload replaces its pods on an update.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/k8s-update-strategy.cue.
    """
    s, r = p.strategy, p.strategy.rolling_strategy
    new: dict[str, Any] = {"type": s.type}
    if p.target_kind == "Deployment":
        field, skip = "strategy", "OnDelete"
        rolling: dict[str, Any] = {"maxSurge": r.max_surge, "maxUnavailable": r.max_unavailable}
    elif p.target_kind == "StatefulSet":
        field, skip, rolling = "updateStrategy", "Recreate", {"partition": r.partition}
    else:
        field, skip = "updateStrategy", "Recreate"
        rolling = {"maxSurge": r.max_surge, "maxUnavailable": r.max_unavailable}
    if s.type == skip:
        return TraitResult()
    if s.type == "RollingUpdate":
        new["rollingUpdate"] = rolling
    current = as_map(ctx.workload.get("spec")).get(field)
    return TraitResult(patch={"spec": {field: _replacing_map(current, new)}})


# --------------------------------------------------------------------------- startup-probe


@attrs.frozen(kw_only=True)
class StartupHttpGet(Checked):
    """Send an HTTP GET to the container.

    Attributes:
        port: The port.
        path: The request path.
        host: The host to connect to (default: the pod IP).
        scheme: ``HTTP`` or ``HTTPS`` (Kubernetes' default: HTTP).
        http_headers: Extra request headers.
    """

    port: int
    path: str | None = None
    host: str | None = None
    scheme: Literal["HTTP", "HTTPS"] | None = None
    http_headers: tuple[HttpHeader, ...] | None = None


@attrs.frozen(kw_only=True)
class GrpcAction(Checked):
    """Call the gRPC health service of the container.

    Attributes:
        port: The port.
        service: The service name reported on (default: the server's overall health).
    """

    port: int
    service: str | None = None


@attrs.frozen(kw_only=True)
class StartupTcpSocket(Checked):
    """Open a TCP connection to the container.

    Attributes:
        port: The port.
        host: The host to connect to (default: the pod IP).
    """

    port: int
    host: str | None = None


@attrs.frozen(kw_only=True)
class StartupProbePatch(Checked):
    """A startup probe for one container: until it passes, the other probes wait.

    Attributes:
        container_name: The container (default: the one named after the component).
        initial_delay_seconds: Seconds after the container starts before the first check.
        period_seconds: Seconds between checks.
        timeout_seconds: Seconds before a check counts as failed.
        success_threshold: Passing checks in a row needed.
        failure_threshold: Failing checks in a row before the container is restarted.
        termination_grace_period_seconds: Grace period for stopping a container that failed.
        exec: Run a command.
        http_get: Send an HTTP GET request.
        grpc: Call the gRPC health service.
        tcp_socket: Open a TCP connection.
    """

    container_name: str = ""
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace_period_seconds: int | None = None
    exec: ExecAction | None = None
    http_get: StartupHttpGet | None = None
    grpc: GrpcAction | None = None
    tcp_socket: StartupTcpSocket | None = None


@attrs.frozen(kw_only=True)
class StartupProbeParams(StartupProbePatch, Params):
    """Parameters of ``startup-probe``: one container's probe, or ``probes`` for several.

    Attributes:
        probes: Probes of several containers (each names its container).
    """

    probes: tuple[StartupProbePatch, ...] | None = None

    def validate(self) -> None:
        if self.probes is not None:
            for field in attrs.fields(StartupProbePatch):
                if getattr(self, field.name) != field.default:
                    raise ValueError(f"{field.name} cannot be combined with probes (give it per probe)")


def _some(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _startup_probe(t: StartupProbePatch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if t.exec is not None:
        out["exec"] = {"command": list(t.exec.command)}
    if t.http_get is not None:
        g = t.http_get
        get = _some(path=g.path, port=g.port, host=g.host, scheme=g.scheme)
        if g.http_headers is not None:
            get["httpHeaders"] = [{"name": h.name, "value": h.value} for h in g.http_headers]
        out["httpGet"] = get
    if t.grpc is not None:
        out["grpc"] = _some(port=t.grpc.port, service=t.grpc.service)
    if t.tcp_socket is not None:
        out["tcpSocket"] = _some(port=t.tcp_socket.port, host=t.tcp_socket.host)
    out.update(
        initialDelaySeconds=t.initial_delay_seconds,
        periodSeconds=t.period_seconds,
        timeoutSeconds=t.timeout_seconds,
        successThreshold=t.success_threshold,
        failureThreshold=t.failure_threshold,
    )
    if t.termination_grace_period_seconds is not None:
        out["terminationGracePeriodSeconds"] = t.termination_grace_period_seconds
    return out


@trait(name="startup-probe", params=StartupProbeParams, applies_to=POD_WORKLOADS)
def startup_probe(p: StartupProbeParams, ctx: TraitContext) -> TraitResult:
    """Add a startup probe to containers.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/startup-probe.cue.
    """
    items: list[Patch] = []
    for t in targets(ctx, p, p.probes, "probes"):
        container(ctx.workload, t.container_name, trait="startup-probe")
        items.append({"name": t.container_name, "startupProbe": _startup_probe(t)})
    return TraitResult(patch=on_containers(items))
