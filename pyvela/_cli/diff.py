"""``pyvela diff``: what a deploy would change, object by object, against the live cluster."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from pyvela._app.loader import LoadedApp
from pyvela._app.render import render_app
from pyvela._backends.protocol import Backend
from pyvela._core.merge import merge
from pyvela._core.objects import Obj, ObjectRef, deep_copy
from pyvela._workflow.state import StateStore

_VOLATILE = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp")


def _normal(obj: Obj | None) -> str:
    if obj is None:
        return ""
    data = deep_copy(obj)
    data.pop("status", None)
    meta = data.get("metadata") or {}
    for key in _VOLATILE:
        meta.pop(key, None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return str(yaml.safe_dump(data, sort_keys=True, default_flow_style=False))


def _last_patches(loaded: LoadedApp, backend: Backend, namespace: str) -> dict[ObjectRef, Any]:
    record = StateStore(backend, loaded.app.name, namespace).load()
    if not record or not record["revisions"]:
        return {}
    inventory = record["revisions"][-1].get("inventory") or []
    return {ObjectRef.from_dict(e["ref"]): e["patch"] for e in inventory if e.get("patch")}


def diff_app(loaded: LoadedApp, backend: Backend, *, namespace: str | None = None) -> list[dict[str, Any]]:
    """Each rendered object with ``change`` (create/update/unchanged) and a unified diff.

    The server computes the result (a dry-run apply), so defaulted and server-set fields
    do not show up as changes. Values that steps inject at run time (such as
    ``BackendIP``) come from the step and are not part of the rendered objects.
    """
    out = []
    patches = _last_patches(loaded, backend, namespace or loaded.app.namespace)
    for rc in render_app(loaded.app, revision=loaded.revision):
        for ro in rc.objects:
            obj = deep_copy(ro.object)
            patched = ro.output is None and ObjectRef.of(obj) in patches
            if patched:
                # Steps patch workloads at run time (BackendIP); replay the last run's patch so
                # the diff shows what a deploy would change, not the step's own values.
                obj = merge(obj, patches[ObjectRef.of(obj)])
            if namespace and "namespace" in obj.get("metadata", {}):
                obj["metadata"]["namespace"] = namespace
            ref = ObjectRef.of(obj)
            live = backend.get(ref)
            after = backend.apply(obj, dry_run=True)
            before_text, after_text = _normal(live), _normal(after)
            change = "create" if live is None else ("unchanged" if before_text == after_text else "update")
            diff = (
                "".join(
                    difflib.unified_diff(
                        before_text.splitlines(keepends=True),
                        after_text.splitlines(keepends=True),
                        fromfile=f"live/{ref}",
                        tofile=f"app/{ref}",
                    )
                )
                if change != "unchanged"
                else ""
            )
            item = {"object": str(ref), "component": ro.component, "change": change, "diff": diff}
            if patched:
                item["note"] = "with the step's workload patch from the last run"
            out.append(item)
    return out
