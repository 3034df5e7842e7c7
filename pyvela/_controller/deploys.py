"""The backend a controller's deploy runs on: the reconciler's, answering from memory three
reads whose answer the controller already has, so a creation reconcile makes fewer requests
on an API server that is the bottleneck (benchmarks/controller.py):

- the app's **state record** (its index and parts) once this deploy wrote it: the deploy
  holds the app's Lease, so nobody else writes the record meanwhile and the server has what
  its write answered. The Events on the record (for its uid), and the reconcile's own
  reading of the record after the deploy, read it so. A record this deploy has not written
  (the read under the Lease that decides what to run) is read from the server;
- the **Namespace** of the Application resource: the resource lives in it, so it exists
  while the resource is reconciled. Read once per process (a real object), then kept;
- an object this deploy **applied**, when the controller's label watch already shows it at
  the generation the apply answered, observed by its controller and ready by its kind's
  rule: a wait's look then needs no request. Any other copy (older, not ready, absent) is
  read from the server, so a step never parks on a watch that lags;
- an object a **previous deploy applied** (``applied.AppliedObjects``, the reconciler's,
  kept across reconciles) that the watch shows unchanged since: read from the watch, and
  its apply of the same manifest answered from there too (a resumed run's applies then
  make no request). An object edited or deleted since is read and applied as before.

Everything else goes to the backend as it is (``__getattr__``: batches, pod I/O, helm,
other clusters).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._backends.readiness import rule_for
from pyvela._controller.applied import AppliedObjects
from pyvela._controller.cache import WatchCache, is_state
from pyvela._core.objects import Obj, ObjectRef, deep_copy


class Namespaces:
    """Namespaces read once per process (thread-safe), served only for a resource's own."""

    def __init__(self) -> None:
        self._seen: dict[str, Obj] = {}
        self._lock = threading.Lock()

    def get(self, backend: Backend, name: str) -> Obj | None:
        with self._lock:
            kept = self._seen.get(name)
        if kept is not None:
            return deep_copy(kept)  # type: ignore[no-any-return]
        live = backend.get(ObjectRef("v1", "Namespace", "", name))
        if live is not None:
            with self._lock:
                self._seen[name] = deep_copy(live)
        return live

    def forget(self, name: str) -> None:
        with self._lock:
            self._seen.pop(name, None)


def _generation(obj: Mapping[str, Any]) -> int | None:
    value = (obj.get("metadata") or {}).get("generation")
    return int(value) if isinstance(value, int) else None


class DeployBackend:
    """One deploy's backend (see the module docstring); made per reconcile, never shared."""

    def __init__(
        self,
        backend: Backend,
        *,
        namespace: str,
        cache: WatchCache | None = None,
        namespaces: Namespaces | None = None,
        remembered: AppliedObjects | None = None,
    ) -> None:
        self.backend = backend
        self.description = backend.description
        self.namespace = namespace
        self.cache = cache
        self.namespaces = namespaces
        #: What earlier deploys applied (None: every apply goes to the server, as for drift
        #: correction, which must write what it found changed even if the watch lags).
        self.remembered = remembered if cache is not None else None
        self._written: dict[ObjectRef, Obj] = {}  # state-record Secrets, as this deploy wrote them
        self._applied: dict[ObjectRef, int] = {}  # objects this deploy applied: their generation
        self._lock = threading.Lock()
        #: Reads answered from memory, by kind (what the tests and the benchmark look at).
        self.served: dict[str, int] = {}

    def _served(self, ref: ObjectRef) -> None:
        with self._lock:
            self.served[ref.kind] = self.served.get(ref.kind, 0) + 1

    # ------------------------------------------------------------------ reads

    def get(self, ref: ObjectRef) -> Obj | None:
        with self._lock:
            written = self._written.get(ref)
            applied = self._applied.get(ref)
        if written is not None:
            self._served(ref)
            return deep_copy(written)  # type: ignore[no-any-return]
        own_namespace = ref.kind == "Namespace" and ref.api_version == "v1" and ref.name == self.namespace
        if own_namespace and self.namespaces is not None:
            return self.namespaces.get(self.backend, ref.name)
        if applied is not None and self.cache is not None:
            seen = self.cache.get(ref)
            if seen is not None and self._current_and_ready(seen, applied):
                self._served(ref)
                return deep_copy(seen)  # type: ignore[no-any-return]
        if applied is None and self.remembered is not None and self.cache is not None:
            seen = self.cache.get(ref)
            if self.remembered.unchanged(ref, seen):  # as an earlier deploy's apply left it
                self._served(ref)
                return deep_copy(seen)  # type: ignore[no-any-return]
        return self.backend.get(ref)

    @staticmethod
    def _current_and_ready(seen: Obj, generation: int) -> bool:
        """The watch's copy is of the spec applied (or newer), its controller has seen it,
        and the kind's rule calls it ready."""
        at = _generation(seen)
        if at is None or at < generation:
            return False
        observed = (seen.get("status") or {}).get("observedGeneration")
        if isinstance(observed, int) and observed < at:
            return False
        if (seen.get("metadata") or {}).get("deletionTimestamp"):
            return False
        return rule_for(str(seen.get("apiVersion") or ""), str(seen.get("kind") or ""))(seen).ready

    # ------------------------------------------------------------------ writes (remembered)

    def _keep(self, answer: Obj) -> Obj:
        ref = ObjectRef.of(answer)
        with self._lock:
            if is_state(answer):
                self._written[ref] = deep_copy(answer)
            else:
                generation = _generation(answer)
                if generation is not None:
                    self._applied[ref] = generation
        return answer

    def _drop(self, ref: ObjectRef) -> None:
        with self._lock:
            self._written.pop(ref, None)
            self._applied.pop(ref, None)
        if self.remembered is not None:
            self.remembered.forget(ref)

    def _written_by(self, ref: ObjectRef, write: Any) -> Obj:
        try:
            answer: Obj = write()
        except Exception:
            self._drop(ref)  # refused (a conflict, gone): what the server has is not known
            raise
        return self._keep(answer)

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        if dry_run:
            return self.backend.apply(obj, force=force, dry_run=True)
        ref = ObjectRef.of(obj)
        remembered, cache = self.remembered, self.cache
        if remembered is not None and cache is not None and not is_state(obj):
            seen = cache.get(ref)
            if seen is not None and remembered.same(ref, obj, seen):  # applying it changes nothing
                self._served(ref)
                return self._keep(deep_copy(seen))
        answer = self._written_by(ref, lambda: self.backend.apply(obj, force=force))
        if remembered is not None and not is_state(answer):
            remembered.record(obj, answer)
        return answer

    def create(self, obj: Mapping[str, Any]) -> Obj:
        self._drop(ObjectRef.of(obj))  # not applied: a later apply takes its fields over
        return self._written_by(ObjectRef.of(obj), lambda: self.backend.create(obj))

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        self._drop(ObjectRef.of(obj))
        return self._written_by(ObjectRef.of(obj), lambda: self.backend.replace(obj))

    def delete(
        self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0, orphan: bool = False
    ) -> bool:
        self._drop(ref)
        return self.backend.delete(ref, wait=wait, timeout=timeout, orphan=orphan)

    def __getattr__(self, name: str) -> Any:
        if name == "merge_patch":  # a patch leaves the object as nobody here knows it
            inner = getattr(self.backend, name)

            def patched(ref: ObjectRef, patch: Mapping[str, Any], *, status: bool = False) -> Obj:
                self._drop(ref)
                answer: Obj = inner(ref, patch, status=status)
                return answer

            return patched
        return getattr(self.backend, name)
