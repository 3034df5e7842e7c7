"""Workflow state, kept in the target cluster itself (Secrets per app, like Helm's releases).

The record holds every revision (app spec, phase, inventory of applied objects), and for
the current one each step's phase, outputs and action journal. It is stored as an index
and parts (``record``), written through the backend with resourceVersion preconditions,
so a concurrent writer is detected, and a record that is not pyvela's (or not this app's)
is refused, never overwritten.
A Lease guards against two runs of the same app at once.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pyvela._backends.protocol import Backend
from pyvela._core.leases import held_by
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, Obj, ObjectRef
from pyvela._workflow.inventory import in_batch
from pyvela._workflow.record import Layout
from pyvela._workflow.recordparts import LABEL_STATE_OF, PART_TYPE, dumps, part_object, part_ref, read_part
from pyvela.errors import AlreadyExistsError, ConflictError, LockedError, StateError

#: 2: an index and content-addressed parts (``record``); 1 (read, never written): one Secret.
FORMAT = 2
FORMATS = (1, 2)
STATE_TYPE = "pyvela.dev/app-state"
HISTORY_LIMIT = 10
LEASE_SECONDS = 30


def state_ref(app: str, namespace: str) -> ObjectRef:
    return ObjectRef("v1", "Secret", namespace, f"pyvela-app.{app}")


def lease_ref(app: str, namespace: str) -> ObjectRef:
    return ObjectRef("coordination.k8s.io/v1", "Lease", namespace, f"pyvela-lock.{app}")


def control_ref(app: str, namespace: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", namespace, f"pyvela-control.{app}")


_second: tuple[int, str] = (-1, "")  # the last second formatted (strftime: 15 us a call, twice a step)


def now_iso() -> str:
    """Now in UTC, to the microsecond: ``2026-12-02T01:02:03.456789Z``."""
    global _second
    now = time.time_ns() // 1000
    seconds, micros = divmod(now, 1_000_000)
    if _second[0] != seconds:
        _second = (seconds, datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{micros:06d}Z"


def new_record(app: str, namespace: str) -> dict[str, Any]:
    return {"format": FORMAT, "app": app, "namespace": namespace, "revisions": []}


class StateStore:
    """Reads and writes one app's state record through a backend (layout: ``record``)."""

    def __init__(self, backend: Backend, app: str, namespace: str) -> None:
        self.backend = backend
        self.app = app
        self.namespace = namespace
        self.ref = state_ref(app, namespace)
        self._resource_version: str | None = None
        self._lock = threading.Lock()
        self._layout = Layout()
        self._parts: dict[str, str | None] = {}  # the parts in the cluster: their resourceVersions
        self._changed: set[str] = set()
        self._partial = False  # the last load read only some revisions: saving is refused
        #: Objects written by saves (index, parts created and deleted): what a run costs.
        self.writes = 0

    def _list_parts(self) -> dict[str, Obj]:
        prefix = self.ref.name + "."
        found = self.backend.list("v1", "Secret", self.namespace, {LABEL_STATE_OF: self.app})
        return {
            o["metadata"]["name"].removeprefix(prefix): o
            for o in found
            if o.get("type") == PART_TYPE and o["metadata"]["name"].startswith(prefix)
        }

    def load(self, *, revisions: Literal["all", "latest", "none"] = "all") -> dict[str, Any] | None:
        """The record, or None when the app was never deployed here.

        ``revisions`` says which revisions come whole: every one (what a run changes and
        saves), only the latest (what ``status`` shows), or none (``history``: each
        revision's index fields alone). Only parts of the revisions asked for are read; a
        record loaded in part is for reading: this store refuses to save until a whole load.

        Raises:
            StateError: the Secret is not a pyvela state record of this app, or is corrupt.
        """
        if revisions != "all":
            return self._load_part(revisions == "latest")
        self._partial = False
        live = self.backend.get(self.ref)
        parts = self._list_parts()
        # Unlisted ones (a killed save or delete) are overwritten or removed by the next save.
        self._parts = {n: o["metadata"].get("resourceVersion") for n, o in parts.items()}
        self._layout = Layout()
        if live is None:
            self._resource_version = None
            return None
        index = decode(live, self.app, self.ref)
        if index["format"] == 1:
            record = index  # written whole by earlier versions; the next save splits it
        else:
            record = self._layout.assemble(index, lambda n: read_part(self.ref, n, parts.get(n)))
            record["format"] = FORMAT
        self._resource_version = live["metadata"].get("resourceVersion")
        return record

    def _load_part(self, latest: bool) -> dict[str, Any] | None:
        self._partial = True
        live = self.backend.get(self.ref)
        if live is None:
            return None
        index = decode(live, self.app, self.ref)
        if index["format"] == 1:
            return index  # one Secret: it is whole anyway
        numbers = [r.get("number") for r in index["revisions"][-1:]] if latest else []

        def read(name: str) -> tuple[Any, str]:
            return read_part(self.ref, name, self.backend.get(part_ref(self.ref, name)))

        record = Layout().assemble(index, read, only=numbers)
        record["format"] = FORMAT
        return record

    def save(self, record: Mapping[str, Any], changed: Iterable[str] | None = None) -> None:
        """Write the record; StateError when someone else wrote it since we read it.

        ``changed`` names the steps of the latest revision changed since the last save, so
        only their parts are encoded again; None (the default) re-encodes all of the latest
        revision. Steps named by a save that fails are encoded again by the next one.
        """
        if self._partial:
            # Its older revisions lack their parts: saving it would drop them from the record.
            raise StateError(
                "internal error: a state record loaded in part (for reading) cannot be saved",
                object=str(self.ref),
                fix="load the whole record before changing it",
            )
        with self._lock:
            try:
                self._save(record, changed)
            except BaseException:
                self._layout = Layout()  # what was stored is uncertain: the next save writes all
                raise

    def _save(self, record: Mapping[str, Any], changed: Iterable[str] | None) -> None:
        if changed is None:
            self._changed.clear()
            hint: set[str] | None = None
        else:
            self._changed.update(changed)
            hint = self._changed
        index, used = self._layout.index(record, hint)
        # One transaction where the backend has them (the sandbox): a save costs one commit,
        # not one per part, and a kill keeps all of it or none of it.
        in_batch(self.backend, self._write_all, index, used)

    def _write_all(self, index: dict[str, Any], used: set[str]) -> None:
        for name, raw in self._layout.new.items():
            self._parts[name] = self._write(part_object(self.ref, self.app, name, raw), self._parts.get(name))
        self._resource_version = self._write(encode(index, self.app, self.ref), self._resource_version)
        self._layout.saved()
        self._changed = set()
        # Only now that the index no longer lists them may the old parts go.
        for name in set(self._parts) - used:
            self.backend.delete(part_ref(self.ref, name), wait=False)
            self.writes += 1
            del self._parts[name]

    def _write(self, obj: Obj, resource_version: str | None) -> str | None:
        """Create ``obj``, or replace it if it still is at ``resource_version``; its new version."""
        self.writes += 1
        if resource_version is None:
            try:
                live = self.backend.create(obj)
            except AlreadyExistsError as exc:
                raise StateError(
                    "the state record appeared while this run was starting",
                    object=str(ObjectRef.of(obj)),
                    fix="another pyvela run is deploying this app; re-run later",
                ) from exc
        else:
            obj["metadata"]["resourceVersion"] = resource_version
            try:
                live = self.backend.replace(obj)
            except ConflictError as exc:
                raise StateError(
                    "the state record was changed by someone else during this run",
                    object=str(ObjectRef.of(obj)),
                    fix="check who else deploys this app; re-run to resume",
                ) from exc
        version: str | None = live["metadata"].get("resourceVersion")
        return version

    def delete(self) -> None:
        # The index goes first: parts without an index are removed by the next save or delete.
        self.backend.delete(self.ref, wait=False)
        for name in self._list_parts():
            self.backend.delete(part_ref(self.ref, name), wait=False)
        self._parts = {}
        self._resource_version = None


