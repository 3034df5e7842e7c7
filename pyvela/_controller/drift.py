"""Drift: an owned object edited or deleted by someone else since the app's last successful
revision applied it, found by reading (no write when nothing drifted) and corrected by
applying the recorded manifest again through the executor, so the apply-once policy
decides, exactly as in a deploy, what is left as it is; enabled without rules, it also leaves
a deleted object deleted until the next revision, as KubeVela's state keep does."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pyvela._backends.protocol import Backend
from pyvela._controller.cache import Reads
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, ObjectRef
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.inventory import Inventory
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.policies import ANNOTATION_RENDER_HASH, ResourcePolicies
from pyvela._workflow.state import AppLock, StateStore
from pyvela._workflow.view import AppView

#: Fields the API server owns on every object: never drift.
_SERVER_OWNED = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink")


@attrs.frozen
class Drifted:
    ref: ObjectRef
    reason: str  # "missing" or the first differing field's path
    #: What the app's policies leave of it (``unchanged (apply-once)``, ``NOT_RECREATED``), or
    #: None: it is applied again.
    kept: str | None = None


#: What a reconcile did with an object deleted under an apply-once policy without rules.
NOT_RECREATED = "not recreated (apply-once)"
KEPT = "unchanged (apply-once)"

#: Judges a drifted inventory entry by its live object: what is left of it, or None.
Judge = Callable[[Mapping[str, Any], Mapping[str, Any] | None], str | None]


def differs(want: Any, live: Any, path: str = "") -> str | None:
    """The first path at which ``live`` lacks what ``want`` says (None: ``want`` ⊆ ``live``).

    A subset test: what the server adds (defaults, status, its own metadata) is not drift.
    """
    if isinstance(want, Mapping):
        if not isinstance(live, Mapping):
            return path or "."
        for key, value in want.items():
            if path == ".metadata" and key in _SERVER_OWNED:
                continue
            found = differs(value, live.get(key), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(want, list):
        if not isinstance(live, list) or len(live) != len(want):
            return path
        for i, (w, got) in enumerate(zip(want, live, strict=True)):
            found = differs(w, got, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if want == live or (isinstance(want, int | float) and str(want) == str(live)):
        return None
    return path or "."


def up_to_date(store: StateStore, revision: str) -> dict[str, Any] | None:
    """The latest revision when it is ``revision`` (the loaded app's hash) and succeeded, read
    from the record's index alone and without the Lease: then ``deploy`` would do nothing,
    and a resync writes nothing."""
    record = store.load(revisions="none")
    latest = record["revisions"][-1] if record and record["revisions"] else None
    if latest is None or latest.get("kind") != "deploy" or latest.get("phase") != "succeeded":
        return None
    return dict(latest) if latest.get("hash") == revision else None


def find_drift(
    backend: Backend, store: StateStore, revision: str, judge: Judge | None = None
) -> list[Drifted]:
    """The latest succeeded revision's objects (on the control cluster) that drifted, each
    with what ``judge`` says the policies leave of it.

    ``backend`` may be a reconcile's ``Reads``: an object it took from the watch cache that
    looks drifted is read again from the server, which decides."""
    view = AppView(backend, store)
    try:
        _record, rev = view.current(whole=False)
    except Exception:  # no record yet: nothing was applied, so nothing drifted
        return []
    if rev.get("phase") != "succeeded" or rev.get("hash") != revision:
        return []
    out: list[Drifted] = []
    for entry in rev.get("inventory") or []:
        if entry.get("cluster") is not None or not entry.get("manifest"):
            continue
        ref = ObjectRef.from_dict(entry["ref"])
        if (ref.api_version, ref.kind) == (HELM_API_VERSION, HELM_KIND):
            continue  # a release's objects are helm's to keep; its values' changes are revisions
        live = backend.get(ref)
        found = _drift_of(entry["manifest"], live)
        if found is not None and isinstance(backend, Reads) and ref in backend.cached:
            live = backend.fresh(ref)  # the watch may lag
            found = _drift_of(entry["manifest"], live)
        if found is not None:
            out.append(Drifted(ref, found, judge(entry, live) if judge is not None else None))
    return out


def policy_judge(ops: AppOps) -> Judge:
    """What the app's apply-once policy leaves of a drifted object, as a deploy would: an edit
    of what it keeps (a rule's paths, or, enabled without rules, an object the app renders as
    before) is left without a write, so no Event says it was corrected. Enabled without rules,
    a deleted object stays deleted: KubeVela's controller keeps no state then (its state keep
    returns at once), and only the next revision's deploy creates it again."""
    app = ops.loaded.app
    policies = ResourcePolicies(
        ((p.definition.name, p.params) for p in app.policies),
        component_types={c.name: c.definition.name for c in app.components},
    )
    ao = policies.apply_once
    if ao is None or not ao.enable:
        return lambda entry, live: None

    def judge(entry: Mapping[str, Any], live: Mapping[str, Any] | None) -> str | None:
        if live is None:
            return NOT_RECREATED if ao.whole_app else None
        ref = ObjectRef.from_dict(entry["ref"])
        facts = policies.facts(ref, component=entry.get("component"), trait=entry.get("trait"))
        desired = policies.drift(as_rendered(entry["manifest"]), dict(live), facts)
        return KEPT if desired is None or differs(desired, live) is None else None

    return judge


