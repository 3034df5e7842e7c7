"""The diff of an app's last revision against the one before: its spec, and each object it
applied, from the manifests the two revisions recorded (no app file needed).

Secret values are masked as ``pyvela diff`` masks them: a reader sees that a value changed,
never the value.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import yaml

from pyvela._core.masking import mask_nested, mask_secrets
from pyvela._core.objects import Obj, ObjectRef, deep_copy

_VOLATILE = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(yaml.safe_dump(value, sort_keys=True, default_flow_style=False))


def _normal(obj: Obj | None) -> Obj | None:
    if obj is None:
        return None
    data: Obj = deep_copy(obj)
    data.pop("status", None)
    meta = data.get("metadata") or {}
    for key in _VOLATILE:
        meta.pop(key, None)
    return data


def _unified(before: str, after: str, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=old, tofile=new
        )
    )


def _manifests(rev: dict[str, Any]) -> dict[str, Obj]:
    out: dict[str, Obj] = {}
    for e in rev.get("inventory") or []:
        if isinstance(e.get("manifest"), dict):
            ref = str(ObjectRef.from_dict(e["ref"]))
            # The same object on two clusters (topology policies) is two objects.
            out[ref if e.get("cluster") is None else f"{ref} on cluster {e['cluster']}"] = e["manifest"]
    return out


def revision_diff(revisions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the last of ``revisions`` changed from the one before it.

    ``objects`` lists each object that was added, changed or removed (by the manifests each
    revision applied; a revision still running has applied only part of its objects),
    ``unchanged`` counts the rest.
    """
    if not revisions:
        return {"previous": None, "current": None, "spec": "", "objects": [], "unchanged": 0}
    last = revisions[-1]
    prev = revisions[-2] if len(revisions) > 1 else {}
    old_tag, new_tag = f"revision {prev.get('number', 0)}", f"revision {last.get('number')}"
    old_spec, new_spec = mask_nested(prev.get("spec"), last.get("spec"))  # manifests in properties
    spec = _unified(_text(old_spec), _text(new_spec), old_tag, new_tag)
    before, after = _manifests(prev), _manifests(last)
    objects: list[dict[str, Any]] = []
    unchanged = 0
    for ref in [*after, *(r for r in before if r not in after)]:
        old, new = mask_secrets(_normal(before.get(ref)), _normal(after.get(ref)))
        old_text, new_text = _text(old), _text(new)
        if old_text == new_text:
            unchanged += 1
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        objects.append(
            {
                "object": ref,
                "change": change,
                "diff": _unified(old_text, new_text, f"{old_tag}/{ref}", f"{new_tag}/{ref}"),
            }
        )
    return {
        "previous": prev.get("number"),
        "current": last.get("number"),
        "spec": spec,
        "objects": objects,
        "unchanged": unchanged,
    }
