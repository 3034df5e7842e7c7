"""What the controller's deploys applied, remembered across reconciles, so a resumed run does
not read and apply again an object nobody changed since.

A creation run usually parks at its Deployments' readiness; the run that resumes it (same
revision) runs the waiting step again from its start, and its applies would each read the
object (GET) and apply the same manifest again (PATCH), though the first run's apply left it
so. The controller's label watch shows each owned object as the server has it: when its copy
is the one the apply answered (same resourceVersion), or, for an object whose only content
besides metadata is ``spec`` (and ``status``), the same generation and the manifest's own
metadata still there (a status update changes the resourceVersion, not the generation; the
labels and annotations others add, a Deployment's revision, are not the apply's), and the
manifest to apply hashes as the one applied, that apply would change nothing and is answered
from the watch.

Drift correction is kept: an object someone else edited (another resourceVersion and, for a
spec-only kind, another generation or metadata) or deleted (gone from the watch) is read and
applied as before. Only the controller remembers (``DeployBackend``); the CLI's resume still
applies everything again, which is its drift correction. The memory is per process: a
restarted controller applies once more.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._controller.cache import digest
from pyvela._core.objects import Obj, ObjectRef

#: Top-level keys of an object whose generation follows every change but its metadata's.
_SPEC_ONLY = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
#: Metadata maps a server-side apply merges into (others' keys in them are not ours).
_MAPS = ("labels", "annotations")


def _kept(wanted: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
    """The metadata ``meta`` still has what the manifest's ``wanted`` set."""
    for key, value in wanted.items():
        if key in _MAPS and isinstance(value, Mapping):
            have = meta.get(key) or {}
            if any(have.get(k) != v for k, v in value.items()):
                return False
        elif meta.get(key) != value:
            return False
    return True


@attrs.frozen
class Applied:
    """One apply's manifest (its hash) and the object as the server answered it."""

    manifest: str
    resource_version: str | None
    generation: int | None
    #: The manifest's metadata (JSON, sorted): what an apply of it would set again.
    wanted: str
    spec_only: bool

    def unchanged(self, seen: Mapping[str, Any]) -> bool:
        """The watch's copy ``seen`` is the object as this apply left it (but its status)."""
        meta = seen.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return False
        if self.resource_version is not None and meta.get("resourceVersion") == self.resource_version:
            return True
        if not self.spec_only or self.generation is None or meta.get("generation") != self.generation:
            return False
        return set(seen) <= _SPEC_ONLY and _kept(json.loads(self.wanted), meta)


class AppliedObjects:
    """Objects the controller's deploys applied, by ref (thread-safe, bounded: the oldest
    are forgotten first, and a forgotten one is simply applied again)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._applied: OrderedDict[ObjectRef, Applied] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, manifest: Mapping[str, Any], answer: Obj) -> None:
        meta = answer.get("metadata") or {}
        generation = meta.get("generation")
        entry = Applied(
            manifest=digest(manifest),
            resource_version=meta.get("resourceVersion"),
            generation=generation if isinstance(generation, int) else None,
            wanted=json.dumps(manifest.get("metadata") or {}, sort_keys=True, default=str),
            spec_only=set(answer) <= _SPEC_ONLY,
        )
        with self._lock:
            self._applied[ObjectRef.of(answer)] = entry
            self._applied.move_to_end(ObjectRef.of(answer))
            while len(self._applied) > self._limit:
                self._applied.popitem(last=False)

    def unchanged(self, ref: ObjectRef, seen: Mapping[str, Any] | None) -> bool:
        """The watch's copy shows ``ref`` as a deploy of ours last applied it."""
        with self._lock:
            entry = self._applied.get(ref)
        return entry is not None and seen is not None and entry.unchanged(seen)

    def same(self, ref: ObjectRef, manifest: Mapping[str, Any], seen: Mapping[str, Any] | None) -> bool:
        """Applying ``manifest`` would change nothing: it is the one last applied, and the
        watch shows the object unchanged since."""
        with self._lock:
            entry = self._applied.get(ref)
        if entry is None or seen is None or not entry.unchanged(seen):
            return False
        return entry.manifest == digest(manifest)

    def forget(self, ref: ObjectRef) -> None:
        with self._lock:
            self._applied.pop(ref, None)
