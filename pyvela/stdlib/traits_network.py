"""Traits that add objects: gateway, expose, pure-ingress (networking.k8s.io/v1 Ingress,
Services), hpa (autoscaling/v2) and cpuscaler (autoscaling/v1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import Obj, TraitContext, TraitResult, trait

from ._pod import LABEL_COMPONENT
from ._types import EMPTY, Checked, Params, Protocol
from .health import expose_status, gateway_status, pure_ingress_status, trait_health_of

SCALABLE = ("Deployment", "StatefulSet")
#: A Service selects any workload's pods: KubeVela declares expose and gateway for Deployments and
#: StatefulSets only, but its renderer never checks that and its own daemon example exposes a
#: DaemonSet, so they are allowed there too.
SERVED = (*SCALABLE, "DaemonSet")


@attrs.frozen(kw_only=True)
class GatewayParams(Params):
    """Parameters of ``gateway``.

    Attributes:
        http: URL path -> port of the component (a Service port and its target port).
        domain: The host name the Ingress answers for (any host when not given).
        class_: The ingress class (default ``nginx``); ``class`` in KubeVela's YAML.
        class_in_spec: Put the class in ``spec.ingressClassName`` instead of the
            ``kubernetes.io/ingress.class`` annotation.
        secret_name: A TLS Secret for ``domain`` (HTTPS).
        gateway_host: The gateway's host, shown as the endpoint when ``domain`` is not given.
        name: A suffix that lets one component have several gateways.
        path_type: ``ImplementationSpecific`` (default), ``Prefix`` or ``Exact``.
        annotations: Extra annotations of the Ingress.
        labels: Labels of the Ingress.
        existing_service_name: Route to this Service instead of creating one.
    """

    http: Mapping[str, int]
    domain: str | None = None
    class_: str = "nginx"
    class_in_spec: bool = False
    secret_name: str | None = None
    gateway_host: str | None = None
    name: str | None = None
    path_type: Literal["ImplementationSpecific", "Prefix", "Exact"] = "ImplementationSpecific"
    annotations: Mapping[str, str] | None = None
    labels: Mapping[str, str] | None = None
    existing_service_name: str | None = None

    def validate(self) -> None:
        if self.secret_name is not None and self.domain is None:
            raise ValueError("secret_name needs a domain (the TLS certificate's host)")


def gateway_ingress_name(component: str, params: GatewayParams) -> str:
    return component + (f"-{params.name}" if params.name is not None else "")


@trait(
    name="gateway",
    params=GatewayParams,
    applies_to=SERVED,
    health=trait_health_of(gateway_status, "Ingress"),
)
def gateway(p: GatewayParams, ctx: TraitContext) -> TraitResult:
    """Route public HTTP traffic to the component: a Service and a networking.k8s.io/v1 Ingress.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/gateway.cue.
    """
    suffix = f"-{p.name}" if p.name is not None else ""
    service_name = p.existing_service_name or ctx.name + suffix
    outputs: dict[str, Obj] = {}
    if p.existing_service_name is None:
        # One Service port per distinct port: KubeVela repeats a port used by two paths,
        # which the API server rejects.
        ports = list(dict.fromkeys(p.http.values()))
        outputs["service" + suffix] = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service_name},
            "spec": {
                "selector": {LABEL_COMPONENT: ctx.name},
                "ports": [{"name": f"port-{v}", "port": v, "targetPort": v} for v in ports],
            },
        }
    annotations: dict[str, str] = {}
    if not p.class_in_spec:
        annotations["kubernetes.io/ingress.class"] = p.class_
    if p.gateway_host is not None:
        annotations["ingress.controller/host"] = p.gateway_host
    annotations.update(p.annotations or {})
    spec: dict[str, Any] = {}
    if p.class_in_spec:
        spec["ingressClassName"] = p.class_
    if p.secret_name is not None:
        spec["tls"] = [{"hosts": [p.domain], "secretName": p.secret_name}]
    rule: dict[str, Any] = {} if p.domain is None else {"host": p.domain}
    rule["http"] = {
        "paths": [
            {
                "path": path,
                "pathType": p.path_type,
                "backend": {"service": {"name": service_name, "port": {"number": port}}},
            }
            for path, port in p.http.items()
        ]
    }
    spec["rules"] = [rule]
    outputs["ingress" + suffix] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": ctx.name + suffix,
            "annotations": annotations,
            "labels": dict(p.labels or {}),
        },
        "spec": spec,
    }
    return TraitResult(outputs=outputs)


@attrs.frozen(kw_only=True)
class ExposePort(Checked):
    """A port of the Service.

    Attributes:
        port: The port (also the target port on the pods).
        name: The port's name (default ``port-<n>``, plus ``-udp``/``-sctp`` for those protocols).
        protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
        node_port: The node port to use when ``type`` is ``NodePort``.
    """

    port: int
    name: str | None = None
    protocol: Protocol = "TCP"
    node_port: int | None = None


@attrs.frozen(kw_only=True)
class ExposeParams(Params):
    """Parameters of ``expose``.

    Attributes:
        port: Deprecated list of port numbers (use ``ports``).
        ports: The Service's ports.
        annotations: Annotations of the Service.
        match_labels: Select these pods instead of the component's.
        type: ``ClusterIP`` (default), ``NodePort``, ``LoadBalancer`` or ``ExternalName``.
    """

    port: tuple[int, ...] | None = None
    ports: tuple[ExposePort, ...] | None = None
    annotations: Mapping[str, str] = EMPTY
    match_labels: Mapping[str, str] | None = None
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = "ClusterIP"


@trait(
    name="expose", params=ExposeParams, applies_to=SERVED, health=trait_health_of(expose_status, "Service")
)
def expose(p: ExposeParams, ctx: TraitContext) -> TraitResult:
    """Expose ports of the component through a Service named after it.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/expose.cue.
    """
    spec: dict[str, Any] = {
        "selector": dict(p.match_labels) if p.match_labels is not None else {LABEL_COMPONENT: ctx.name}
    }
    if p.ports is not None:
        ports: list[dict[str, Any]] = []
        for v in p.ports:
            name = v.name or f"port-{v.port}" + ("" if v.protocol == "TCP" else f"-{v.protocol.lower()}")
            item: dict[str, Any] = {"port": v.port, "targetPort": v.port, "name": name}
            if v.node_port is not None and p.type == "NodePort":
                item["nodePort"] = v.node_port
            item["protocol"] = v.protocol
            ports.append(item)
        spec["ports"] = ports
    elif p.port is not None:
        spec["ports"] = [{"name": f"port-{n}", "port": n, "targetPort": n} for n in p.port]
    spec["type"] = p.type
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ctx.name, "annotations": dict(p.annotations)},
        "spec": spec,
    }
    return TraitResult(outputs={"service": service})


@attrs.frozen(kw_only=True)
class PureIngressParams(Params):
    """Parameters of ``pure-ingress``.

    Attributes:
        domain: The host name the Ingress answers for.
        http: URL path -> port of the Service named after the component.
    """

    domain: str
    http: Mapping[str, int]


@trait(name="pure-ingress", params=PureIngressParams, health=trait_health_of(pure_ingress_status, "Ingress"))
def pure_ingress(p: PureIngressParams, ctx: TraitContext) -> TraitResult:
    """Route HTTP traffic for ``domain`` to the Service named after the component (no Service created).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/pure-ingress.cue, but
    as networking.k8s.io/v1 (its v1beta1 Ingress no longer exists in Kubernetes >= 1.22).
    """
    paths = [
        {
            "path": path,
            "pathType": "ImplementationSpecific",
            "backend": {"service": {"name": ctx.name, "port": {"number": port}}},
        }
        for path, port in p.http.items()
    ]
    ingress: Obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": ctx.name},
        "spec": {"rules": [{"host": p.domain, "http": {"paths": paths}}]},
    }
    return TraitResult(outputs={"ingress": ingress})


# --------------------------------------------------------------------------- autoscaling


@attrs.frozen(kw_only=True)
class ResourceTarget(Checked):
    """A resource metric's target.

    Attributes:
        type: ``Utilization`` (percent of the request, default) or ``AverageValue``.
        value: The target (a percentage, or an amount per pod).
    """

    type: Literal["Utilization", "AverageValue"] = "Utilization"
    value: int = 50


@attrs.frozen(kw_only=True)
class PodMetric(Checked):
    """A custom per-pod metric.

    Attributes:
        name: The metric's name.
        value: The target average value per pod (a quantity, e.g. ``"1k"``).
    """

    name: str
    value: str


@attrs.frozen(kw_only=True)
class HpaParams(Params):
    """Parameters of ``hpa``.

    Attributes:
        min: The fewest replicas.
        max: The most replicas.
        target_api_version: The apiVersion of the scaled workload.
        target_kind: The kind of the scaled workload.
        cpu: The CPU target.
        mem: The memory target (none by default).
        pod_custom_metrics: Custom per-pod metrics to scale on.
    """

    min: int = 1
    max: int = 10
    target_api_version: str = "apps/v1"
    target_kind: str = "Deployment"
    cpu: ResourceTarget = ResourceTarget()
    mem: ResourceTarget | None = None
    pod_custom_metrics: tuple[PodMetric, ...] | None = None


def _resource_metric(name: str, t: ResourceTarget) -> dict[str, Any]:
    key = "averageUtilization" if t.type == "Utilization" else "averageValue"
    return {"type": "Resource", "resource": {"name": name, "target": {"type": t.type, key: t.value}}}


def _autoscaler(api_version: str, p: HpaParams | CpuScalerParams, ctx: TraitContext, **targets: Any) -> Obj:
    """A HorizontalPodAutoscaler of the component's workload; ``targets`` end its spec."""
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": ctx.name},
        "spec": {
            "scaleTargetRef": {"apiVersion": p.target_api_version, "kind": p.target_kind, "name": ctx.name},
            "minReplicas": p.min,
            "maxReplicas": p.max,
            **targets,
        },
    }


