"""What the dashboard shows, read from the target: the apps' state records and live objects.

Reads only: nothing here writes to the cluster, and a record that cannot be read is shown
as an error on its row, never "repaired".
"""

from __future__ import annotations

from typing import Any

import attrs

from pyvela._app.flowgraph import WorkflowGraph, graph_of_spec, phases_of
from pyvela._backends.protocol import Backend
from pyvela._core.objects import ObjectRef
from pyvela._ui.revdiff import revision_diff
from pyvela._workflow import listing
from pyvela._workflow.state import StateStore
from pyvela._workflow.view import AppView
from pyvela.errors import StateError

#: The cluster objects are shown under until multi-cluster records say which cluster holds each.
LOCAL = "local"
_INDEX_FIELDS = ("number", "hash", "kind", "phase", "started", "finished", "message", "rollback_of")


def list_apps(backend: Backend, namespace: str | None = None) -> list[dict[str, Any]]:
    """Every app on the target (in ``namespace``, else all), as ``pyvela ls`` lists them."""
    return [attrs.asdict(row) for row in listing.list_apps(backend, namespace)]


def snapshot(backend: Backend, namespace: str, app: str) -> dict[str, Any]:
    """The latest revision's phase and each step's phase, message and outputs: what a page's
    live view follows (read from the record's index and the latest revision's parts)."""
    record = StateStore(backend, app, namespace).load(revisions="latest")
    if not record or not record["revisions"]:
        return {"revision": None, "phase": None, "message": "", "steps": {}}
    rev = record["revisions"][-1]
    phase, message = rev.get("phase"), rev.get("message") or ""
    if phase == "running":  # as `status` says it: a run whose process is gone is not running
        gone = AppView(backend, StateStore(backend, app, namespace)).interrupted(rev)
        if gone is not None:
            phase, message = "interrupted", gone["message"]
    return {
        "revision": rev.get("number"),
        "phase": phase,
        "message": message,
        "steps": {
            name: {k: st.get(k) for k in ("phase", "reason", "message", "outputs", "elapsed")}
            for name, st in (rev.get("steps") or {}).items()
        },
    }


def graph_of(rev: dict[str, Any]) -> WorkflowGraph | None:
    """The workflow graph of a revision, coloured by its steps' phases; None when the revision
    records no app spec (one adopted from KubeVela)."""
    spec = rev.get("spec")
    if not isinstance(spec, dict):
        return None
    return graph_of_spec(spec, rev.get("groups")).with_phases(phases_of(rev.get("steps") or {}))


def app_detail(backend: Backend, namespace: str, app: str) -> dict[str, Any]:
    """Everything the app's page shows.

    Raises:
        StateError: the app was never deployed to the target, or its record cannot be read.
    """
    store = StateStore(backend, app, namespace)
    view = AppView(backend, store)
    status = view.status()
    record = store.load()
    if not record or not record["revisions"]:
        raise StateError(f"app {app!r} was never deployed to {backend.description}")
    rev = record["revisions"][-1]
    return {
        "status": status,
        "history": [{k: r.get(k) for k in _INDEX_FIELDS} for r in reversed(record["revisions"])],
        "graph": graph_of(rev),
        "step_types": _step_types(rev),
        "objects": group_objects(status["objects"]),
        "diff": revision_diff(record["revisions"]),
    }


def _step_types(rev: dict[str, Any]) -> dict[str, str]:
    steps = ((rev.get("spec") or {}).get("workflow") or {}).get("steps") or []
    return {str(s.get("name")): str(s.get("type") or "") for s in steps}


def group_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects by cluster, then by component (in the order they were applied), each group
    with how many of its objects are ready."""
    clusters: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for o in objects:
        cluster = str(o.get("cluster") or LOCAL)
        component = str(o.get("component") or "(no component)")
        item = dict(o, ref=str(ObjectRef.from_dict(o["object"])))
        clusters.setdefault(cluster, {}).setdefault(component, []).append(item)
    return [
        {
            "cluster": cluster,
            "components": [
                {
                    "component": component,
                    "objects": items,
                    "ready": sum(1 for i in items if i.get("ready")),
                }
                for component, items in components.items()
            ],
        }
        for cluster, components in clusters.items()
    ]
