"""What a no-op reconcile reads, served without a request where that is safe:

- ``LoadedApps``: the loaded app of each resource, kept while its spec (and, for a module
  app, the module file's mtime and size) is unchanged: loading (the YAML loader, the
  catalogue, the revision hash) is most of a no-op reconcile's CPU;
- ``WatchCache``: the owned objects as the controller's label watches last saw them;
- ``RecordParts``: the parts of each app's state record as read under the index's
  resourceVersion. Every save writes the index, so while the index is unchanged its parts
  are too: a no-op reconcile reads the index alone;
- ``Reads``: one reconcile's reads (a ``Backend`` for reading): each object read once, an
  owned object from the watch cache, a record part from ``RecordParts``. A watch lags a
  write by a moment, so what the cache says is trusted only when it says "nothing to do":
  an object that looks drifted, missing or not ready is read again from the server
  (``fresh``) before anything is decided. A change the cache has not seen yet is not lost:
  its watch event wakes the app, after the cache took it. The record's index is always read
  from the server.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pyvela._app.loader import LoadedApp
from pyvela._backends.protocol import Backend
from pyvela._controller.source import load_resource, module_file
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.record import LABEL_STATE_OF, PART_TYPE
from pyvela._workflow.state import STATE_TYPE, state_ref

#: Fields of an object no reader of the cache needs (the largest part of a live object).
_DROPPED_META = ("managedFields",)


def _key(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def digest(value: Any) -> str:
    """A hash of a JSON-like value, its keys in any order (compared within this process)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(body: Mapping[str, Any], defs: Sequence[str] | None) -> str:
    """What the loaded app of ``body`` depends on: its spec, the catalogue's modules, and a
    module app's file (its mtime and size: an edited module is imported again)."""
    spec = dict(body.get("spec") or {})
    meta = body.get("metadata") or {}
    parts: list[Any] = [meta.get("namespace"), meta.get("name"), meta.get("uid"), spec, list(defs or ())]
    module = spec.get("module")
    if module:
        file = module_file(str(module))
        stat = file.stat()
        parts += [str(file), stat.st_mtime_ns, stat.st_size]
    return digest(parts)


class LoadedApps:
    """The loaded app of each Application resource, loaded again only when it changed.

    The catalogue's own modules are imported once per process (as for a module app's other
    imports): a new catalogue is a new controller image, hence a restart.
    """

    def __init__(self) -> None:
        self._apps: dict[str, tuple[str, LoadedApp]] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times an app was loaded (not served from the cache)

    def load(self, body: Mapping[str, Any], workdir: Path, defs: Sequence[str] | None) -> LoadedApp:
        key, digest = _key(body), fingerprint(body, defs)
        with self._lock:
            kept = self._apps.get(key)
        if kept is not None and kept[0] == digest:
            return kept[1]
        loaded = load_resource(body, workdir, defs)  # a load that fails is not kept: tried again
        with self._lock:
            self._apps[key] = (digest, loaded)
            self.loads += 1
        return loaded

    def forget(self, body: Mapping[str, Any]) -> None:
        with self._lock:
            self._apps.pop(_key(body), None)


def _ref(body: Mapping[str, Any]) -> ObjectRef:
    return ObjectRef.of(body)


