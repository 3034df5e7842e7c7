"""Take over an app that KubeVela manages, without deleting or recreating anything.

KubeVela records what an Application applied in cluster-scoped ``ResourceTracker``s
(``core.oam.dev/v1beta1``): a *root* tracker for objects kept for the app's life, a
*versioned* one per application generation, labelled ``app.oam.dev/name`` and
``app.oam.dev/namespace``; their ``spec.managedResources`` may be stored compressed
(``spec.compression``: gzip or zstd of the JSON list, base64). Adopting reads the root and
the newest versioned tracker, adds pyvela's ownership labels to each live object (KubeVela's
labels stay until KubeVela is removed), and writes a state record whose revision 1 is that
inventory. The next ``deploy`` of the same app then updates the objects in place (taking
over the fields KubeVela's field manager holds) and prunes what the app no longer renders.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._backends.protocol import Backend
from pyvela._core.objects import (
    LABEL_APP,
    LABEL_COMPONENT,
    LABEL_MANAGED_BY,
    LABEL_TRAIT,
    MANAGER,
    Obj,
    ObjectRef,
    deep_copy,
)
from pyvela._workflow.state import AppLock, StateStore, new_record, now_iso
from pyvela.errors import ClusterError, ConflictError, OwnershipError, StateError, UnknownKindError

TRACKER_API = "core.oam.dev/v1beta1"
TRACKER_KIND = "ResourceTracker"
LABEL_APP_NAMESPACE = "app.oam.dev/namespace"
#: The hash of an adopted revision: no app file produced it, so any deploy is a new revision.
ADOPTED_HASH = "adopted-from-kubevela"
#: Server-set fields an inventory manifest must not carry (they are not the app's intent).
_SERVER_META = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
_LOCAL_CLUSTERS = ("", "local")


@attrs.frozen
class Tracked:
    """One object a tracker lists: where it is, which component/trait made it, and its fate."""

    ref: ObjectRef
    component: str | None
    trait: str | None
    tracker: str
    state: str = "adopt"  # adopt | already (pyvela owns it for this app) | missing
    reason: str = ""


@attrs.frozen
class AdoptPlan:
    app: str
    namespace: str
    trackers: tuple[str, ...]
    objects: tuple[Tracked, ...]

    @property
    def adopted(self) -> tuple[Tracked, ...]:
        return tuple(t for t in self.objects if t.state != "missing")

    def to_data(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "namespace": self.namespace,
            "trackers": list(self.trackers),
            "objects": [
                {
                    "object": t.ref.to_dict(),
                    "component": t.component,
                    "trait": t.trait,
                    "tracker": t.tracker,
                    "state": t.state,
                    **({"reason": t.reason} if t.reason else {}),
                }
                for t in self.objects
            ],
        }


def managed_resources(tracker: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``spec.managedResources`` of a tracker, decompressed as KubeVela stores it."""
    name = str((tracker.get("metadata") or {}).get("name", "?"))
    spec = tracker.get("spec") or {}
    compression = spec.get("compression") or {}
    kind = compression.get("type") or ""
    if not kind:
        return list(spec.get("managedResources") or [])
    try:
        raw = base64.b64decode(compression.get("data") or "", validate=True)
        if kind == "gzip":
            data = gzip.decompress(raw)
        elif kind == "zstd":
            data = _zstd(raw, name)
        else:
            raise StateError(
                f"ResourceTracker {name} is compressed with {kind!r}",
                expected="gzip or zstd (what KubeVela writes)",
                got=repr(kind),
            )
        decoded = json.loads(data)
    except (ValueError, OSError, EOFError) as exc:
        raise StateError(
            f"ResourceTracker {name}: its compressed managedResources cannot be read ({exc})",
            object=f"{TRACKER_KIND} {name}",
            fix="check the tracker with `kubectl get resourcetracker " + name + " -o yaml`",
        ) from exc
    if not isinstance(decoded, list):
        raise StateError(
            f"ResourceTracker {name}: managedResources is not a list", got=type(decoded).__name__
        )
    return decoded


