"""``status`` of the objects an app placed on other clusters (topology policies), with their
live health read from each cluster, and a summary per cluster; a cluster that does not
answer is reported as such (its objects: not ready, the cluster's message)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyvela._app.application import Application
from pyvela._backends.fleet import on_cluster
from pyvela._backends.protocol import Backend, Readiness
from pyvela._core.objects import ObjectRef
from pyvela._workflow.health import rule_of
from pyvela.errors import PyvelaError


def cluster_objects(
    backend: Backend,
    application: Application | None,
    inventory: Sequence[Mapping[str, Any]],
    summary: Callable[[Any], dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The status rows of the inventory's objects on other clusters (each with ``cluster``;
    ``summary``: a live object's summary, as view makes it), and per cluster: how many
    objects, how many ready, and why it could not be read."""

    rows: list[dict[str, Any]] = []
    clusters: dict[str, dict[str, Any]] = {}
    for e in inventory:
        cluster = e.get("cluster")
        if cluster is None:
            continue
        ref = ObjectRef.from_dict(e["ref"])
        info = clusters.setdefault(cluster, {"objects": 0, "ready": 0, "reachable": True, "message": ""})
        info["objects"] += 1
        live = None
        if info["reachable"]:
            try:
                live = on_cluster(backend, cluster).get(ref)
            except PyvelaError as exc:
                info["reachable"], info["message"] = False, exc.message
        if not info["reachable"]:
            verdict = Readiness(False, f"cluster {cluster} does not answer: {info['message']}")
        elif live is None:
            verdict = Readiness(False, "missing")
        else:
            verdict = rule_of(application, ref, dict(e))(live)
        info["ready"] += int(verdict.ready)
        rows.append(
            {
                "object": ref.to_dict(),
                "cluster": cluster,
                "component": e.get("component"),
                "trait": e.get("trait"),
                "ready": verdict.ready,
                "message": verdict.message,
                "live": summary(live),
            }
        )
    return rows, clusters
