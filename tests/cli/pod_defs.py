"""Definitions for the day-2 Pod and Rollout tests (``--defs tests.cli.pod_defs``): plain
workloads with no guardrails, so the tests say only what logs, exec, port-forward and
rollout do."""

from __future__ import annotations

import attrs

from pyvela import ComponentContext, Obj, WorkloadType, component

DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")
ROLLOUT = WorkloadType(api_version="argoproj.io/v1alpha1", kind="Rollout")


@attrs.frozen(kw_only=True)
class ServerParams:
    """A Deployment.

    Attributes:
        image: the main container's image
        replicas: how many Pods
        sidecar: a second container's image (none when empty)
        labels: extra labels on the Pods (kwok's test stages read them)
    """

    image: str
    replicas: int = 1
    sidecar: str = ""
    labels: dict[str, str] = attrs.field(factory=dict)


def _pod_template(name: str, p: ServerParams) -> Obj:
    containers: list[Obj] = [{"name": name, "image": p.image, "ports": [{"containerPort": 80}]}]
    if p.sidecar:
        containers.append({"name": "sidecar", "image": p.sidecar})
    return {
        "metadata": {"labels": {"app": name, **p.labels}},
        "spec": {"containers": containers},
    }


@component(name="server", params=ServerParams, workload=DEPLOYMENT)
def server(p: ServerParams, ctx: ComponentContext) -> Obj:
    """A Deployment of ``replicas`` Pods (one container, or two with a sidecar)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.name},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": {"app": ctx.name}},
            "template": _pod_template(ctx.name, p),
        },
    }


@attrs.frozen(kw_only=True)
class CanaryParams:
    """An Argo Rollout with a canary strategy that pauses after its first step.

    Attributes:
        image: the container's image (a change starts a canary)
        replicas: how many Pods
        weight: the first step's canary weight (percent)
        analysis: an AnalysisTemplate run as a step after the first (none when empty)
    """

    image: str
    replicas: int = 2
    weight: int = 50
    analysis: str = ""


@component(name="canary", params=CanaryParams, workload=ROLLOUT)
def canary(p: CanaryParams, ctx: ComponentContext) -> Obj:
    """A Rollout: setWeight ``weight``, the ``analysis``, pause (until promoted), then the rest."""
    analysis = [{"analysis": {"templates": [{"templateName": p.analysis}]}}] if p.analysis else []
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": ctx.name},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": {"app": ctx.name}},
            "template": _pod_template(ctx.name, ServerParams(image=p.image)),
            "strategy": {"canary": {"steps": [{"setWeight": p.weight}, *analysis, {"pause": {}}]}},
        },
    }