def _drift_of(manifest: Mapping[str, Any], live: Mapping[str, Any] | None) -> str | None:
    return "missing" if live is None else differs(manifest, live)


def as_rendered(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded manifest as the render gave it: without the apply-once render hash the
    apply added, so the hash of what is applied again is the one the live object carries."""
    obj = copy.deepcopy(dict(manifest))
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ANNOTATION_RENDER_HASH, None)
        if not annotations:
            del obj["metadata"]["annotations"]
    return obj


class _Changes:
    """Collects what each apply did (``created``, ``configured``, ``unchanged (apply-once)``)."""

    def __init__(self, inner: EventSink) -> None:
        self.inner = inner
        self.changes: dict[str, str] = {}

    def emit(self, event: Event) -> None:
        if event.kind == "applied" and event.data:
            self.changes[str(ObjectRef.from_dict(event.data["object"]))] = str(event.data.get("change"))
        self.inner.emit(event)


def correct_drift(ops: AppOps, reads: Reads | None = None) -> list[tuple[Drifted, str]]:
    """Apply the drifted objects' recorded manifests again, under the app's Lease; each
    drifted object with what the apply did, or what the apply-once policy leaves of it
    (``KEPT``, ``NOT_RECREATED``: not written).

    Read first without the Lease (through ``reads``, the reconcile's, when given), so a
    resync with nothing to write writes nothing; under the Lease, read again from the server."""
    reads = reads or Reads(ops.backend)
    judge = policy_judge(ops)
    found = find_drift(reads, StateStore(reads, ops.app, ops.namespace), ops.loaded.revision, judge)
    if all(d.kept is not None for d in found):  # nothing to write: no Lease taken
        return [(d, str(d.kept)) for d in found]
    lock = AppLock(ops.backend, ops.app, ops.namespace)
    lock.acquire(wait=ops.options.wait_lock)
    try:
        found = find_drift(ops.backend, ops.store, ops.loaded.revision, judge)
        kept = [(d, str(d.kept)) for d in found if d.kept is not None]
        drifted = [d for d in found if d.kept is None]
        if not drifted:
            return kept
        _record, rev = AppView(ops.backend, ops.store, ops.loaded.app).current(whole=True)
        wanted = {d.ref for d in drifted}
        entries = [e for e in rev.get("inventory") or [] if ObjectRef.from_dict(e["ref"]) in wanted]
        sink = _Changes(ops.events)
        # The fields someone else's edit took (kubectl edit, set image) are the app's: taken back.
        options, ops.options = ops.options, attrs.evolve(ops.options, force_conflicts=True)
        try:  # a scratch inventory: the record's stays as the revision wrote it
            executor = ops._executor(Inventory(), sink, _record)
        finally:
            ops.options = options
        try:
            for e in entries:
                executor.apply_object(
                    as_rendered(e["manifest"]),
                    step=None,
                    component=e.get("component"),
                    trait=e.get("trait"),
                    patch=e.get("patch"),
                )
        finally:
            executor.close()
        return [(d, sink.changes.get(str(d.ref), "unchanged")) for d in drifted] + kept
    finally:
        lock.release()