def _zstd(raw: bytes, name: str) -> bytes:
    try:
        import zstandard
    except ImportError as exc:
        raise StateError(
            f"ResourceTracker {name} is zstd-compressed and the zstandard package is missing",
            fix="pip install zstandard",
        ) from exc
    out: bytes = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    return out


def trackers_of(backend: Backend, app: str, namespace: str) -> tuple[Obj | None, Obj | None]:
    """The app's root tracker and its newest versioned one (either may be None)."""
    try:
        found = backend.list(
            TRACKER_API, TRACKER_KIND, None, {LABEL_APP: app, LABEL_APP_NAMESPACE: namespace}
        )
    except UnknownKindError as exc:
        raise StateError(
            f"{backend.description} has no KubeVela ResourceTrackers (the CRD "
            "resourcetrackers.core.oam.dev is not installed)",
            fix="point --context/--kubeconfig at the cluster where KubeVela runs the app",
        ) from exc
    root: Obj | None = None
    current: Obj | None = None
    for rt in found:
        kind = (rt.get("spec") or {}).get("type")
        if kind == "root":
            root = rt
        elif kind == "versioned":
            gen = int((rt.get("spec") or {}).get("applicationGeneration") or 0)
            if current is None or gen > int(current["spec"].get("applicationGeneration") or 0):
                current = rt
    return root, current


def plan(backend: Backend, app: str, namespace: str) -> AdoptPlan:
    """What adopting ``app`` would take over; refuses objects that another app owns."""
    root, current = trackers_of(backend, app, namespace)
    if root is None and current is None:
        raise StateError(
            f"no KubeVela ResourceTracker for app {app!r} in namespace {namespace!r} "
            f"on {backend.description}",
            expected=f"ResourceTrackers labelled {LABEL_APP}={app}, {LABEL_APP_NAMESPACE}={namespace}",
            fix="check the app's name and namespace (`kubectl get resourcetrackers`), and pass -n NAMESPACE",
        )
    seen: dict[ObjectRef, Tracked] = {}
    trackers: list[str] = []
    refused: list[str] = []
    for rt in (root, current):
        if rt is None:
            continue
        rt_name = str(rt["metadata"]["name"])
        trackers.append(rt_name)
        for mr in managed_resources(rt):
            if mr.get("deleted"):
                continue
            ref = ObjectRef(
                str(mr.get("apiVersion", "")),
                str(mr.get("kind", "")),
                str(mr.get("namespace") or ""),
                str(mr.get("name", "")),
            )
            if ref in seen:
                continue
            cluster = str(mr.get("cluster") or "")
            if cluster not in _LOCAL_CLUSTERS:
                refused.append(f"{ref} is in cluster {cluster!r} (only the local cluster can be adopted)")
                continue
            tracked = Tracked(ref, mr.get("component") or None, mr.get("trait") or None, rt_name)
            seen[ref] = _judge(backend.get(ref), tracked, app, namespace, refused)
    if refused:
        raise OwnershipError(
            f"app {app!r} cannot be adopted: " + "; ".join(refused),
            fix="leave those objects to their owners (or remove them from the KubeVela app) and adopt again",
        )
    return AdoptPlan(app, namespace, tuple(trackers), tuple(seen.values()))


def _judge(live: Obj | None, t: Tracked, app: str, namespace: str, refused: list[str]) -> Tracked:
    if live is None:
        return attrs.evolve(t, state="missing", reason="listed by KubeVela but not in the cluster")
    labels = (live.get("metadata") or {}).get("labels") or {}
    owner, owner_ns = labels.get(LABEL_APP), labels.get(LABEL_APP_NAMESPACE)
    if labels.get(LABEL_MANAGED_BY) == MANAGER and owner != app:
        refused.append(f"{t.ref} is owned by pyvela app {owner!r}")
    elif owner is not None and (owner != app or (owner_ns is not None and owner_ns != namespace)):
        refused.append(f"{t.ref} is owned by app {owner_ns or '?'}/{owner}")
    elif labels.get(LABEL_MANAGED_BY) == MANAGER:
        return attrs.evolve(t, state="already")
    return t