class WatchCache:
    """Owned objects as their watch last delivered them (thread-safe; fed by the operator).

    A watch resumes from its last resourceVersion, so it misses nothing, except when it is
    listed again (kopf does after the server said "410 Gone", and when a new term starts): an
    object deleted in between has no DELETED event. A listing that delivers objects already
    here is such a relisting; what it did not deliver again is not trusted after it (read
    from the server, which says whether it is gone).
    """

    #: Listed objects this long after a relisting began start another (relistings are rare).
    RELIST_WINDOW = 300.0

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._objects: dict[ObjectRef, tuple[float, Obj]] = {}
        self._relisted: dict[tuple[str, str], float] = {}
        #: (namespace, app) -> the newest revision of its record seen, and the parts kept of it.
        self._records: dict[tuple[str, str], tuple[int, set[ObjectRef]]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def put(self, body: Mapping[str, Any], *, listed: bool = False) -> None:
        """``listed``: the object came from a listing (kopf's event type None), not a change."""
        obj = dict(body)
        meta = dict(body.get("metadata") or {})
        obj["metadata"] = {k: v for k, v in meta.items() if k not in _DROPPED_META}
        ref = _ref(obj)
        kind = (ref.api_version, ref.kind)
        with self._lock:
            now = self._clock()
            if listed and ref in self._objects and now - self._relisted.get(kind, -1e18) > self.RELIST_WINDOW:
                self._relisted[kind] = now
            self._objects[ref] = (now, obj)

    def put_state(self, body: Mapping[str, Any], *, listed: bool = False) -> None:
        """A state record's Secret; of its parts only the newest revision's are kept (a
        reconcile reads no other, and a record holds up to ten revisions)."""
        meta = body.get("metadata") or {}
        app = str((meta.get("labels") or {}).get(LABEL_STATE_OF) or "")
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        prefix = f"{state_ref(app, namespace).name}."
        number = name.removeprefix(prefix).split(".", 1)[0]
        if body.get("type") != PART_TYPE or not app or not name.startswith(prefix) or not number.isdigit():
            self.put(body, listed=listed)
            return
        with self._lock:
            newest, kept = self._records.get((namespace, app), (-1, set()))
            if int(number) < newest:
                return  # an older revision's: never read by a reconcile
            if int(number) > newest:
                for ref in kept:
                    self._objects.pop(ref, None)
                newest, kept = int(number), set()
                self._records[(namespace, app)] = (newest, kept)
            kept.add(_ref(body))
        self.put(body, listed=listed)

    def drop(self, body: Mapping[str, Any]) -> None:
        self.forget(_ref(body))

    def forget(self, ref: ObjectRef) -> None:
        with self._lock:
            self._objects.pop(ref, None)

    def get(self, ref: ObjectRef) -> Obj | None:
        with self._lock:
            entry = self._objects.get(ref)
            if entry is None:
                return None
            stamp, obj = entry
            if stamp < self._relisted.get((ref.api_version, ref.kind), -1e18):
                return None  # not delivered again by the latest listing: perhaps gone
            return obj

    def __len__(self) -> int:
        return len(self._objects)


class RecordParts:
    """Each app's state-record parts, with the index resourceVersion they were read under."""

    def __init__(self) -> None:
        self._apps: dict[ObjectRef, tuple[str, dict[ObjectRef, Obj]]] = {}
        self._lock = threading.Lock()

    def get(self, index: ObjectRef, version: str, ref: ObjectRef) -> Obj | None:
        with self._lock:
            kept = self._apps.get(index)
            return kept[1].get(ref) if kept is not None and kept[0] == version else None

    def put(self, index: ObjectRef, version: str, ref: ObjectRef, part: Obj) -> None:
        with self._lock:
            kept = self._apps.get(index)
            if kept is None or kept[0] != version:  # a newer index: the older parts go
                kept = self._apps[index] = (version, {})
            kept[1][ref] = part

    def forget(self, index: ObjectRef) -> None:
        with self._lock:
            self._apps.pop(index, None)


def is_state(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is a Secret of a state record (its index or a part)."""
    return obj.get("type") in (STATE_TYPE, PART_TYPE)


class Reads:
    """One reconcile's reads (used as a read-only ``Backend``): each object read once, an
    owned object taken from the watch cache, a part of the record ``index`` from ``parts``
    when the index is the one it was read under; ``fresh`` reads one from the server.
    Anything but ``get`` goes to the backend as it is."""

    def __init__(
        self,
        backend: Backend,
        cache: WatchCache | None = None,
        *,
        parts: RecordParts | None = None,
        index: ObjectRef | None = None,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.parts = parts if index is not None else None
        self.index = index
        self._read: dict[ObjectRef, Obj | None] = {}
        #: Objects served from the watch cache (not read from the server in this reconcile).
        self.cached: set[ObjectRef] = set()

    def _part_of_index(self, ref: ObjectRef) -> str | None:
        """The index's resourceVersion (read in this reconcile) when ``ref`` is one of its parts."""
        index = self.index
        if index is None or ref.kind != "Secret" or ref.namespace != index.namespace:
            return None
        if not ref.name.startswith(f"{index.name}."):
            return None
        live = self._read.get(index)
        return str((live.get("metadata") or {}).get("resourceVersion") or "") or None if live else None

    def get(self, ref: ObjectRef) -> Obj | None:
        if ref in self._read:
            return self._read[ref]
        version = self._part_of_index(ref) if self.parts is not None else None
        if version is not None and self.parts is not None and self.index is not None:
            part = self.parts.get(self.index, version, ref) or self._watched_part(version, ref)
            if part is None:
                part = self.fresh(ref)
            if part is not None:
                self.parts.put(self.index, version, ref, part)
            self._read[ref] = part
            return part
        found = self.cache.get(ref) if self.cache is not None else None
        if found is not None and is_state(found):
            found = None  # the record decides whether to deploy: always read from the server
        if found is not None:
            self.cached.add(ref)
            self._read[ref] = found
            return found
        return self.fresh(ref)

    def _watched_part(self, version: str, ref: ObjectRef) -> Obj | None:
        """A part of the index as the watch delivered it, when the watch has delivered the
        index at ``version`` (the one just read): a save writes its parts before the index,
        and a watch delivers one kind's changes in order, so what it holds of the parts is
        then what that index was saved with (a controller's first reconcile after a restart
        reads the index alone)."""
        if self.cache is None or self.index is None:
            return None
        index = self.cache.get(self.index)
        if index is None or str((index.get("metadata") or {}).get("resourceVersion") or "") != version:
            return None
        return self.cache.get(ref)

    def fresh(self, ref: ObjectRef) -> Obj | None:
        """``ref`` as the server has it now (and as this reconcile's later reads see it)."""
        live = self.backend.get(ref)
        self._read[ref] = live
        self.cached.discard(ref)
        if live is None and self.cache is not None:
            self.cache.forget(ref)  # gone: a watch that missed its deletion no longer says otherwise
        return live

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)
