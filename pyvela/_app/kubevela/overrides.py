"""A KubeVela ``override`` policy's YAML into :class:`~pyvela._core.policies_cluster.OverrideParams`.

Its ``properties`` are camelCase values for the parameters of the components (and traits)
each patch selects, so they are converted against those parameter classes here, where the
YAML lines are known: a patch naming no component (or a ``*`` pattern) that selects
components of different definitions becomes one patch per component. Only the keys written
are converted; the runner merges them into each placement's copy of the component.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela import props
from pyvela._app.kubevela.fields import items, keys, lookup
from pyvela._app.kubevela.marked import Node
from pyvela._core.definitions import ComponentUse
from pyvela._core.policies_cluster import ComponentPatch, OverrideParams, TraitPatch
from pyvela.errors import ParameterError


def override_params(
    node: Node | None, catalogue: Catalogue, components: Sequence[ComponentUse[Any]], name: str
) -> OverrideParams:
    """The parameters of override policy ``name`` (its ``properties`` node)."""
    context: dict[str, Any] = {"definition": "override"}
    if node is None or not node.is_map:
        raise ParameterError(
            f"override policy {name!r} needs properties.components",
            where=node.where if node is not None else None,
            expected="properties: {components: [...]}",
            got="nothing" if node is None else repr(node.value),
            **context,
        )
    keys(node, ("components", "selector"), "override properties", **context)
    patches: list[ComponentPatch] = []
    for p in items(node.get("components"), "components", **context):
        patches.extend(_patches(p, catalogue, components, context))
    selector_node = node.get("selector")
    selector = None
    if selector_node is not None and selector_node.value is not None:
        selector = tuple(str(s.value) for s in items(selector_node, "selector", **context))
    return OverrideParams(components=tuple(patches), selector=selector)


def _patches(
    p: Node, catalogue: Catalogue, components: Sequence[ComponentUse[Any]], context: dict[str, Any]
) -> list[ComponentPatch]:
    keys(p, ("name", "type", "properties", "traits"), "an override's component", **context)
    name = None if p.get("name") is None else str(p["name"].value)
    type_ = None if p.get("type") is None else str(p["type"].value)
    if type_ is not None:
        lookup(catalogue, "component", p.get("type"), p.where)
    traits = tuple(_trait(t, catalogue, context) for t in items(p.get("traits"), "traits", **context))
    props_node = p.get("properties")
    if name is not None:
        pattern = re.compile(".*".join(re.escape(part) for part in name.split("*")))
        hit = [c for c in components if pattern.fullmatch(c.name)]
    else:
        hit = [c for c in components if type_ in (None, c.definition.name)]
    if not hit or (type_ is not None and any(c.definition.name != type_ for c in hit)):
        # A component added, or one replaced by another type: the properties are the type's.
        cls = catalogue.get("component", type_).params if type_ is not None else None  # type: ignore[union-attr]
        values = _convert(cls, props_node, context) if cls is not None else {}
        return [ComponentPatch(name=name, type=type_, properties=values, traits=traits)]
    classes = {c.definition.params for c in hit}
    if len(classes) == 1:
        values = _convert(next(iter(classes)), props_node, context)
        return [ComponentPatch(name=name, type=type_, properties=values, traits=traits)]
    return [
        ComponentPatch(
            name=c.name,
            type=type_,
            properties=_convert(c.definition.params, props_node, context),
            traits=traits,
        )
        for c in hit
    ]


def _trait(t: Node, catalogue: Catalogue, context: dict[str, Any]) -> TraitPatch:
    keys(t, ("type", "properties", "disable"), "an override's trait", **context)
    definition = lookup(catalogue, "trait", t.get("type"), t.where)
    disable = t.get("disable")
    if disable is not None and not isinstance(disable.value, bool):
        raise ParameterError(
            "an override's trait: disable must be true or false",
            where=disable.where,
            expected="a boolean",
            got=repr(disable.value),
            **context,
        )
    values = _convert(definition.params, t.get("properties"), {**context, "trait": definition.name})
    return TraitPatch(
        type=definition.name, properties=values, disable=bool(disable.value) if disable else False
    )


def _convert(cls: Any, node: Node | None, context: dict[str, Any]) -> dict[str, Any]:
    """The properties written, as the parameters of ``cls`` they set (only those)."""
    if node is None or node.value is None:
        return {}
    return props._kwargs(cls, node, where=node.where, path="", context=context)
