"""``k8s-objects``: raw Kubernetes objects as a component.

Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/k8s-objects.cue: the
first object is the workload (of whatever kind it is), the others are the component's
outputs ``objects-1``, ``objects-2``... in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import attrs

from pyvela import ComponentContext, Obj, Rendered, WorkloadType, component

from ._types import Params, as_map

ANY = WorkloadType(api_version="*", kind="*")


@attrs.frozen(kw_only=True)
class K8sObjectsParams(Params):
    """Parameters of ``k8s-objects``.

    Attributes:
        objects: The objects, as Kubernetes writes them (``apiVersion``, ``kind``, ``metadata``
            with a ``name``...): the first is the component's workload, named after the
            component when it has no name (as KubeVela names a workload); the others need one.
    """

    objects: tuple[Mapping[str, Any], ...]

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if not self.objects:
            raise ValueError("objects: at least one object is needed (the first is the workload)")
        for i, obj in enumerate(self.objects):
            meta: Any = obj.get("metadata")
            if not obj.get("apiVersion") or not obj.get("kind"):
                raise ValueError(f"objects[{i}]: apiVersion and kind are required")
            if meta is not None and not isinstance(meta, Mapping):
                raise ValueError(f"objects[{i}]: metadata must be a mapping")
            # KubeVela names a nameless output after a hash of Go's printing of it: no name to match.
            if i > 0 and not cast(Mapping[str, Any], meta or {}).get("name"):
                raise ValueError(f"objects[{i}]: metadata.name is required (only the first may omit it)")


@component(name="k8s-objects", params=K8sObjectsParams, workload=ANY)
def k8s_objects(p: K8sObjectsParams, ctx: ComponentContext) -> Obj | Rendered:
    """Raw Kubernetes objects: the first is the workload, the others its outputs.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/k8s-objects.cue.
    """
    first: Obj
    first, *rest = (plain(o) for o in p.objects)
    meta: dict[str, Any] = first.get("metadata") or {}
    first["metadata"] = meta
    if not meta.get("name"):
        meta["name"] = ctx.name  # KubeVela's renderer names a nameless workload after its component
    if not rest:
        return first
    return Rendered(workload=first, outputs={f"objects-{i}": o for i, o in enumerate(rest, start=1)})


def plain(value: Any) -> Any:
    """``value`` as plain JSON data (dicts and lists)."""
    # The parameters are immutable (mappings, tuples); a rendered object is plain JSON data.
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in as_map(value).items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in cast(Sequence[Any], value)]
    return value
