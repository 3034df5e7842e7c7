"""The multi-cluster policies at load: checked against the app, and, for an app with no
workflow, KubeVela's generated workflow (``pkg/workflow/step/generator.go``): a ``deploy``
step per topology policy, ``deploy-<topology>``, with every override policy; overrides and
no topology: one ``deploy`` step with them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pyvela._app.catalogue import Catalogue
from pyvela._core.policies_cluster import PLACEMENT_TYPES, check_cluster_policies, override, topology
from pyvela._core.steps import StepDefinition, StepGroup, StepUse
from pyvela.errors import DanglingReferenceError, UnknownDefinitionError


def cluster_steps(app: Any, catalogue: Catalogue, *, components: Collection[str]) -> list[StepUse[Any, Any]]:
    """Check the app's multi-cluster policies; the deploy steps an app without a workflow runs
    for them (none: the app has none, or a workflow of its own)."""
    check_cluster_policies(app.policies, components=components, names=catalogue.names)
    _check_deploy_steps(app)
    topologies = [p for p in app.policies if p.definition is topology]
    overrides = tuple(p.name for p in app.policies if p.definition is override)
    if app.workflow is not None or not (topologies or overrides):
        return []
    deploy = catalogue.get("step", "deploy")
    if not isinstance(deploy, StepDefinition):
        where = (topologies or [p for p in app.policies if p.definition is override])[0].where
        raise UnknownDefinitionError(
            "the app has topology or override policies and no workflow, so it runs a deploy step "
            "per topology, and the catalogue has no deploy step",
            where=where,
            definition="deploy",
            fix="load the standard library (pyvela.stdlib), or write the workflow with your own step",
        )
    if not topologies:
        return [
            StepUse(
                name="deploy", definition=deploy, params=deploy.params(policies=overrides), where=app.where
            )
        ]
    return [
        StepUse(
            name=f"deploy-{t.name}",
            definition=deploy,
            params=deploy.params(policies=(*overrides, t.name)),
            where=t.where,
        )
        for t in topologies
    ]


def _check_deploy_steps(app: Any) -> None:
    """A ``deploy`` step's ``policies`` must name topology, override or replication policies of the app."""
    if app.workflow is None:
        return
    kinds = {p.name: p.definition.name for p in app.policies}
    fit = sorted(n for n, k in kinds.items() if k in PLACEMENT_TYPES)
    for node in app.workflow.steps:
        for use in node.steps if isinstance(node, StepGroup) else (node,):
            names = getattr(use.params, "policies", None)
            if use.definition.name != "deploy" or not isinstance(names, tuple):
                continue
            for name in names:
                if kinds.get(name) not in PLACEMENT_TYPES:
                    what = "no policy" if name not in kinds else f"a {kinds[name]} policy"
                    raise DanglingReferenceError(
                        f"deploy step {use.name!r} names policy {name!r}, and the app has {what} so named",
                        where=use.where,
                        step=use.name,
                        parameter="policies",
                        expected="one of the app's topology, override or replication policies: "
                        + (", ".join(fit) or "none"),
                        got=repr(name),
                    )
