"""``pyvela diff``: what a deploy would change, object by object, against the live cluster.

Each item's ``change`` is one of ``create``, ``update``, ``unchanged``, ``prune`` (the
deploy would remove it: a live revision applied it and the app no longer renders it) or
``kept`` (no longer rendered, but a garbage-collect policy keeps it).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from pyvela._app.loader import LoadedApp
from pyvela._app.render import CLUSTER_SCOPED, RenderedObject, render_component
from pyvela._backends.protocol import Backend
from pyvela._core.masking import mask_secrets
from pyvela._core.merge import merge
from pyvela._core.objects import LABEL_MANAGED_BY, MANAGER, Obj, ObjectRef, deep_copy, is_helm_release
from pyvela._core.reads import reading
from pyvela._core.steps import StepGroup
from pyvela._workflow.gc import History, gc_params
from pyvela._workflow.placed import placed_item, placed_objects, placed_stale
from pyvela._workflow.policies import ResourcePolicies
from pyvela._workflow.revisions import stale_objects
from pyvela._workflow.state import StateStore
from pyvela.errors import ParameterError

_VOLATILE = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp")

#: Changes that make ``pyvela diff`` exit 1, as ``kubectl diff`` does for any difference.
DIFFERENT = frozenset({"create", "update", "prune"})


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


def _live_sources(record: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The revisions whose recorded results the live objects hold, the one applied first first:
    the live revision, after the revision it restored when it is a rollback."""
    if not record or not record["revisions"]:
        return []
    live = record["revisions"][-1]
    restored = [r for r in record["revisions"] if r["number"] == live.get("rollback_of")]
    return [*restored, live] if live.get("kind") == "rollback" else [live]


def _live_patches(record: Mapping[str, Any] | None) -> dict[ObjectRef, Any]:
    """The step patches of the live revision; for a rollback, those of the revision it restored."""
    patches: dict[ObjectRef, Any] = {}
    for rev in _live_sources(record):
        for e in rev.get("inventory") or []:
            if e.get("patch"):
                patches[ObjectRef.from_dict(e["ref"])] = e["patch"]
    return patches