@trait(name="hpa", params=HpaParams, applies_to=SCALABLE)
def hpa(p: HpaParams, ctx: TraitContext) -> TraitResult:
    """Scale the workload on CPU, memory and custom metrics (an autoscaling/v2 HorizontalPodAutoscaler).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/hpa.cue.
    """
    metrics = [_resource_metric("cpu", p.cpu)]
    if p.mem is not None:
        metrics.append(_resource_metric("memory", p.mem))
    metrics += [
        {
            "type": "Pods",
            "pods": {"metric": {"name": m.name}, "target": {"type": "AverageValue", "averageValue": m.value}},
        }
        for m in p.pod_custom_metrics or ()
    ]
    return TraitResult(outputs={"hpa": _autoscaler("autoscaling/v2", p, ctx, metrics=metrics)})


@attrs.frozen(kw_only=True)
class CpuScalerParams(Params):
    """Parameters of ``cpuscaler``.

    Attributes:
        min: The fewest replicas.
        max: The most replicas.
        cpu_util: The target average CPU utilisation, in percent of the request.
        target_api_version: The apiVersion of the scaled workload.
        target_kind: The kind of the scaled workload.
    """

    min: int = 1
    max: int = 10
    cpu_util: int = 50
    target_api_version: str = "apps/v1"
    target_kind: str = "Deployment"


@trait(name="cpuscaler", params=CpuScalerParams, applies_to=SCALABLE)
def cpuscaler(p: CpuScalerParams, ctx: TraitContext) -> TraitResult:
    """Scale the workload on CPU utilisation (an autoscaling/v1 HorizontalPodAutoscaler).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/cpuscaler.cue.
    """
    obj = _autoscaler("autoscaling/v1", p, ctx, targetCPUUtilizationPercentage=p.cpu_util)
    return TraitResult(outputs={"cpuscaler": obj})
