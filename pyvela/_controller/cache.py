"""What a no-op reconcile reads, served without a request where that is safe:

- ``LoadedApps``: the loaded app of each resource, kept while its spec (and, for a module
  app, the module file's mtime and size) is unchanged: loading (the YAML loader, the
  catalogue, the revision hash) is most of a no-op reconcile's CPU;
- ``WatchCache``: the owned objects as the controller's label watches last saw them;
- ``Reads``: one reconcile's reads (a ``Backend`` for reading): each object read once, an
  owned object from the watch cache. A watch lags a write by a moment, so what the cache
  says is trusted only when it says "nothing to do": an object that looks drifted, missing
  or not ready is read again from the server (``fresh``) before anything is decided. A
  change the cache has not seen yet is not lost: its watch event wakes the app, after the
  cache took it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pyvela._app.loader import LoadedApp
from pyvela._backends.protocol import Backend
from pyvela._controller.source import load_resource, module_file
from pyvela._core.objects import Obj, ObjectRef

#: Fields of an object no reader of the cache needs (the largest part of a live object).
_DROPPED_META = ("managedFields",)


def _key(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


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
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


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
    """Owned objects as their watch last delivered them (thread-safe; fed by the operator)."""

    def __init__(self) -> None:
        self._objects: dict[ObjectRef, Obj] = {}
        self._lock = threading.Lock()

    def put(self, body: Mapping[str, Any]) -> None:
        obj = dict(body)
        meta = dict(body.get("metadata") or {})
        obj["metadata"] = {k: v for k, v in meta.items() if k not in _DROPPED_META}
        with self._lock:
            self._objects[_ref(obj)] = obj

    def drop(self, body: Mapping[str, Any]) -> None:
        with self._lock:
            self._objects.pop(_ref(body), None)

    def get(self, ref: ObjectRef) -> Obj | None:
        with self._lock:
            return self._objects.get(ref)

    def __len__(self) -> int:
        return len(self._objects)


class Reads:
    """One reconcile's reads (used as a read-only ``Backend``): each object read once, an
    owned object taken from the watch cache; ``fresh`` reads one from the server. Anything
    but ``get`` goes to the backend as it is."""

    def __init__(self, backend: Backend, cache: WatchCache | None = None) -> None:
        self.backend = backend
        self.cache = cache
        self._read: dict[ObjectRef, Obj | None] = {}
        #: Objects served from the watch cache (not read from the server in this reconcile).
        self.cached: set[ObjectRef] = set()

    def get(self, ref: ObjectRef) -> Obj | None:
        if ref in self._read:
            return self._read[ref]
        found = self.cache.get(ref) if self.cache is not None else None
        if found is not None:
            self.cached.add(ref)
            self._read[ref] = found
            return found
        return self.fresh(ref)

    def fresh(self, ref: ObjectRef) -> Obj | None:
        """``ref`` as the server has it now (and as this reconcile's later reads see it)."""
        live = self.backend.get(ref)
        self._read[ref] = live
        self.cached.discard(ref)
        return live

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)