def _live_outputs(record: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The steps' outputs the live revision recorded (for a rollback, the restored revision's
    where the rollback's own run has none)."""
    outputs: dict[str, Mapping[str, Any]] = {}
    for rev in _live_sources(record):
        for name, st in (rev.get("steps") or {}).items():
            if st.get("outputs"):
                outputs[name] = st["outputs"]
    return outputs


def _replayed(loaded: LoadedApp, record: Mapping[str, Any] | None) -> dict[str, Any]:
    """Components' parameters as the steps that apply them set them from other steps' outputs
    (a KubeVela step's ``inputs`` with a property's ``parameterKey``), those outputs replayed
    from the live revision, as its workload patches are: a deploy that produces the same
    outputs applies these, not the properties as written."""
    outputs = _live_outputs(record)
    workflow = loaded.app.workflow
    if not outputs or workflow is None:
        return {}
    uses = [u for s in workflow.steps for u in (s.steps if isinstance(s, StepGroup) else (s,))]
    out: dict[str, Any] = {}
    for use in uses:
        replay = getattr(use.definition.run, "component_params", None)
        if replay is None:
            continue
        try:
            found = replay(use.name, use.params, outputs)
        except ParameterError:
            continue  # the recorded value no longer fits the property: the deploy will say so
        if found is not None:
            out[found[0]] = found[1]
    return out


def _gc_keeps(loaded: LoadedApp, record: Mapping[str, Any]) -> Callable[[ObjectRef], bool]:
    """Whether the garbage-collect policy keeps an object the deploy would no longer have
    (``keep_legacy_resource``, or the strategy its last revision noted for it)."""
    gc = gc_params(loaded.app.policies)
    if gc.keep_legacy_resource:
        return lambda ref: True
    strategies = History(record).strategies
    return lambda ref: strategies.get((None, ref), "onAppUpdate") != "onAppUpdate"


def charts_of(args: Any) -> Any:
    """The ``helmrender.Charts`` of ``--no-charts``/``--strict`` (None without them: the
    helm code is imported only for an app with a HelmRelease)."""
    no_charts, strict = getattr(args, "no_charts", False), getattr(args, "strict", False)
    if not (no_charts or strict):
        return None
    from pyvela._cli.helmrender import Charts

    return Charts(open=not no_charts, strict=strict)


def diff_app(
    loaded: LoadedApp,
    backend: Backend,
    *,
    namespace: str | None = None,
    show_secrets: bool = False,
    charts: Any = None,
) -> list[dict[str, Any]]:
    """Each rendered object with ``change`` and a unified diff, then what the deploy would prune.

    ``charts``: how HelmReleases' charts are opened (``helmrender.Charts``; default: opened,
    a chart that cannot be is a warning).

    The server computes the result (a dry-run apply), so defaulted and server-set fields
    do not show up as changes. Values that steps inject at run time (such as
    ``BackendIP``) come from the step: the live revision's patch is replayed, and so are
    its recorded outputs where a KubeVela step's inputs set its component's properties. Before the
    app's namespace exists nothing can be dry-run, and everything is to be created.
    """
    ns = namespace or loaded.app.namespace
    record = StateStore(backend, loaded.app.name, ns).load()
    patches = _live_patches(record)
    namespace_ref = ObjectRef("v1", "Namespace", "", ns)
    namespace_exists = backend.get(namespace_ref) is not None
    out: list[dict[str, Any]] = []
    rendered: list[dict[str, Any]] = []
    policies = ResourcePolicies(
        ((p.definition.name, p.params) for p in loaded.app.policies),
        component_types={c.name: c.definition.name for c in loaded.app.components},
    )
    replayed = _replayed(loaded, record)
    with reading(backend):  # ref-objects: the objects it reads from the cluster diffed
        components = [
            render_component(loaded.app, c.with_params(replayed.get(c.name)), revision=loaded.revision)
            for c in loaded.app.components
        ]
    from pyvela._cli.check import guard_render

    guard_render(loaded, components, what="nothing was compared")

    def compare(
        ro: RenderedObject, target: Backend, ns: str, exists: bool, cluster: str | None = None, note: str = ""
    ) -> None:
        obj = deep_copy(ro.object)
        patched = cluster is None and ro.output is None and ObjectRef.of(obj) in patches
        if patched:
            # Steps patch workloads at run time (BackendIP); replay the live revision's patch
            # so the diff shows what a deploy would change, not the step's own values.
            obj = merge(obj, patches[ObjectRef.of(obj)])
        if obj.get("kind") not in CLUSTER_SCOPED:
            meta = obj.setdefault("metadata", {})
            meta["namespace"] = (namespace if cluster is None else None) or meta.get("namespace") or ns
        ref = ObjectRef.of(obj)
        if cluster is None:
            rendered.append({"ref": ref.to_dict()})
        live = target.get(ref)
        facts = policies.facts(ref, component=ro.component, trait=ro.trait, output=ro.output)
        # What a deploy writes: read-only objects and what apply-once leaves stay as they are.
        desired = None if policies.read_only(facts) else policies.drift(obj, live, facts)
        if desired is None and live is not None:
            after: Obj = live
        elif not exists and ref.kind not in CLUSTER_SCOPED:
            after = desired or obj  # nothing to dry-run against: the namespace comes with the deploy
        else:
            # helm, not pyvela, writes a chart's objects: the fields it owns are no conflict.
            after = target.apply(desired or obj, dry_run=True, force=ro.output == "chart")
        item = _item(ref, ro.component, live, after, show_secrets=show_secrets)
        if patched:
            item["note"] = "with the step's workload patch from the live revision"
        elif cluster is None and ro.component in replayed:
            item["note"] = "with the properties the step's inputs set, from the live revision's outputs"
        if note:
            item["note"] = note
        out.append(placed_item(item, cluster))
        if cluster is None and is_helm_release(ro.object):  # the chart's own objects after it
            nonlocal charts
            if charts is None:
                from pyvela._cli.helmrender import Charts

                charts = Charts()
            for chart_ro, origin in charts.rendered(ro, ns, target.get):
                compare(chart_ro, target, ns, exists, note=origin)

    placed_names, placed = placed_objects(loaded, backend)  # what deploy steps with policies place
    for rc in components:
        # An object rendered twice (a webservice's exposed port and a gateway's Service): the
        # deploy leaves the last one (render warns), so only that one is compared.
        last = {ObjectRef.of(ro.object): i for i, ro in enumerate(rc.objects)}
        for i, ro in enumerate(rc.objects):
            if ro.component not in placed_names and last[ObjectRef.of(ro.object)] == i:
                compare(ro, backend, ns, namespace_exists)
    exists: dict[tuple[str | None, str], bool] = {}
    for p in placed:
        key = (p.cluster, p.namespace)
        if key not in exists:
            exists[key] = p.backend.get(ObjectRef("v1", "Namespace", "", p.namespace)) is not None
        compare(p.rendered, p.backend, p.namespace, exists[key], p.cluster)
    for cluster, target, ref, component in placed_stale(record, placed, backend):
        live = target.get(ref)
        if live is not None:
            out.append(placed_item(_item(ref, component, live, None, show_secrets=show_secrets), cluster))
    if not namespace_exists and not any(o["object"] == str(namespace_ref) for o in out):
        ns_obj: Obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {LABEL_MANAGED_BY: MANAGER}},
        }
        out.insert(0, _item(namespace_ref, None, None, ns_obj, show_secrets=show_secrets))
    if record is not None:
        out += _pruned(record, rendered, backend, keep=_gc_keeps(loaded, record), show_secrets=show_secrets)
    return out