def encode(record: Mapping[str, Any], app: str, ref: ObjectRef) -> Obj:
    # gzip level 1: the index is written after every transition; speed beats size here.
    raw = gzip.compress(dumps(dict(record, format=FORMAT)), compresslevel=1)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": STATE_TYPE,
        "metadata": {
            "name": ref.name,
            "namespace": ref.namespace,
            "labels": {LABEL_MANAGED_BY: MANAGER, LABEL_APP: app, "owner": MANAGER},
        },
        "data": {"state": base64.b64encode(raw).decode()},
    }


def decode(live: Mapping[str, Any], app: str, ref: ObjectRef) -> dict[str, Any]:
    labels = (live.get("metadata") or {}).get("labels") or {}
    fix = f"inspect it; delete the Secret {ref.namespace}/{ref.name} only if it is not needed"
    if live.get("type") != STATE_TYPE or labels.get(LABEL_MANAGED_BY) != MANAGER:
        raise StateError(
            f"Secret {ref.namespace}/{ref.name} exists but is not a pyvela state record; "
            "refusing to overwrite it",
            object=str(ref),
            expected=f"type {STATE_TYPE}",
            got=f"type {live.get('type')!r}",
            fix=fix,
        )
    try:
        data = (live.get("data") or {})["state"]
        record: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(data)))
    except Exception as exc:
        raise StateError(
            "the state record is corrupt and cannot be read; refusing to overwrite it",
            object=str(ref),
            got=f"{type(exc).__name__}: {exc}",
            fix=fix,
        ) from exc
    if (
        record.get("format") not in FORMATS
        or record.get("app") != app
        or not isinstance(record.get("revisions"), list)
    ):
        raise StateError(
            "the state record belongs to another app or format; refusing to overwrite it",
            object=str(ref),
            expected=f"app {app!r}, format {FORMAT}",
            got=f"app {record.get('app')!r}, format {record.get('format')!r}",
            fix=fix,
        )
    return record


