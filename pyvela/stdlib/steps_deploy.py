"""``deploy``: apply the app's components (all of them, or the ones a step names) and wait
until they are healthy, as KubeVela v1.10.1's
vela-templates/definitions/internal/workflowstep/deploy.cue does for the hub cluster.

KubeVela's ``policies`` parameter names topology/override policies that place components
on other clusters; pyvela deploys to one cluster, so naming any is refused when the app
loads (the multi-cluster issue brings them).
"""

from __future__ import annotations

import attrs

from pyvela import StepContext, step

from ._types import Params

__all__ = ["DeployParams", "deploy"]


@attrs.frozen(kw_only=True)
class DeployParams(Params):
    """Parameters of ``deploy``.

    Attributes:
        auto: False: suspend before deploying, until ``pyvela workflow resume`` approves it.
        policies: The topology/override policies that place the components on clusters;
            empty (the only form pyvela supports now): the app's own cluster.
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
        if self.policies:
            raise ValueError(
                f"policies {list(self.policies)} place components on other clusters, and pyvela "
                "deploys to one cluster (the app's): leave policies out"
            )


@step(name="deploy", params=DeployParams)
async def deploy(p: DeployParams, ctx: StepContext) -> None:
    """Deploy every component of the app, ``parallelism`` at a time, each awaited until healthy."""
    if not p.auto:
        await ctx.log(f'Waiting approval to the deploy step "{ctx.step_name}"')
        await ctx.suspend()
    names = list(ctx.components)
    for start in range(0, len(names), p.parallelism):
        batch = names[start : start + p.parallelism]
        # A batch is applied before any of it is awaited, so its components become ready together.
        applied = [await ctx.apply_component(name) for name in batch]
        for component in applied:
            await ctx.wait_ready(component)
