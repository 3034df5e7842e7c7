"""A KubeVela ``Application`` document into the same ``Application`` a Python app builds.

Types resolve against the catalogue, properties are converted by ``props``, the workflow by
``workflow``. Every error names the YAML line.
"""

from __future__ import annotations

from typing import Any

import attrs

from pyvela._app.application import Application
from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela import props, shadowed
from pyvela._app.kubevela.fields import items, keys, lookup, string
from pyvela._app.kubevela.flow import ComponentInfo
from pyvela._app.kubevela.marked import Node
from pyvela._app.kubevela.overrides import override_params
from pyvela._app.kubevela.workflow import build_workflow
from pyvela._core.definitions import ComponentUse, PolicyUse, TraitUse
from pyvela._core.policies_cluster import override
from pyvela.errors import AppError, ParameterError

_COMPONENT_KEYS = (
    "name",
    "type",
    "properties",
    "traits",
    "dependsOn",
    "inputs",
    "outputs",
    "externalRevision",
)


def used_types(doc: Node) -> set[tuple[str, str]]:
    """The (kind, type) pairs an Application document names (to decide on the standard library)."""
    spec = doc.value.get("spec") or {}
    out: set[tuple[str, str]] = set()
    for c in spec.get("components") or []:
        if isinstance(c, dict):
            out.add(("component", str(c.get("type"))))
            out.update(("trait", str(t.get("type"))) for t in c.get("traits") or [] if isinstance(t, dict))
    out.update(("policy", str(p.get("type"))) for p in spec.get("policies") or [] if isinstance(p, dict))

    def steps(items: Any) -> None:
        for s in items or []:
            if isinstance(s, dict):
                if s.get("type") != "step-group":
                    out.add(("step", str(s.get("type"))))
                steps(s.get("subSteps"))

    steps((spec.get("workflow") or {}).get("steps"))
    return out


def build_application(doc: Node, catalogue: Catalogue) -> tuple[Application, Catalogue, dict[str, Any]]:
    """The Application of ``doc``, the catalogue it validates against (step definitions with
    computed outputs are wrapped there), and what the app's spec adds (those outputs)."""
    meta = doc.get("metadata")
    name_node = meta.get("name") if meta else None
    name = string(name_node, "metadata.name", doc.where)
    namespace = str((meta.value.get("namespace") if meta else None) or "default")
    spec = doc.get("spec")
    if spec is None or not spec.is_map:
        raise AppError("the Application has no spec", where=doc.where, app=name, fix="add spec.components")
    keys(spec, ("components", "policies", "workflow"), "spec", app=name)
    nodes = items(spec.get("components"), "spec.components")
    components = [_component(c, catalogue) for c in nodes]
    infos = {c.name: ComponentInfo(c, n, n.get("properties")) for c, n in zip(components, nodes, strict=True)}
    policies = [_policy(p, catalogue, components) for p in items(spec.get("policies"), "spec.policies")]
    workflow = None
    extra: dict[str, Any] = {}
    wf = spec.get("workflow")
    if (wf is None or wf.value is None) and any(n.get("inputs") or n.get("outputs") for n in nodes):
        # KubeVela's default workflow, made explicit: the components' inputs and outputs
        # are those of the apply-component steps it runs.
        wf = _default_workflow(components, doc)
        components = [attrs.evolve(c, dependencies=()) for c in components]
    elif wf is not None and wf.value is not None:
        for c, node in zip(components, nodes, strict=True):
            if c.dependencies:
                raise AppError(
                    f"component {c.name!r} has dependsOn, which orders components only in an app "
                    "without a workflow",
                    where=node.key_where("dependsOn"),
                    component=c.name,
                    fix="order the workflow's steps with their dependsOn instead",
                )
    if wf is not None and wf.value is not None:
        workflow, catalogue, flow = build_workflow(wf, catalogue, name, namespace, infos)
        if flow:
            extra = {"kubevelaDataFlow": flow}
    app = Application(
        name,
        components=components,
        workflow=workflow,
        policies=policies,
        namespace=namespace,
        where=name_node.where if name_node is not None else doc.where,  # a bad name: its own line
    )
    return app, catalogue, extra


def _default_workflow(components: list[ComponentUse[Any]], doc: Node) -> Node:
    steps = [
        Node.of(
            {
                "name": c.name,
                "type": "apply-component",
                "properties": {"component": c.name},
                "dependsOn": list(c.dependencies),
            },
            c.where,
        )
        for c in components
    ]
    return Node.of({"mode": {"steps": "DAG"}}, doc.where).with_entry("steps", Node.list_of(steps, doc.where))


def _component(node: Node, catalogue: Catalogue) -> ComponentUse[Any]:
    keys(node, _COMPONENT_KEYS, "a component", component=node.value.get("name") if node.is_map else None)
    name = string(node.get("name"), "a component's name", node.where)
    context: dict[str, Any] = {"component": name}
    definition = lookup(catalogue, "component", node.get("type"), node.where, **context)
    try:
        params = props.build(
            definition.params, node.get("properties"), where=node.where, definition=definition.name, **context
        )
    except ParameterError as exc:
        raise shadowed.explain(exc, "component", definition) from None
    traits = []
    for t in items(node.get("traits"), "traits", **context):
        keys(t, ("type", "properties"), "a trait", **context)
        trait = lookup(catalogue, "trait", t.get("type"), t.where, **context)
        try:
            trait_params = props.build(
                trait.params, t.get("properties"), where=t.where, trait=trait.name, **context
            )
        except ParameterError as exc:
            raise shadowed.explain(exc, "trait", trait) from None
        traits.append(TraitUse(definition=trait, params=trait_params, where=t.where))
    deps = tuple(
        string(d, "dependsOn item", d.where, **context)
        for d in items(node.get("dependsOn"), "dependsOn", **context)
    )
    return ComponentUse(
        name=name,
        definition=definition,
        params=params,
        where=node.where,
        traits=tuple(traits),
        dependencies=deps,
    )


def _policy(node: Node, catalogue: Catalogue, components: list[ComponentUse[Any]]) -> PolicyUse[Any]:
    keys(node, ("name", "type", "properties"), "a policy")
    name = string(node.get("name"), "a policy's name", node.where)
    definition = lookup(catalogue, "policy", node.get("type"), node.where)
    if definition is override:  # its properties are the components' (and traits'), converted per class
        params = override_params(node.get("properties"), catalogue, components, name)
        return PolicyUse(name=name, definition=definition, params=params, where=node.where)
    params = props.build(
        definition.params, node.get("properties"), where=node.where, definition=definition.name
    )
    return PolicyUse(name=name, definition=definition, params=params, where=node.where)
