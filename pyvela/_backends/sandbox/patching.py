"""JSON merge patches on the sandbox (:class:`~pyvela._backends.patching.MergePatch`).

A patch of the object is a replace of the merged object (a spec change is a new
generation, as on an API server). A patch of the status of a kind with a simulated
controller is what an operator asks of that controller: for an Argo Rollout, ``abort``
(``true``: back to the stable ReplicaSet, phase Degraded ``RolloutAborted``; ``false``: retry),
and a promotion (``pauseConditions`` cleared, ``currentStepIndex`` moved, ``promoteFull``),
which lets a paused canary finish. Other statuses are merged as written (a controller may
write over them, as a real one would).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyvela._backends.sandbox.cluster import settle
from pyvela._backends.sandbox.controllers import controller_for
from pyvela._backends.sandbox.crdstatus import declares_status
from pyvela._backends.sandbox.kinds import KindInfo
from pyvela._backends.sandbox.store import Store
from pyvela._backends.sandbox.workloads import OPERATOR
from pyvela._core.objects import Obj, ObjectRef, deep_copy
from pyvela.errors import NotFoundError


def json_merge(target: Any, patch: Any) -> Any:
    """RFC 7386: a mapping merges key by key (``None`` removes), anything else replaces."""
    if not isinstance(patch, Mapping):
        return deep_copy(patch)
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = json_merge(out.get(key), value)
    return out


class SandboxPatch:
    """``merge_patch`` for the sandbox (mixed into ``Sandbox``)."""

    if TYPE_CHECKING:
        description: str
        _store: Store

        def get(self, ref: ObjectRef) -> Obj | None: ...
        def replace(self, obj: Mapping[str, Any]) -> Obj: ...
        def _kind(self, api_version: Any, kind: Any) -> KindInfo: ...
        def _key(self, info: KindInfo, namespace: str | None, name: str) -> tuple[str, str, str, str]: ...

    def merge_patch(self, ref: ObjectRef, patch: Mapping[str, Any], *, status: bool = False) -> Obj:
        if not status:
            live = self.get(ref)
            if live is None:
                raise NotFoundError(f"{ref} does not exist in {self.description}", object=str(ref))
            merged = json_merge({k: v for k, v in live.items() if k != "status"}, dict(patch))
            merged.pop("status", None)  # the status subresource is patched on its own
            merged["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            return self.replace(merged)
        info = self._kind(ref.api_version, ref.kind)
        with self._store.write() as conn:
            row = Store.load(conn, *self._key(info, ref.namespace, ref.name))
            if row is None:
                raise NotFoundError(f"{ref} does not exist in {self.description}", object=str(ref))
            now = time.time()
            settle(conn, row, now)
            asked = patch.get("status")
            asked = asked if isinstance(asked, Mapping) else {}
            if controller_for(info.group, info.kind) is None and not declares_status(
                conn, info.group, info.kind, ref.api_version
            ):
                # Only kinds a controller reports on, and custom resources whose CRD declares
                # one, have a status subresource (an API server answers 404 for the others').
                raise NotFoundError(
                    f"{ref} has no status subresource in {self.description}", object=f"{ref} status"
                )
            if (info.group, info.kind) == ("argoproj.io", "Rollout"):
                row.prior = {**row.prior, OPERATOR: _operator(row.prior.get(OPERATOR), asked, now)}
                row.next_change, row.rv = now, Store.next_rv(conn)
                Store.save(conn, row)
                settle(conn, row, now)
            else:
                row.status = json_merge(row.status or {}, asked)
                row.rv = Store.next_rv(conn)
                Store.save_status(conn, row)
            return row.to_obj()


def _operator(current: Any, asked: Mapping[str, Any], now: float) -> dict[str, Any]:
    # The times are for the Events the controller would record (``rolloutevents``).
    operator = dict(current) if isinstance(current, Mapping) else {}
    if "abort" in asked:
        operator["abort"] = asked["abort"] is True
        if asked["abort"] is True:
            operator["aborted"] = now
        else:
            operator.pop("promoted", None)  # a retry starts the steps again
            operator.pop("full", None)
            if operator.get("aborted") is not None:
                operator["retried"] = now
    cleared = "pauseConditions" in asked and asked["pauseConditions"] is None
    if cleared or asked.get("promoteFull") is True or "currentStepIndex" in asked:
        operator["promoted"] = now
        operator["full"] = asked.get("promoteFull") is True
    return operator
