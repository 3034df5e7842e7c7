"""Building trait patches the way KubeVela's CUE patch strategies behave.

pyvela merges a trait's patch into the workload by key (containers by name). KubeVela's
``+patchStrategy=replace`` / ``retainKeys`` replace a field instead; :func:`replacing`
expresses that with the documented merge rules alone: in a list merged by name, a first
item setting the field to ``None`` deletes it, a second item of the same name sets it anew.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import attrs

from pyvela.errors import RenderError

Patch = dict[str, Any]


def _map(value: Any) -> Mapping[str, Any] | None:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else None


def template_spec(workload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``spec.template.spec``, or None when the workload has no pod template there."""
    template = _map((_map(workload.get("spec")) or {}).get("template"))
    if template is None:
        return None
    return _map(template.get("spec")) or {}


def containers(workload: Mapping[str, Any], field: str = "containers") -> list[Mapping[str, Any]]:
    items: Any = (template_spec(workload) or {}).get(field) or []
    found = [_map(c) for c in items]
    return [c for c in found if c is not None]


def container(workload: Mapping[str, Any], name: str, *, trait: str) -> Mapping[str, Any]:
    """The container called ``name`` of ``spec.template``; KubeVela's "container X not found" otherwise."""
    found = [c for c in containers(workload) if c.get("name") == name]
    if not found:
        raise RenderError(
            f"container {name} not found",
            trait=trait,
            expected="one of " + ", ".join(repr(c.get("name")) for c in containers(workload)),
            got=repr(name),
            fix="set container_name to one of the workload's containers",
        )
    return found[0]


def on_pod_spec(pod_spec: Patch) -> Patch:
    return {"spec": {"template": {"spec": pod_spec}}}


def on_containers(items: list[Patch]) -> Patch:
    return on_pod_spec({"containers": items})


def replacing(name: str, fields: Mapping[str, Any], *, key: str = "name") -> list[Patch]:
    """Two list items that replace ``fields`` of the item ``name`` instead of merging into them."""
    return [{key: name, **dict.fromkeys(fields)}, {key: name, **fields}]


def main_container(default: str, given: str) -> str:
    """KubeVela's ``containerName``: empty means the container named after the component."""
    return given or default


def targets(ctx: Any, single: Any, many: tuple[Any, ...] | None, what: str) -> list[Any]:
    """KubeVela's two parameter forms: one patch for the main container, or ``containers``."""
    if many is None:
        name = single.container_name or ctx.name
        return [attrs.evolve(single, container_name=name)]
    for item in many:
        if not item.container_name:
            raise ValueError(f"container_name must be set for each of {what}")
    return list(many)


def no_single_form(params: Any, single: type[Any], what: str) -> None:
    if params.containers is None:
        return
    for field in attrs.fields(single):
        if getattr(params, field.name) != field.default:
            raise ValueError(
                f"{field.name} cannot be combined with containers (give it per container in {what})"
            )
