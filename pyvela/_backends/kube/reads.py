"""Reading a Kubernetes cluster: objects, lists and watches, with a cache of what was seen.

Waits follow objects through watches (``watch.follow``), never by polling: a wait starts
from the last version of the object this process saw, and re-lists on 410 Gone. The
HelmRelease kind (``release``) is built on these reads.
"""

from __future__ import annotations

import builtins
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TypeVar

from pyvela._backends.kube.discovery import Kind
from pyvela._backends.kube.errors import parse_status
from pyvela._backends.kube.transport import KubeTransport, Watch
from pyvela._backends.kube.watch import Backoff, follow, key_of
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._core.objects import Obj, ObjectRef, deep_copy
from pyvela.errors import NotReadyError, PyvelaError, StepTimeout, WorkflowError

__all__ = ["KubeReads"]

T = TypeVar("T")
_CACHE_SIZE = 2048


class KubeReads(KubeTransport):
    """Gets, lists and watches of any kind the cluster serves (HelmRelease aside)."""

    _seen: OrderedDict[ObjectRef, Obj]  # made by KubeTransport.__init__, the one constructor

    def _remember(self, obj: Obj) -> Obj:
        """Keep ``obj`` as the last version seen (a wait can start watching from it); a copy."""
        ref = ObjectRef.of(obj)
        with self._lock:
            self._seen[ref] = obj
            self._seen.move_to_end(ref)
            while len(self._seen) > _CACHE_SIZE:
                self._seen.popitem(last=False)
        copy: Obj = deep_copy(obj)
        return copy

    def _recalled(self, ref: ObjectRef) -> Obj | None:
        with self._lock:
            return self._seen.get(ref)

    def _forget(self, ref: ObjectRef) -> None:
        with self._lock:
            self._seen.pop(ref, None)

    def get(self, ref: ObjectRef) -> Obj | None:
        kind = self.discovery.kind(ref.api_version, ref.kind)
        what = str(ref)
        code, data = self.call("GET", kind.path(kind.namespace(ref.namespace), ref.name), what=what)
        if code == 404:
            if parse_status(data) is None:
                self.discovery.stale(ref.api_version, ref.kind)
            self._forget(ref)
            return None
        if code >= 300:
            raise self.error(code, data, what=what, verb="GET")
        return self._remember(data)

    def list_versioned(
        self,
        api_version: str,
        kind_name: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        fields: str | None = None,
    ) -> tuple[list[Obj], str]:
        """Objects of a kind and the resourceVersion the list is current at (pages followed)."""
        kind = self.discovery.kind(api_version, kind_name)
        query = [("limit", "500")]
        if labels:
            query.append(("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))))
        if fields:
            query.append(("fieldSelector", fields))
        items: list[Obj] = []
        what = f"{kind_name} list"
        path = kind.path(namespace if kind.namespaced else None)
        while True:
            code, data = self.call("GET", path, query=query, what=what)
            if code >= 300:
                raise self.error(code, data, what=what, verb="LIST")
            for item in data.get("items") or []:
                item["apiVersion"], item["kind"] = kind.api_version, kind.kind
                items.append(item)
            meta = data.get("metadata") or {}
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion") or "")
            query = [q for q in query if q[0] != "continue"] + [("continue", meta["continue"])]

    def wait_gone(
        self, ref: ObjectRef, *, uid: str | None, deadline: float, cancel: threading.Event | None = None
    ) -> None:
        """Until ``ref`` (that very object, when ``uid`` is given) no longer exists."""

        def gone(obj: Obj | None) -> Readiness:
            if obj is None or (uid and (obj.get("metadata") or {}).get("uid") != uid):
                return Readiness(True, "deleted")
            finalizers = ", ".join((obj.get("metadata") or {}).get("finalizers") or []) or "none"
            return Readiness(False, f"still deleting (finalizers: {finalizers})")

        self.follow_one(ref, gone, deadline=deadline, cancel=cancel, cached=False)

    def follow_one(
        self,
        ref: ObjectRef,
        rule: ReadinessRule,
        *,
        deadline: float,
        on_progress: Callable[[Readiness], None] | None = None,
        cancel: threading.Event | None = None,
        cached: bool = True,
        seen: Callable[[Obj | None], None] | None = None,
        tick: Callable[[], None] | None = None,
    ) -> Obj:
        """Watch one object until ``rule`` says ready (returns it; ``{}`` for an absent object).

        ``seen`` is shown every version of the object; ``tick`` is called while waiting (see
        :func:`~pyvela._backends.kube.watch.follow`).
        """
        kind = self.discovery.kind(ref.api_version, ref.kind)
        namespace = kind.namespace(ref.namespace)
        key = f"{namespace or ''}/{ref.name}"
        known = self._recalled(ref) if cached else None
        version = str((known or {}).get("metadata", {}).get("resourceVersion") or "")
        start = ({key: known}, version) if known and version else None
        last: builtins.list[str | None] = [None]

        def evaluate(objects: Mapping[str, Obj]) -> Obj | None:
            obj = objects.get(key)
            if seen is not None:
                seen(obj)
            verdict = rule(obj)
            if verdict.message != last[0]:
                last[0] = verdict.message
                if on_progress is not None:
                    on_progress(verdict)
            if verdict.failed:
                raise NotReadyError(
                    f"{ref} will not become ready: {verdict.message}", object=str(ref), got=verdict.message
                )
            if verdict.ready:
                return self._remember(obj) if obj is not None else {}
            return None

        return self.follow(
            kind,
            namespace,
            evaluate,
            deadline=deadline,
            cancel=cancel,
            what=ref,
            fields=f"metadata.name={ref.name}",
            start=start,
            last=last,
            tick=tick,
        )

    def follow(
        self,
        kind: Kind,
        namespace: str | None,
        evaluate: Callable[[Mapping[str, Obj]], T | None],
        *,
        deadline: float,
        cancel: threading.Event | None,
        what: ObjectRef | str,
        fields: str | None = None,
        labels: Mapping[str, str] | None = None,
        start: tuple[dict[str, Obj], str] | None = None,
        last: builtins.list[str | None] | None = None,
        tick: Callable[[], None] | None = None,
    ) -> T:
        """Watch the objects of ``kind`` picked by ``fields``/``labels`` until ``evaluate`` returns."""
        total = round(max(0.0, deadline - time.monotonic()), 2)
        query: list[tuple[str, str]] = [("allowWatchBookmarks", "true")]
        if fields:
            query.append(("fieldSelector", fields))
        if labels:
            query.append(("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))))
        path = kind.path(namespace)

        def relist() -> tuple[dict[str, Obj], str]:
            items, version = self.list_versioned(kind.api_version, kind.kind, namespace, labels, fields)
            return {key_of(i): i for i in items}, version

        def open_watch(version: str, seconds: int) -> Watch:
            return self._open_watch(
                path, [*query, ("resourceVersion", version), ("timeoutSeconds", str(seconds))], str(what)
            )

        def timed_out() -> PyvelaError:
            message = (last or [None])[0] or "no answer from the cluster"
            return StepTimeout(
                f"timed out after {total:g}s waiting for {what}: {message}",
                object=str(what),
                timeout=total,
                last_message=message,
            )

        return follow(
            relist=relist,
            open_watch=open_watch,
            evaluate=evaluate,
            deadline=deadline,
            cancel=cancel,
            on_timeout=timed_out,
            on_cancel=lambda: WorkflowError(f"cancelled while waiting for {what}", object=str(what)),
            status_error=lambda s: self.error(
                int(s.get("code") or 500), json.dumps(s).encode(), what=str(what), verb="WATCH"
            ),
            start=start,
            backoff=Backoff(budget=self.retry_budget),
            tick=tick,
        )