def _pruned(
    record: dict[str, Any],
    rendered: list[dict[str, Any]],
    backend: Backend,
    *,
    keep: Callable[[ObjectRef], bool],
    show_secrets: bool,
) -> list[dict[str, Any]]:
    components = {
        ObjectRef.from_dict(e["ref"]): e.get("component")
        for rev in record["revisions"]
        for e in rev.get("inventory") or []
        if e.get("cluster") is None  # objects on other clusters: placed_stale
    }
    out = []
    for ref in stale_objects(record, {"inventory": rendered}):
        if components.get(ref) is None:
            continue  # applied by a workflow step's own code: the step decides, not the render
        live = backend.get(ref)
        if live is None:
            continue
        if keep(ref):
            item = _item(ref, components.get(ref), live, live, show_secrets=show_secrets)
            item.update(change="kept", note="no longer rendered; the garbage-collect policy keeps it")
        else:
            item = _item(ref, components.get(ref), live, None, show_secrets=show_secrets)
            item["change"] = "prune"
        out.append(item)
    return out


def _item(
    ref: ObjectRef, component: str | None, live: Obj | None, after: Obj | None, *, show_secrets: bool
) -> dict[str, Any]:
    if not show_secrets:
        live, after = mask_secrets(live, after)
    before_text, after_text = _normal(live), _normal(after)
    if live is None:
        change = "create"
    elif after is None:
        change = "prune"
    else:
        change = "unchanged" if before_text == after_text else "update"
    diff = ""
    if change != "unchanged":
        diff = "".join(
            difflib.unified_diff(
                before_text.splitlines(keepends=True),
                after_text.splitlines(keepends=True),
                fromfile=f"live/{ref}",
                tofile=f"app/{ref}",
            )
        )
    return {"object": str(ref), "component": component, "change": change, "diff": diff}
