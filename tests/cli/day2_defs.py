"""Definitions for the day-2 tests of part A (``--defs tests.cli.day2_defs``): ls, status
--tree/--pods, workflow logs, Events. Plain workloads without guardrails."""

from __future__ import annotations

import attrs

from pyvela import ComponentContext, Obj, StepContext, WorkloadType, component, step

DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")


@attrs.frozen(kw_only=True)
class ServiceParams:
    """A Deployment.

    Attributes:
        image: the container's image
        replicas: how many Pods
        pod_labels: extra labels on the Pods (kwok's test stages read them)
        pod_annotations: annotations on the Pods (the stages' waiting reason)
        grace: seconds a stuck Pod may last before the wait fails (pyvela.dev/failure-grace)
    """

    image: str
    replicas: int = 1
    pod_labels: dict[str, str] = attrs.field(factory=dict)
    pod_annotations: dict[str, str] = attrs.field(factory=dict)
    grace: str = "2"


@component(name="day2-service", params=ServiceParams, workload=DEPLOYMENT)
def service(p: ServiceParams, ctx: ComponentContext) -> Obj:
    """A Deployment of ``replicas`` Pods with one container."""
    meta: Obj = {"labels": {"app": ctx.name, **p.pod_labels}}
    if p.pod_annotations:
        meta["annotations"] = dict(p.pod_annotations)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.name, "annotations": {"pyvela.dev/failure-grace": p.grace}},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": {"app": ctx.name}},
            "template": {"metadata": meta, "spec": {"containers": [{"name": "main", "image": p.image}]}},
        },
    }


@attrs.frozen(kw_only=True)
class ChattyParams:
    """Log ``lines`` numbered lines.

    Attributes:
        lines: how many
    """

    lines: int = 3


@step(name="chatty", params=ChattyParams)
async def chatty(p: ChattyParams, ctx: StepContext) -> None:
    """Logs ``line 1`` ... ``line N``."""
    for i in range(1, p.lines + 1):
        await ctx.log(f"line {i}")
