"""Definitions for the guardrail tests: a component whose parameters make each standard
guardrail pass or fail, an Ingress trait, and a platform's own check (on with this module)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from pyvela import (
    CheckedObject,
    ComponentContext,
    Finding,
    Rendered,
    TraitContext,
    TraitResult,
    WorkloadType,
    check,
    component,
    trait,
)

DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")


@attrs.frozen(kw_only=True)
class GuardedParams:
    """What the guardrail tests vary."""

    image: str = "nginx:1.27"
    resources: bool = True
    probes: bool = True
    privileged: bool = False
    selector: str = ""
    team: str = "shop"


@component(name="guarded", params=GuardedParams, workload=DEPLOYMENT)
def guarded(p: GuardedParams, ctx: ComponentContext) -> Rendered:
    """A Deployment and its Service."""
    container: dict[str, object] = {"name": ctx.name, "image": p.image, "ports": [{"containerPort": 80}]}
    if p.resources:
        container["resources"] = {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"memory": "128Mi"},
        }
    if p.probes:
        probe = {"httpGet": {"path": "/", "port": 80}}
        container["readinessProbe"] = probe
        container["livenessProbe"] = probe
    if p.privileged:
        container["securityContext"] = {"privileged": True}
    labels = {"app": ctx.name}
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.name, "labels": {"team": p.team}},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ctx.name},
        "spec": {"selector": {"app": p.selector or ctx.name}, "ports": [{"port": 80, "name": "http"}]},
    }
    return Rendered(workload=workload, outputs={"service": service})


@attrs.frozen(kw_only=True)
class RouteParams:
    """An Ingress to a Service of the app (or not)."""

    service: str
    port: int = 80


@trait(name="route", params=RouteParams)
def route(p: RouteParams, ctx: TraitContext) -> TraitResult:
    """An Ingress to ``service``."""
    backend = {"service": {"name": p.service, "port": {"number": p.port}}}
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": ctx.name},
        "spec": {
            "rules": [{"host": "x.example.com", "http": {"paths": [{"path": "/", "backend": backend}]}}]
        },
    }
    return TraitResult(outputs={"ingress": ingress})


@check(name="team-label", kinds=("Deployment",), severity="warning", fix="label it with its team")
def team_label(obj: CheckedObject) -> Iterator[Finding]:
    """Workloads say which team owns them (a platform's own rule: a warning)."""
    if obj.labels.get("team") in (None, "", "none"):
        yield Finding("the workload has no team label", field="metadata.labels.team")
