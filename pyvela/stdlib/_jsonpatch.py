# This module walks and edits JSON documents of any shape in place, where every value is
# Any: pyright's strict "unknown" reports would only be silenced by casts at each step.
# pyright: reportUnknownVariableType=false, reportUnknownMemberType=false, reportUnknownArgumentType=false
"""RFC 7396 merge patches and RFC 6902 JSON patches, and turning their result into a pyvela patch.

pyvela merges a trait's patch into the workload by key. :func:`as_merge_patch` finds a
patch that pyvela's own :func:`pyvela.merge` turns the workload into exactly the wanted
document with, and checks it by applying it: changed items of lists merged by key are
patched by key, and a list whose items were removed, renamed or reordered is replaced
whole (:class:`~pyvela._core.merge.Replace`), as RFC 7396 replaces every list.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pyvela import merge
from pyvela._core.merge import Replace
from pyvela.errors import RenderError

_KEYS = ("name", "mountPath", "containerPort", "ip", "key", "prefix", "devicePath")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target`` (neither is modified)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    out = dict(copy.deepcopy(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer {path!r} must start with '/'", trait="json-patch")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    parts = _pointer(path)
    if not parts:
        raise RenderError("the whole document cannot be the target of this operation", trait="json-patch")
    node = doc
    for part in parts[:-1]:
        node = _child(node, part, path)
    return node, parts[-1]


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise RenderError(f"path {path!r} does not exist in the workload", trait="json-patch", got=part)


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in _pointer(path):
        node = _child(node, part, path)
    return node


def _remove(doc: Any, path: str) -> Any:
    parent, last = _parent(doc, path)
    _child(parent, last, path)
    return parent.pop(int(last) if isinstance(parent, list) else last)


def _add(doc: Any, path: str, value: Any) -> None:
    parent, last = _parent(doc, path)
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise RenderError(f"index {last!r} of {path!r} is out of range", trait="json-patch")
        parent.insert(index, copy.deepcopy(value))
    elif isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    else:
        raise RenderError(f"path {path!r} does not exist in the workload", trait="json-patch")


def json_patch(doc: Any, operations: list[Mapping[str, Any]]) -> Any:
    """RFC 6902: ``operations`` applied in order to a copy of ``doc``."""
    out = copy.deepcopy(doc)
    for op in operations:
        kind, path = op["op"], op["path"]
        if kind == "add":
            _add(out, path, op["value"])
        elif kind == "remove":
            _remove(out, path)
        elif kind == "replace":
            _remove(out, path)
            _add(out, path, op["value"])
        elif kind == "move":
            _add(out, path, _remove(out, op["from"]))
        elif kind == "copy":
            _add(out, path, _get(out, op["from"]))
        elif _get(out, path) != op["value"]:  # test
            raise RenderError(f"test of {path!r} failed", trait="json-patch", expected=repr(op["value"]))
    return out


def _fits(field: str, base: list[Any], candidate: list[Any], target: list[Any]) -> bool:
    # pyvela merges lists by the field's name only, so a one-field document shows how it merges.
    return merge({field: base}, {field: candidate}) == {field: target}


def _keyed(field: str, base: list[Any], target: list[Any]) -> list[Any] | None:
    if not all(isinstance(i, Mapping) for i in base + target):
        return None
    for key in _KEYS:
        if not all(key in i for i in base + target):
            continue
        old = {i[key]: i for i in base}
        candidate: list[Any] = []
        for item in target:
            was = old.get(item[key])
            if was is None:
                candidate.append(item)
                continue
            change = {**_diff(was, item), key: item[key]}
            if _fits(field, [was], [change], [item]):
                candidate.append(change)
                continue
            # A field that cannot be merged into (an item removed from a nested keyed
            # list): delete it with a first item of the same key, set it with a second.
            changed = [f for f in item if was.get(f) != item[f]]
            gone = [f for f in was if f not in item]
            candidate.append({key: item[key], **dict.fromkeys(changed + gone)})
            candidate.append({key: item[key], **{f: item[f] for f in changed}})
        if _fits(field, base, candidate, target):
            return candidate
    return None


def _diff(base: Any, target: Any, field: str = "") -> Any:
    if isinstance(base, Mapping) and isinstance(target, Mapping):
        out: dict[str, Any] = dict.fromkeys(k for k in base if k not in target)
        for key, value in target.items():
            if key not in base:
                out[key] = value
            elif base[key] != value:
                out[key] = _diff(base[key], value, key)
        return out
    if isinstance(base, list) and isinstance(target, list) and not _fits(field, base, target, target):
        keyed = _keyed(field, base, target)
        return keyed if keyed is not None else Replace(target)
    return target


def as_merge_patch(workload: Mapping[str, Any], wanted: Mapping[str, Any], *, trait: str) -> dict[str, Any]:
    """A patch that :func:`pyvela.merge` turns ``workload`` into ``wanted`` with."""
    patch = _diff(workload, wanted)
    if merge(dict(workload), patch) != wanted:
        raise RenderError(
            "the patched workload cannot be expressed as a pyvela merge patch",
            trait=trait,
            expected="changes that keep every item of lists merged by key (containers, env, volumes...)",
            fix="change those items instead of removing them, or wait for replace strategies in the core",
        )
    result: dict[str, Any] = patch
    return result