def adopt(backend: Backend, app: str, namespace: str, *, dry_run: bool = False) -> AdoptPlan:
    """Adopt ``app``: label its objects and write revision 1 of its state record.

    Idempotent: a re-run after an interruption finishes the labels and writes the record;
    an app pyvela already deployed is refused (its record is the truth, not KubeVela's).
    """
    the_plan = plan(backend, app, namespace)
    if dry_run:
        return the_plan
    store = StateStore(backend, app, namespace)
    record = store.load()
    if record is not None and any(r.get("kind") != "adopt" for r in record["revisions"]):
        raise StateError(
            f"app {app!r} in namespace {namespace!r} is already deployed by pyvela: nothing to adopt",
            fix="`pyvela status` shows its revisions; adopt only apps that KubeVela still manages",
        )
    if backend.get(ObjectRef("v1", "Namespace", "", namespace)) is None:
        raise StateError(f"namespace {namespace!r} does not exist on {backend.description}")
    lock = AppLock(backend, app, namespace)
    lock.acquire()
    try:
        inventory = [_take(backend, t, app) for t in the_plan.adopted]
        record = new_record(app, namespace)
        now = now_iso()
        record["revisions"].append(
            {
                "number": 1,
                "hash": ADOPTED_HASH,
                "kind": "adopt",
                "phase": "succeeded",
                "started": now,
                "finished": now,
                "spec": None,
                "message": "adopted from KubeVela (ResourceTrackers " + ", ".join(the_plan.trackers) + ")",
                "planned": [],
                "inventory": inventory,
                "steps": {},
            }
        )
        store.save(record)
    finally:
        lock.release()
    return the_plan


def adopted_refs(record: Mapping[str, Any] | None) -> frozenset[ObjectRef]:
    """The objects of an adoption that no deploy has followed yet (see ``Executor.adopted``)."""
    for rev in reversed((record or {}).get("revisions") or []):
        if rev.get("phase") == "succeeded":
            if rev.get("kind") != "adopt":
                return frozenset()
            return frozenset(ObjectRef.from_dict(e["ref"]) for e in rev.get("inventory") or [])
    return frozenset()


def _take(backend: Backend, t: Tracked, app: str) -> dict[str, Any]:
    """Add pyvela's labels to the live object (an update guarded by its resourceVersion)."""
    for _ in range(5):
        live = backend.get(t.ref)
        if live is None:
            raise ClusterError(f"{t.ref} disappeared while it was being adopted", fix="adopt again")
        labels = live.setdefault("metadata", {}).setdefault("labels", {})
        wanted = {LABEL_APP: app, LABEL_MANAGED_BY: MANAGER}
        if t.component:
            wanted[LABEL_COMPONENT] = t.component
        if t.trait:
            wanted[LABEL_TRAIT] = t.trait
        if any(labels.get(k) != v for k, v in wanted.items()):
            # status stays as read: kinds without a status subresource would lose it otherwise
            labels.update(wanted)
            try:
                live = backend.replace(live)
            except ConflictError:
                continue  # changed under us (a controller's status write): read again
        return {"ref": t.ref.to_dict(), "component": t.component, "trait": t.trait, "manifest": _intent(live)}
    raise ClusterError(f"{t.ref} kept changing while it was being adopted", fix="adopt again")


def _intent(live: Obj) -> Obj:
    manifest: Obj = deep_copy(live)
    manifest.pop("status", None)
    meta = manifest.get("metadata") or {}
    for key in _SERVER_META:
        meta.pop(key, None)
    return manifest
