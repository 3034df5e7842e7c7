"""The seed's component definitions: base-service, proxy-service and helm."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from pyvela import (
    HELM_API_VERSION,
    HELM_KIND,
    ComponentContext,
    Obj,
    WorkloadType,
    component,
    set_env,
    set_image,
    yaml_template,
)

TEMPLATES = Path(__file__).parent / "templates"
DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")
ROLLOUT = WorkloadType(api_version="argoproj.io/v1alpha1", kind="Rollout")
HELM_RELEASE = WorkloadType(api_version=HELM_API_VERSION, kind=HELM_KIND)


@attrs.frozen(kw_only=True)
class ServiceParams:
    """What an application developer may set on a platform service.

    Attributes:
        image: The container image.
        cluster: The Apollo cluster (environment) the service runs against; lands in
            ``RUNTIME_CLUSTER`` and the pods' ``cluster`` label.
    """

    image: str
    cluster: str


def _service(template: str, p: ServiceParams, ctx: ComponentContext) -> Obj:
    workload = yaml_template(TEMPLATES / template, name=ctx.name)
    # By name, not by position: the seed's proxy-service wrote env[5] (LOG_BASE).
    set_image(workload, container=ctx.name, image=p.image)
    set_env(workload, container=ctx.name, name="RUNTIME_CLUSTER", value=p.cluster)
    workload["spec"]["template"]["metadata"]["labels"]["cluster"] = p.cluster
    return workload


@component(name="base-service", params=ServiceParams, workload=DEPLOYMENT)
def base_service(p: ServiceParams, ctx: ComponentContext) -> Obj:
    """A back-end service as a Deployment (2 replicas), from the platform's template."""
    return _service("base-service.yaml.j2", p, ctx)


@component(name="proxy-service", params=ServiceParams, workload=ROLLOUT)
def proxy_service(p: ServiceParams, ctx: ComponentContext) -> Obj:
    """A proxy service as an Argo Rollouts Rollout (canary: 50%, then pause)."""
    return _service("proxy-service.yaml.j2", p, ctx)


@attrs.frozen(kw_only=True)
class HelmParams:
    """A Helm chart to install as a release named after the component.

    Attributes:
        chart: The chart's name in the repository (or an ``oci://`` reference or a local path).
        version: The chart version.
        repo_url: The chart repository's URL.
        repo_type: ``helm`` (an index.yaml repository), ``oci`` or ``local``.
        values: Values passed to the chart.
    """

    chart: str
    version: str
    repo_url: str
    repo_type: Literal["helm", "oci", "local"] = "helm"
    values: Mapping[str, Any] | None = None


@component(name="helm", params=HelmParams, workload=HELM_RELEASE)
def helm(p: HelmParams, ctx: ComponentContext) -> Obj:
    """A Helm release: installed by the helm CLI on a real cluster, simulated on the sandbox."""
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        "metadata": {"name": ctx.name, "namespace": ctx.namespace},
        "spec": {
            "releaseName": ctx.name,
            "chart": {"name": p.chart, "version": p.version, "repoURL": p.repo_url, "repoType": p.repo_type},
            "values": dict(p.values or {}),
        },
    }
