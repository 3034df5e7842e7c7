"""``deploy``: apply the app's components and wait until they are healthy, as KubeVela
v1.10.1's vela-templates/definitions/internal/workflowstep/deploy.cue does: on the app's own
cluster, or, with ``policies``, at every placement of those topology, override and
replication policies (``pyvela.DeployComponents``, performed by the runner).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela import DeployComponents, ObjectRef, StepContext, step

from ._types import Params

__all__ = ["DeployOutputs", "DeployParams", "deploy"]


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
    names = list(ctx.components)
    here: dict[str, Any] = {}
    for start in range(0, len(names), p.parallelism):
        batch = names[start : start + p.parallelism]
        # A batch is applied before any of it is awaited, so its components become ready together.
        applied = [await ctx.apply_component(name) for name in batch]
        for component in applied:
            live = await ctx.wait_ready(component)
            here[component.component] = {**ObjectRef.of(live).to_dict(), "status": live.get("status") or {}}
    return DeployOutputs(placements={"local": here})
