"""The sandbox cluster: a local, persisted, simulated Kubernetes behind the Backend protocol."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal

from pyvela._backends.pods import POD_OWNERS, selector_of
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._backends.sandbox import admission as _admission
from pyvela._backends.sandbox import immutable as _immutable
from pyvela._backends.sandbox import rolloutevents, simevents
from pyvela._backends.sandbox.children import reconcile
from pyvela._backends.sandbox.cluster import (
    advance,
    install_crd,
    namespace_exists,
    note_owners,
    owners_of,
    remove,
    remove_orphaning,
    settle,
    spec_of,
)
from pyvela._backends.sandbox.configcentre import SandboxConfigCentre
from pyvela._backends.sandbox.controllers import controller_for
from pyvela._backends.sandbox.dbfile import move_aside
from pyvela._backends.sandbox.helmrepo import check_release
from pyvela._backends.sandbox.helmsim import install_chart, uninstall_chart
from pyvela._backends.sandbox.honesty import LEASE_GROUP, refuse_if_leased
from pyvela._backends.sandbox.kinds import (
    BUILTIN,
    BUILTIN_BY_KEY,
    CRD_GROUP,
    CRD_KIND,
    ROLLOUT_CRD,
    SYSTEM_NAMESPACES,
    KindInfo,
    split_api_version,
    unknown_kind,
)
from pyvela._backends.sandbox.patching import SandboxPatch
from pyvela._backends.sandbox.podio import SandboxPodIO
from pyvela._backends.sandbox.reads import listed, observe
from pyvela._backends.sandbox.rows import Row
from pyvela._backends.sandbox.rowstore import ObjectExists
from pyvela._backends.sandbox.settings import SandboxSettings, sim_for
from pyvela._backends.sandbox.simutil import iso
from pyvela._backends.sandbox.store import DB_FILE, Store
from pyvela._backends.sandbox.waiting import wait_for
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj, ObjectRef, deep_copy
from pyvela.errors import AlreadyExistsError, ClusterError, ConflictError, NotFoundError, StateError

ENV_ROOT = "PYVELA_SANDBOX"
_Mode = Literal["apply", "create", "replace"]


def default_root() -> Path:
    return Path(os.environ.get(ENV_ROOT) or ".pyvela")


class Sandbox(SandboxPodIO, SandboxPatch):
    """The embedded sandbox cluster (implements :class:`~pyvela._backends.protocol.Backend`;
    :class:`~pyvela._backends.podio.PodIO` with simulated logs; ``MergePatch``).

    Args:
        root: Its directory (created on first use); default ``$PYVELA_SANDBOX`` or ``./.pyvela``.
            The cluster lives in ``<root>/sandbox.db``; every process using the same root
            shares it.
        settings: How the simulated controllers behave; default read from
            ``<root>/sandbox.yaml`` and ``$PYVELA_SANDBOX_DELAY`` (see :class:`SandboxSettings`).
            Given explicitly, they are used as they are.
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        settings: SandboxSettings | None = None,
        read_only: bool | None = None,
    ) -> None:
        self.root = (root if root is not None else default_root()).absolute()
        if not read_only and not self.root.is_dir():
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(
                    f"cannot create the sandbox directory {self.root}: {exc}", file=str(self.root)
                ) from exc
        self.settings = settings if settings is not None else SandboxSettings.load(self.root)
        self.description = f"sandbox ({self.root})"
        self._store = Store(self.root / DB_FILE, self._seed, read_only=read_only)

    @property
    def read_only(self) -> bool:
        """True when the database could only be opened for reading (reads work, writes fail)."""
        return self._store.read_only

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._store.close()

    def config_centre(self) -> SandboxConfigCentre:
        """The sandbox's built-in configuration centre (same database; closing it is a no-op)."""
        return SandboxConfigCentre(self._store)

    def reset(self, *, force: bool = False) -> None:
        """Wipe every object and all configuration; start again with a fresh cluster.

        Refused (LockedError) while a pyvela run holds an app's Lease, unless ``force``:
        the run would go on waiting for objects that no longer exist. A run that goes on
        after a forced reset fails at its next access (the cluster's epoch changed).
        """
        with self._store.write() as conn:
            if not force:
                refuse_if_leased(Store.select(conn, "grp=? AND kind=?", (LEASE_GROUP, "Lease")), self.root)
            Store.wipe(conn)
            self._store.new_epoch(conn)
            self._seed(self._store, conn)

    @classmethod
    def reset_root(cls, root: Path | None = None, *, force: bool = False) -> tuple[Sandbox, Path | None]:
        """Reset the sandbox at ``root``, even when its database is corrupt: a corrupt one is
        moved aside (returned as the second item) and a fresh one created."""
        settings = (
            SandboxSettings()
        )  # seeding simulates nothing; a broken sandbox.yaml must not block a reset
        try:
            sandbox = cls(root, settings=settings, read_only=False)
        except StateError as exc:
            if exc.context.get("problem") != "corrupt":
                raise
            moved = move_aside((root if root is not None else default_root()).absolute() / DB_FILE)
            return cls(root, settings=settings, read_only=False), moved
        try:
            sandbox.reset(force=force)
        except BaseException:
            sandbox.close()
            raise
        return sandbox, None

    def _seed(self, store: Store, conn: sqlite3.Connection) -> None:
        for name in SYSTEM_NAMESPACES:
            self._write(conn, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, "create")
        self._write(conn, ROLLOUT_CRD, "create")
        for row in Store.select(conn, "next_change IS NOT NULL", ()):
            settle(conn, row, time.time())

    # -------------------------------------------------------------------- kinds
    def _kind(self, api_version: Any, kind: Any) -> KindInfo:
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            raise ClusterError(f"an object needs apiVersion and kind, got {api_version!r} and {kind!r}")
        group, version = split_api_version(api_version)
        info = BUILTIN_BY_KEY.get((group, kind))
        if info is not None and version in info.versions:
            return info
        with self._store.reading():
            found = self._store.conn.execute(
                "SELECT versions, namespaced, plural FROM crd_kinds WHERE grp=? AND kind=?", (group, kind)
            ).fetchone()
        if found is not None and version in json.loads(found[0]):
            return KindInfo(group, kind, tuple(json.loads(found[0])), bool(found[1]), found[2])
        raise unknown_kind(api_version, kind, self._known())

    def _known(self) -> list[KindInfo]:
        with self._store.reading():
            rows = self._store.conn.execute(
                "SELECT grp, kind, versions, namespaced, plural FROM crd_kinds"
            ).fetchall()
        return [*BUILTIN, *(KindInfo(g, k, tuple(json.loads(v)), bool(n), p) for g, k, v, n, p in rows)]

    @staticmethod
    def _key(info: KindInfo, namespace: str | None, name: str) -> tuple[str, str, str, str]:
        return info.group, info.kind, (namespace or "default") if info.namespaced else "", name

    # -------------------------------------------------------------------- Backend
    def get(self, ref: ObjectRef) -> Obj | None:
        info = self._kind(ref.api_version, ref.kind)
        row, _ = observe(self._store, self._key(info, ref.namespace, ref.name))
        return None if row is None else row.to_obj()

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        info = self._kind(api_version, kind)
        out = []
        for row in listed(self._store, info, namespace, labels):
            have = row.body["metadata"].get("labels") or {}
            if all(have.get(k) == v for k, v in (labels or {}).items()):
                out.append(row.to_obj())
        if (info.group, info.kind) == ("", "Event") and not labels:  # what its controllers recorded
            out += simevents.listed(self.list, namespace, rolloutevents.listed(self._store, namespace))
        return out

    def batch(self, *, durable: bool = True) -> AbstractContextManager[None]:
        """The calling thread's writes in one transaction until the block ends (``Store.batch``;
        not ``durable``: committed within ``COMMIT_AFTER`` s, or with a later durable write)."""
        return self._store.batch(durable=durable)

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        with self._store.write(dry_run=dry_run) as conn:
            done = self._write(conn, obj, "apply", dry_run=dry_run)
        return done if dry_run else install_chart(self, done)  # a HelmRelease's objects, as helm

    def create(self, obj: Mapping[str, Any]) -> Obj:
        with self._store.write() as conn:
            return self._write(conn, obj, "create")

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        with self._store.write() as conn:
            return self._write(conn, obj, "replace")

    def delete(
        self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0, orphan: bool = False
    ) -> bool:
        """Delete at once (no finalizers); dependents go too, unless ``orphan`` (left ownerless)."""
        info = self._kind(ref.api_version, ref.kind)
        uninstall_chart(self, ref)  # helm uninstall: a HelmRelease's chart objects go with it
        with self._store.write() as conn:
            row = Store.load(conn, *self._key(info, ref.namespace, ref.name))
            if row is None:
                return False
            (remove_orphaning if orphan else remove)(conn, row)
            Store.next_rv(conn)
        return True

    def wait(
        self,
        ref: ObjectRef,
        rule: ReadinessRule,
        *,
        timeout: float,
        on_progress: Callable[[Readiness], None] | None = None,
        cancel: threading.Event | None = None,
        failure_grace: float | None = None,
    ) -> Obj:
        self._store.flush()  # a wait lets other threads use the connection: nothing may be open
        info = self._kind(ref.api_version, ref.kind)
        key = self._key(info, ref.namespace, ref.name)

        def pods(workload: Obj) -> list[Obj]:
            selector = selector_of(workload)
            return self.list("v1", "Pod", key[2], selector) if selector else []

        return wait_for(
            self._store,
            lambda: observe(self._store, key),
            ref,
            rule,
            timeout=timeout,
            on_progress=on_progress,
            cancel=cancel,
            pods=pods if ref.kind in POD_OWNERS else None,
            failure_grace=failure_grace,
        )

    # -------------------------------------------------------------------- writes
    def _write(
        self, conn: sqlite3.Connection, obj: Mapping[str, Any], mode: _Mode, *, dry_run: bool = False
    ) -> Obj:
        if not isinstance(obj, Mapping):
            raise ClusterError(f"an object must be a mapping, got {type(obj).__name__}")
        info = self._kind(obj.get("apiVersion"), obj.get("kind"))
        metadata = obj.get("metadata")
        if not isinstance(metadata, Mapping):
            raise ClusterError(f"{info.kind}: metadata: Required value", object=info.kind)
        if mode == "create" and not metadata.get("name") and isinstance(metadata.get("generateName"), str):
            suffix = "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
            obj = {**obj, "metadata": {**metadata, "name": metadata["generateName"] + suffix}}
            metadata = obj["metadata"]
        namespace, name = metadata.get("namespace"), metadata.get("name")
        if not isinstance(namespace, str | None) or not isinstance(name, str | None):
            raise ClusterError(f"{info.kind}: metadata.name and metadata.namespace must be strings")
        key = self._key(info, namespace, name or "")
        if info.namespaced and not namespace_exists(conn, key[2]):
            raise NotFoundError(
                f'namespaces "{key[2]}" not found',
                object=f"{info.kind} {key[2]}/{key[3]}",
                fix="apply the Namespace first",
            )
        body = _admission.normalise(obj, info, key[2])
        name, now = key[3], time.time()
        # A create needs no read: the INSERT finds the name taken (``ObjectExists``).
        existing = None if mode == "create" else Store.load(conn, *key)
        if existing is not None and existing.next_change is not None and existing.next_change <= now:
            settle(conn, existing, now)
        resource = f"{info.plural}.{info.group}" if info.group else info.plural
        if mode == "replace" and existing is None:
            raise NotFoundError(f'{resource} "{name}" not found', object=f"{info.kind} {name}")
        wanted = metadata.get("resourceVersion")
        if wanted not in (None, "") and (existing is None or str(existing.rv) != str(wanted)):
            raise ConflictError(
                f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                object=f"{info.kind} {name}",
                expected=f"resourceVersion {wanted}",
                got=f"resourceVersion {existing.rv}" if existing else "no object",
            )
        _immutable.check_types(info, name, body)
        _immutable.check_selector(info, name, body)
        if existing is not None:
            _immutable.check_update(info, name, body, existing.body, metadata.get("uid"))
        if info.group == "" and info.kind == "Service":
            _admission.service(conn, body, existing.body if existing else None)
        if info.kind == HELM_KIND and info.group == HELM_API_VERSION.rpartition("/")[0]:
            check_release(conn, body)  # what helm would refuse
        sim = sim_for(body, self.settings)
        has_controller = controller_for(info.group, info.kind) is not None
        meta = body["metadata"]
        if existing is not None:
            generation = existing.generation + (spec_of(body) != spec_of(existing.body))
            meta.update(uid=existing.uid, generation=generation)
            meta["creationTimestamp"] = existing.body["metadata"].get("creationTimestamp")
            if body == existing.body and sim == existing.sim:
                return existing.to_obj()
            generation_changed, sim_changed = generation != existing.generation, sim != existing.sim
            row = existing
            if generation != existing.generation:
                row.prior, row.applied_at = existing.status or {}, now
            if has_controller and (generation != existing.generation or sim != existing.sim):
                row.next_change = now
            row.body, row.generation, row.owners, row.sim = body, generation, owners_of(body), sim
        else:
            generation_changed = sim_changed = True
            meta.update(uid=str(uuid.uuid4()), generation=1, creationTimestamp=iso(now))
            row = Row(*key, uid=meta["uid"], rv=0, generation=1, owners=owners_of(body),
                      body=body, status=None, prior={}, sim=sim, applied_at=now,
                      next_change=now if has_controller else None)  # fmt: skip
        if dry_run:
            preview = row.to_obj()
            if existing is None:
                del preview["metadata"]["resourceVersion"]
            return deep_copy(preview)  # type: ignore[no-any-return]
        row.rv = Store.next_rv(conn)
        answer = row.rv, row.status  # as the API server answers: before any controller saw it
        if row.next_change is not None and row.next_change <= time.time():
            # Its controller acts at once, in this transaction, the row stored once, settled.
            advance(conn, row, time.time())
        try:
            Store.save(conn, row)
        except ObjectExists:
            raise AlreadyExistsError(
                f'{resource} "{name}" already exists', object=f"{info.kind} {name}"
            ) from None
        note_owners(conn, body)
        if existing is None or generation_changed or sim_changed:
            reconcile(conn, row, lambda c, child, how: self._write(c, child, how), new=existing is None)
        if info.kind == CRD_KIND and info.group == CRD_GROUP:
            install_crd(conn, body)
        row.rv, row.status = answer
        return row.to_obj()
