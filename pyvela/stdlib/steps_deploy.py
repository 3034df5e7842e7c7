"""``deploy``: apply the app's components and wait until they are healthy, as KubeVela
v1.10.1's vela-templates/definitions/internal/workflowstep/deploy.cue does: on the app's own
cluster, or, with ``policies``, at every placement of those topology, override and
replication policies (``pyvela.DeployComponents``, performed by the runner). Also KubeVela's
``apply-application`` (deprecated, still installed by v1.10.1) and ``apply-deployment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela import DeployComponents, ObjectRef, Readiness, StepContext, step

from ._steps import LOCAL, applying, check_cluster
from ._types import Params

__all__ = [
    "ApplyApplicationParams",
    "ApplyDeploymentOutputs",
    "ApplyDeploymentParams",
    "DeployOutputs",
    "DeployParams",
    "apply_application",
    "apply_deployment",
    "deploy",
]


@attrs.frozen(kw_only=True)
class DeployParams(Params):
    """Parameters of ``deploy``.

    Attributes:
        auto: False: suspend before deploying, until ``pyvela workflow resume`` approves it.
        policies: The topology, override and replication policies of the app that say where
            the components go and how they differ there, applied in this order (overrides in
            turn); empty: the app's own cluster, as written.
        parallelism: How many components are applied and awaited at once.
        ignore_terraform_component: Leave out Terraform components (pyvela has none: accepted
            for KubeVela apps, no effect).
    """

    auto: bool = True
    policies: tuple[str, ...] = ()
    parallelism: int = 5
    ignore_terraform_component: bool = True

    def validate(self) -> None:
        if self.parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {self.parallelism}")
        if len(set(self.policies)) != len(self.policies):
            raise ValueError(f"policies: name each policy once, got {list(self.policies)}")


@attrs.frozen(kw_only=True)
class DeployOutputs:
    """Outputs of ``deploy``.

    Attributes:
        placements: Per placement (its cluster's name, ``local`` for the app's own, or
            ``cluster/namespace``), per component (``name@replica-key`` for a replica), its
            workload when it became healthy: ``apiVersion``, ``kind``, ``namespace``, ``name``
            and ``status``.
    """

    placements: Mapping[str, Mapping[str, Any]]


@step(name="deploy", params=DeployParams)
async def deploy(p: DeployParams, ctx: StepContext) -> DeployOutputs:
    """Deploy every component of the app, ``parallelism`` at a time, each awaited until healthy:
    on the app's cluster, or at every placement of the policies it names."""
    if not p.auto:
        await ctx.log(f'Waiting approval to the deploy step "{ctx.step_name}"')
        await ctx.suspend()
    if p.policies:
        placed = await DeployComponents(policies=p.policies, parallelism=p.parallelism)
        return DeployOutputs(placements=placed)
    return DeployOutputs(placements={"local": await _deploy_here(ctx, p.parallelism)})


async def _deploy_here(ctx: StepContext, parallelism: int) -> dict[str, Any]:
    names = list(ctx.components)
    here: dict[str, Any] = {}
    for start in range(0, len(names), parallelism):
        batch = names[start : start + parallelism]
        # A batch is applied before any of it is awaited, so its components become ready together.
        applied = [await ctx.apply_component(name) for name in batch]
        for component in applied:
            live = await ctx.wait_ready(component)
            here[component.component] = {**ObjectRef.of(live).to_dict(), "status": live.get("status") or {}}
    return here


@attrs.frozen(kw_only=True)
class ApplyApplicationParams(Params):
    """Parameters of ``apply-application``: none (KubeVela's takes none)."""


@step(name="apply-application", params=ApplyApplicationParams)
async def apply_application(p: ApplyApplicationParams, ctx: StepContext) -> DeployOutputs:
    """Apply every component of the app on its own cluster, each awaited until healthy.

    KubeVela's deprecated step (op.#ApplyApplication; vela-templates/definitions/deprecated/
    apply-application.cue, still installed by v1.10.1): ``deploy`` without policies does the same.
    """
    return DeployOutputs(placements={"local": await _deploy_here(ctx, max(1, len(ctx.components)))})


@attrs.frozen(kw_only=True)
class ApplyDeploymentParams(Params):
    """Parameters of ``apply-deployment``.

    Attributes:
        image: The image of the Deployment's one container.
        replicas: How many pods; the step waits until that many are ready.
        cluster: The cluster to apply it to (a name ``pyvela clusters`` lists); empty: the app's
            (only there is the step's wait for the ready replicas possible).
        cmd: The container's command.
    """

    image: str
    replicas: int = 1
    cluster: str = ""
    cmd: tuple[str, ...] | None = None

    def validate(self) -> None:
        check_cluster(self.cluster)
        if self.replicas < 0:
            raise ValueError(f"replicas must not be negative, got {self.replicas}")


@attrs.frozen(kw_only=True)
class ApplyDeploymentOutputs:
    """Outputs of ``apply-deployment``.

    Attributes:
        value: The Deployment once its ready replicas are ``replicas``.
    """

    value: Mapping[str, Any]


@step(name="apply-deployment", params=ApplyDeploymentParams)
async def apply_deployment(p: ApplyDeploymentParams, ctx: StepContext) -> ApplyDeploymentOutputs:
    """Apply a Deployment named after the step (one container of ``image``), in the app's
    namespace, and wait until ``replicas`` of its pods are ready.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/apply-deployment.cue:
    the pods are selected by ``workflow.oam.dev/step-name: <app>-<step>``.
    """
    selector = {"workflow.oam.dev/step-name": f"{ctx.app_name}-{ctx.step_name}"}
    container: dict[str, Any] = {"name": ctx.step_name, "image": p.image}
    if p.cmd is not None:
        container["command"] = list(p.cmd)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.step_name, "namespace": ctx.namespace},
        "spec": {
            "selector": {"matchLabels": selector},
            "replicas": p.replicas,
            "template": {"metadata": {"labels": dict(selector)}, "spec": {"containers": [container]}},
        },
    }
    live = await applying(ctx, deployment, cluster=p.cluster)
    if p.cluster in LOCAL:  # a wait reads the app's cluster: on another, the step ends once applied

        def replicas_ready(obj: Mapping[str, Any] | None) -> Readiness:
            status: Mapping[str, Any] = (obj or {}).get("status") or {}
            ready = int(status.get("readyReplicas") or 0)
            return Readiness(ready == p.replicas, f"{ready}/{p.replicas} replicas ready")

        live = await ctx.wait_ready(live, rule=replicas_ready)
    return ApplyDeploymentOutputs(value=live)
