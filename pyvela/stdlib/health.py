"""KubeVela's health policies and custom status messages of the standard definitions.

The rules are plain functions of what KubeVela's CUE sees (``context.output``: the live
workload, ``context.outputs``: the live objects of a trait, ``parameter``). The standard
components declare theirs with :func:`health_of` (``@component(..., health=...)``), the
traits with :func:`trait_health_of` (``@trait(..., health=...)``: it judges the objects of
the kinds the rule reads, a gateway's Ingress), so waits and ``status`` use them;
:func:`readiness` adapts a rule to ``wait_ready(..., rule=...)``::

    await ctx.wait_ready(applied, rule=readiness(COMPONENT_STATUS["webservice"]))

Missing status counters read as 0, as in KubeVela's ``*0 | int`` defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from pyvela import Obj, Readiness, TraitObservation

from ._types import EMPTY, as_list, as_map

DISABLE_HEALTH_CHECK = "app.oam.dev/disable-health-check"
_NO_OUTPUTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class StatusContext:
    """What a status rule sees.

    Attributes:
        output: The live workload (or, for a trait, the component's live workload).
        outputs: A trait's live objects, by output name.
        parameter: The definition's parameters.
        name: The component's name.
        app_name: The application's name.
    """

    output: Mapping[str, Any] = EMPTY
    outputs: Mapping[str, Mapping[str, Any]] = _NO_OUTPUTS
    parameter: Any = None
    name: str = ""
    app_name: str = ""


@attrs.frozen
class Status:
    """A definition's verdict: KubeVela's ``isHealth`` and ``message``."""

    healthy: bool
    message: str = ""


StatusRule = Callable[[StatusContext], Status]


def _get(obj: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            items = as_list(obj)
            if len(items) <= key:
                return None
            obj = items[key]
        elif isinstance(obj, Mapping):
            obj = as_map(obj).get(key)
        else:
            return None
    return obj


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _observed(obj: Mapping[str, Any]) -> bool:
    return _int(_get(obj, "status", "observedGeneration")) >= _int(_get(obj, "metadata", "generation"))


def _replicas(obj: Mapping[str, Any]) -> tuple[int, int, int, int]:
    # An unset spec.replicas is 1 (the API server's default; live objects always have it).
    desired = _int(_get(obj, "spec", "replicas"), 1)
    status = [_int(_get(obj, "status", k)) for k in ("readyReplicas", "updatedReplicas", "replicas")]
    return desired, status[0], status[1], status[2]


def worker_status(ctx: StatusContext) -> Status:
    """All replicas ready and updated, and the latest generation observed."""
    desired, ready, updated, current = _replicas(ctx.output)
    healthy = desired == ready == updated == current and _observed(ctx.output)
    return Status(healthy, f"Ready:{ready}/{desired}")


def webservice_status(ctx: StatusContext) -> Status:
    """As ``worker``; the annotation ``app.oam.dev/disable-health-check`` makes it healthy."""
    status = worker_status(ctx)
    if DISABLE_HEALTH_CHECK in (_get(ctx.output, "metadata", "annotations") or {}):
        return Status(True, status.message)
    return status


def daemon_status(ctx: StatusContext) -> Status:
    """A pod ready and updated on every node that should run one, the latest generation observed."""
    counts = [
        _int(_get(ctx.output, "status", k))
        for k in ("desiredNumberScheduled", "numberReady", "updatedNumberScheduled", "currentNumberScheduled")
    ]
    desired, ready = counts[0], counts[1]
    healthy = all(c == desired for c in counts) and _observed(ctx.output)
    return Status(healthy, f"Ready:{ready}/{desired}")


def task_status(ctx: StatusContext) -> Status:
    """As many pods succeeded as run in parallel."""
    counts = [_int(_get(ctx.output, "status", k)) for k in ("active", "failed", "succeeded")]
    healthy = counts[2] == _int(_get(ctx.output, "spec", "parallelism"), 1)
    return Status(healthy, "Active/Failed/Succeeded:{}/{}/{}".format(*counts))


def always_healthy(ctx: StatusContext) -> Status:
    """KubeVela's rule when a definition has none: healthy once applied."""
    return Status(True)


def _lb_address(obj: Mapping[str, Any] | None) -> str | None:
    # KubeVela reads only `ip`; load balancers that publish a host name (AWS) have `hostname`.
    first = as_map(_get(obj, "status", "loadBalancer", "ingress", 0))
    value = first.get("ip") or first.get("hostname")
    return str(value) if value else None


def gateway_status(ctx: StatusContext) -> Status:
    """Healthy once the Ingress exists; the message says where to visit it."""
    suffix = f"-{ctx.parameter.name}" if getattr(ctx.parameter, "name", None) is not None else ""
    wanted = ctx.name + suffix
    found = [
        o
        for o in ctx.outputs.values()
        if o.get("kind") == "Ingress" and _get(o, "metadata", "name") == wanted
    ]
    if not found:
        return Status(False, f"No loadBalancer found, visiting by using 'vela port-forward {ctx.app_name}'\n")
    # KubeVela's template reads `status.loadbalancer` (lower-case b), so it never shows the
    # address; here the load balancer's address is read from `status.loadBalancer`.
    address = _lb_address(found[0])
    host = _get(found[0], "spec", "rules", 0, "host")
    anywhere = "Host not specified, visit the cluster or load balancer in front of the cluster"
    if address is not None:
        text = f"Visiting URL: {host}, IP: {address}" if host else f"{anywhere}, IP: {address}"
    else:
        text = f"Visiting URL: {host}" if host else anywhere
    return Status(True, text + "\n")


def expose_status(ctx: StatusContext) -> Status:
    """A LoadBalancer Service is healthy once it has an external address; other types at once."""
    service = ctx.outputs.get("service") or {}
    kind = _get(service, "spec", "type")
    if kind == "ClusterIP":
        return Status(True, f"ClusterIP: {_get(service, 'spec', 'clusterIP')}")
    if kind == "LoadBalancer":
        address = _lb_address(service)
        if address is None:
            return Status(False, "ExternalIP: Pending")
        return Status(True, f"ExternalIP: {address}")
    return Status(True)


def pure_ingress_status(ctx: StatusContext) -> Status:
    """Always healthy; the message gives the Ingress's host and address when it has one."""
    ingress = ctx.outputs.get("ingress") or {}
    entries = _get(ingress, "status", "loadBalancer", "ingress")
    if entries is None:
        return Status(
            True, f"No loadBalancer found, visiting by using 'vela port-forward {ctx.app_name} --route'\n"
        )
    if not entries:
        return Status(True)
    host = _get(ingress, "spec", "rules", 0, "host")
    ip = _get(entries, 0, "ip")
    return Status(True, f"Visiting URL: {host}, IP: {ip}" if ip else f"Visiting URL: {host}")


#: Status rules of the standard components, by definition name.
COMPONENT_STATUS: Mapping[str, StatusRule] = {
    "webservice": webservice_status,
    "statefulset": webservice_status,
    "worker": worker_status,
    "daemon": daemon_status,
    "task": task_status,
    "cron-task": always_healthy,
}

#: Status rules of the standard traits that have one (the others are healthy once applied).
TRAIT_STATUS: Mapping[str, StatusRule] = {
    "gateway": gateway_status,
    "expose": expose_status,
    "pure-ingress": pure_ingress_status,
}


def readiness(
    rule: StatusRule, *, parameter: Any = None, name: str = "", app_name: str = ""
) -> Callable[[Obj | None], Readiness]:
    """A pyvela readiness rule (``Obj | None -> Readiness``) from a workload status rule."""

    def judge(obj: Obj | None) -> Readiness:
        if obj is None:
            return Readiness(False, "not found yet")
        status = rule(StatusContext(output=obj, parameter=parameter, name=name, app_name=app_name))
        return Readiness(status.healthy, status.message)

    return judge


def health_of(rule: StatusRule) -> Callable[[Obj | None, Any], Readiness]:
    """A definition's ``health=`` hook (live workload, parameters -> Readiness) from a status rule."""

    def judge(obj: Obj | None, params: Any) -> Readiness:
        if obj is None:
            return Readiness(False, "not found yet")
        status = rule(StatusContext(output=obj, parameter=params))
        return Readiness(status.healthy, status.message)

    return judge


def trait_health_of(rule: StatusRule, *kinds: str) -> Callable[[TraitObservation], Readiness | None]:
    """A trait definition's ``health=`` hook from a status rule over its outputs: it judges the
    trait's objects of ``kinds`` (the one KubeVela's rule reads), the others keep their kind's rule."""

    def judge(seen: TraitObservation) -> Readiness | None:
        if seen.live is None:
            return None  # not there yet: the kind's rule says so
        if seen.live.get("kind") not in kinds:
            return None
        status = rule(
            StatusContext(
                outputs={seen.output: seen.live},
                parameter=seen.params,
                name=seen.component,
                app_name=seen.app,
            )
        )
        return Readiness(status.healthy, status.message.rstrip("\n"))

    return judge
