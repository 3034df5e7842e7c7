"""Definitions for the multi-cluster tests: a component that names what it renders after its
replica key (``ctx.replica_key``), as a replicated component's definition must."""

from __future__ import annotations

import attrs

from pyvela import ComponentContext, Obj, WorkloadType, component


@attrs.frozen(kw_only=True)
class RegionalParams:
    """Parameters of ``regional``.

    Attributes:
        image: The container image.
    """

    image: str


@component(
    name="regional", params=RegionalParams, workload=WorkloadType(api_version="apps/v1", kind="Deployment")
)
def regional(p: RegionalParams, ctx: ComponentContext) -> Obj:
    """A Deployment named ``<component>-<replica key>`` with the key in its environment."""
    name = f"{ctx.name}-{ctx.replica_key}" if ctx.replica_key else ctx.name
    labels = {"app": name}
    container = {"name": "main", "image": p.image, "env": [{"name": "REGION", "value": ctx.replica_key}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