class AppLock:
    """A Lease held while a run changes the app; renewed in the background.

    A lease whose holder died (its renew time is older than the lease duration, or the
    holder is a process on this host that no longer exists) is taken over.
    """

    def __init__(self, backend: Backend, app: str, namespace: str, *, duration: int = LEASE_SECONDS) -> None:
        self.backend = backend
        self.ref = lease_ref(app, namespace)
        self.duration = duration
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._live: Obj | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lease, waiting up to ``wait`` seconds; LockedError otherwise."""
        deadline = time.monotonic() + wait
        while True:
            holder = self._try()
            if holder is None:
                break
            if time.monotonic() >= deadline:
                raise LockedError(
                    f"another pyvela run ({holder}) is changing this app",
                    object=str(self.ref),
                    fix="wait for it to finish, or pass --wait-lock SECONDS",
                )
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        self._thread = threading.Thread(target=self._renew_loop, name="pyvela-lease", daemon=True)
        self._thread.start()

    def _body(self, resource_version: str | None = None) -> Obj:
        meta: dict[str, Any] = {
            "name": self.ref.name,
            "namespace": self.ref.namespace,
            "labels": {LABEL_MANAGED_BY: MANAGER},
        }
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {
            "apiVersion": self.ref.api_version,
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.duration,
                "renewTime": now_iso(),
                "acquireTime": now_iso(),
            },
        }

    def _try(self) -> str | None:
        try:
            self._live = self.backend.create(self._body())
            return None
        except AlreadyExistsError:
            pass
        live = self.backend.get(self.ref)
        if live is None:
            return self._try()
        spec = live.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        if held_by(spec, LEASE_SECONDS):
            return holder
        try:
            self._live = self.backend.replace(self._body(live["metadata"].get("resourceVersion")))
            return None
        except ConflictError:
            return holder or "unknown"

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.duration / 3):
            with self._mutex:
                if self._live is None:
                    return
                body = self._body(self._live["metadata"].get("resourceVersion"))
                body["spec"]["acquireTime"] = (self._live.get("spec") or {}).get("acquireTime", now_iso())
                try:
                    self._live = self.backend.replace(body)
                except Exception:  # the next renewal retries; expiry is the safety net
                    continue

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._mutex:
            if self._live is not None:
                # An expired lease is harmless; never mask the run's own outcome.
                with contextlib.suppress(Exception):
                    self.backend.delete(self.ref, wait=False)
                self._live = None
