"""What an app's deploy steps with policies would apply where: each placement's renders (its
cluster, its namespace, the components as its overrides and replications make them), for
``pyvela diff`` to compare with each cluster's live objects.

A component that such a step deploys is compared at its placements only, not on the control
target (unless a topology places it there). When two steps place the same object on one
cluster, the later step's render is what a deploy leaves, so it is the one compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pyvela._app.loader import LoadedApp
from pyvela._app.render import CLUSTER_SCOPED, RenderedObject, render_component
from pyvela._backends.fleet import clusters_of, on_cluster
from pyvela._backends.protocol import Backend
from pyvela._core.definitions import ComponentUse
from pyvela._core.objects import ObjectRef
from pyvela._core.placement import DeployPlan, Placement, plan_at, plan_deploy
from pyvela._core.policies_cluster import LOCAL
from pyvela._core.reads import reading


@attrs.frozen(kw_only=True)
class PlacedObject:
    """One object a deploy step would apply on a cluster (None: the control target)."""

    cluster: str | None
    backend: Backend
    namespace: str
    rendered: RenderedObject


def _plans(loaded: LoadedApp, clusters: Any) -> list[tuple[DeployPlan, bool]]:
    """What each placing step deploys where: a deploy step with policies (True: it deploys every
    component, only there), or an apply-component step with a cluster or a namespace (known
    when the app loads: not a step output)."""
    app = loaded.app
    known = {p.name: p for p in app.policies}
    out = []
    for name in loaded.plan.order:
        use = loaded.plan.steps[name].use
        params = use.params
        policies = getattr(params, "policies", None)
        if use.definition.name == "deploy" and isinstance(policies, tuple) and policies:
            uses = [known[n] for n in policies if n in known]
            out.append((plan_deploy(list(app.components), uses, clusters, loaded.catalogue.get), True))
        elif use.definition.name == "apply-component" and _placed(params):
            at = Placement(params.cluster or LOCAL, params.namespace or None)
            out.append((plan_at([app.component(params.component)], at, clusters), False))
    return out


def _placed(params: Any) -> bool:
    cluster, namespace = getattr(params, "cluster", ""), getattr(params, "namespace", "")
    return (
        isinstance(cluster, str)
        and isinstance(namespace, str)
        and (cluster not in ("", LOCAL) or bool(namespace))
    )


def placed_objects(loaded: LoadedApp, backend: Backend) -> tuple[set[str], list[PlacedObject]]:
    """The names of the components the app's placing steps place, and what each placement renders."""
    app = loaded.app
    if not app.policies and not any(
        ps.use.definition.name == "apply-component" and _placed(ps.use.params)
        for ps in loaded.plan.steps.values()
    ):
        return set(), []
    clusters = clusters_of(backend)
    plans = _plans(loaded, clusters)
    if not plans:
        return set(), []
    last: dict[tuple[str | None, ObjectRef], PlacedObject] = {}
    for plan, _every in plans:
        for placement in plan.placements:
            cluster = None if placement.cluster == clusters.control else placement.cluster
            target = on_cluster(backend, cluster)
            namespace = placement.namespace or app.namespace
            for c in plan.components:
                sub = attrs.evolve(
                    app, components=_as_seen_by(plan.components, c.replica_key), namespace=namespace
                )
                with reading(target):
                    rc = render_component(sub, c, revision=loaded.revision)
                for ro in rc.objects:
                    ref = ObjectRef.of(ro.object)
                    if ref.kind not in CLUSTER_SCOPED and not ref.namespace:
                        ref = attrs.evolve(ref, namespace=namespace)
                    last[(cluster, ref)] = PlacedObject(
                        cluster=cluster, backend=target, namespace=namespace, rendered=ro
                    )
    # A deploy step with policies deploys every component only where they place it.
    names = {c.name for c in app.components} if any(every for _plan, every in plans) else set()
    return names | {c.name for plan, _every in plans for c in plan.components}, list(last.values())


def _as_seen_by(components: Sequence[ComponentUse[Any]], replica_key: str) -> tuple[ComponentUse[Any], ...]:
    mine: dict[str, ComponentUse[Any]] = {}
    for c in components:
        if c.replica_key in ("", replica_key) and (c.replica_key or c.name not in mine):
            mine[c.name] = c
    return tuple(mine.values())


def placed_stale(
    record: Mapping[str, Any] | None, placed: Sequence[PlacedObject], backend: Backend
) -> list[tuple[str, Backend, ObjectRef, str | None]]:
    """What the latest revision applied on other clusters that the app no longer places there:
    ``(cluster, its backend, object, component)`` (what a deploy's prune would remove)."""
    if not record or not record.get("revisions"):
        return []
    have = {(p.cluster, _ref(p)) for p in placed}
    out = []
    for e in record["revisions"][-1].get("inventory") or []:
        cluster = e.get("cluster")
        ref = ObjectRef.from_dict(e["ref"])
        if cluster is not None and e.get("component") and (cluster, ref) not in have:
            out.append((cluster, on_cluster(backend, cluster), ref, e.get("component")))
    return out


def _ref(p: PlacedObject) -> ObjectRef:
    ref = ObjectRef.of(p.rendered.object)
    if ref.kind not in CLUSTER_SCOPED and not ref.namespace:
        ref = attrs.evolve(ref, namespace=p.namespace)
    return ref


def placed_item(item: dict[str, Any], cluster: str | None) -> dict[str, Any]:
    """A diff item of an object on another cluster: ``cluster`` set, the object named after it."""
    if cluster is None:
        return item
    return {**item, "cluster": cluster, "object": f"{cluster}: {item['object']}"}
