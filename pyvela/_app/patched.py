"""What a trait's patch may not do to a workload: leave a field Kubernetes (and the later traits
and readiness rules) reads as a mapping, or a list of containers, as another type."""

from __future__ import annotations

from typing import Any, TypeAlias

from pyvela._core.objects import Obj
from pyvela.errors import Location, RenderError

#: Where a workload must hold a mapping or a list of mappings (containers) for Kubernetes,
#: and for later traits and readiness rules to read it: a patch that replaces one of these
#: with another type is the trait's error, reported here rather than as a traceback later.
_SHAPES: tuple[tuple[tuple[str, ...], type], ...] = (
    (("metadata",), dict),
    (("metadata", "labels"), dict),
    (("spec",), dict),
    (("spec", "template"), dict),
    (("spec", "template", "metadata"), dict),
    (("spec", "template", "spec"), dict),
    (("spec", "template", "spec", "containers"), list),
    (("spec", "template", "spec", "initContainers"), list),
    (("spec", "containers"), list),
    (("spec", "initContainers"), list),
    (("spec", "jobTemplate"), dict),
    (("spec", "jobTemplate", "spec"), dict),
)


#: key -> (the type its value must have, the paths below it)
_Tree: TypeAlias = dict[str, tuple[type, "_Tree"]]


def _shape_tree() -> _Tree:
    tree: _Tree = {}
    for path, tp in _SHAPES:  # each path's parent comes before it
        node = tree
        for key in path[:-1]:
            node = node[key][1]
        node[path[-1]] = (tp, {})
    return tree


_SHAPE_TREE = _shape_tree()


def _shape_fine(node: Obj, tree: _Tree) -> bool:
    """Whether every path of _SHAPES holds exactly its type (the usual case), in one walk; False
    sends the workload to check_patched's loop, which judges it (a dict subclass passes there)."""
    for key, (tp, sub) in tree.items():
        value = node.get(key)
        if value is None:
            continue
        if type(value) is not tp:
            return False
        if tp is list:
            if not all(type(item) is dict for item in node[key]):  # node[key]: typed Any, not object
                return False
        elif sub and not _shape_fine(node[key], sub):
            return False
    return True


def check_patched(workload: Obj, *, where: Location, **context: Any) -> None:
    if type(workload) is dict and _shape_fine(workload, _SHAPE_TREE):
        return
    for path, tp in _SHAPES:
        value: Any = workload
        for key in path:
            value = value.get(key) if type(value) is dict or isinstance(value, dict) else None
            if value is None:
                break
        if value is None:
            continue
        items = value if isinstance(value, list) and path[-1].endswith("ontainers") else []
        if not isinstance(value, tp) or not all(isinstance(i, dict) for i in items):
            expected = "a list of mappings (containers)" if tp is list else "a mapping"
            raise RenderError(
                f"the trait's patch leaves {'.'.join(path)} of the workload as the wrong type",
                where=where,
                expected=expected,
                got=f"{value!r}"[:80] + f" ({type(value).__name__})",
                fix="patch the fields inside it (a mapping merges key by key) instead of replacing it",
                **context,
            )
