"""The Kubernetes backend: a real cluster behind the :class:`~pyvela._backends.protocol.Backend` protocol.

``transport`` speaks HTTP (and is the only module that imports ``kubernetes``), ``reads``
gets, lists and watches; this module adds the writes: ``apply`` is server-side apply
(field manager ``pyvela``), ``create``/``replace`` are retried only where the request surely
did not reach the server, ``delete`` follows the object until it is gone. A small
per-group-version discovery cache means any kind the cluster serves works, custom
resources included. ``pyvela.dev/v1alpha1 HelmRelease`` objects go to the helm CLI
(``release``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pyvela._backends.kube.discovery import Kind
from pyvela._backends.kube.errors import parse_status
from pyvela._backends.kube.podio import KubePodIO
from pyvela._backends.kube.podwatch import PodWatch
from pyvela._backends.kube.reads import KubeReads
from pyvela._backends.kube.watch import key_of
from pyvela._backends.pods import POD_OWNERS
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._core.objects import (
    HELM_API_VERSION,
    HELM_KIND,
    MANAGER,
    Obj,
    ObjectRef,
    deep_copy,
    is_helm_release,
)
from pyvela.errors import ClusterError, NotFoundError

if TYPE_CHECKING:
    from pyvela._backends.kube.release import HelmReleases

__all__ = ["KubeBackend"]

APPLY_PATCH = "application/apply-patch+yaml"
_SERVER_FIELDS = (
    "managedFields",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


class KubeBackend(KubePodIO, KubeReads):
    """A Kubernetes cluster (implements :class:`~pyvela._backends.protocol.Backend` and
    :class:`~pyvela._backends.podio.PodIO`); use :meth:`connect`.

    Attributes:
        description: ``cluster <server> (context <name>)``; never credentials.
        requests: API requests made so far by verb (``GET``, ``PATCH``..., ``WATCH``).
        retry_budget: Seconds a request keeps being retried on transient failures.
    """

    _helm: HelmReleases | None = None

    @property
    def helm(self) -> HelmReleases:
        if self._helm is None:
            from pyvela._backends.kube.release import HelmReleases

            self._helm = HelmReleases(self)
        return self._helm

    def get(self, ref: ObjectRef) -> Obj | None:
        if ref.api_version == HELM_API_VERSION and ref.kind == HELM_KIND:
            return self.helm.get(ref)
        return super().get(ref)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        if api_version == HELM_API_VERSION and kind == HELM_KIND:
            return self.helm.list(namespace, labels)
        items, _ = self.list_versioned(api_version, kind, namespace, labels)
        return sorted(items, key=key_of)

    def _body(self, obj: Mapping[str, Any]) -> tuple[Kind, Obj, str]:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("metadata"), Mapping):
            raise ClusterError("an object must be a mapping with metadata", got=type(obj).__name__)
        kind = self.discovery.kind(obj.get("apiVersion"), obj.get("kind"))  # type: ignore[arg-type]
        body: Obj = deep_copy(dict(obj))
        body.pop("status", None)
        meta = body["metadata"]
        for field in _SERVER_FIELDS:
            meta.pop(field, None)
        if not meta.get("resourceVersion"):
            meta.pop("resourceVersion", None)
        namespace = kind.namespace(meta.get("namespace"))
        if namespace:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return kind, body, f"{kind.kind} {namespace + '/' if namespace else ''}{meta.get('name') or ''}"

    def _written(self, code: int, data: Any, kind: Kind, what: str, verb: str) -> Obj:
        if 200 <= code < 300:
            return self._remember(data)
        if code == 404 and parse_status(data) is None:
            self.discovery.stale(kind.api_version, kind.kind)
        error = self.error(code, data, what=what, verb=verb)
        if isinstance(error, NotFoundError) and "namespaces" in str(error.message):
            error.fix = "create the Namespace first"
        raise error

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        if is_helm_release(obj):
            return self.helm.apply(obj, force=force, dry_run=dry_run)
        kind, body, what = self._body(obj)
        meta = body["metadata"]
        if not meta.get("name"):
            raise ClusterError(f"{kind.kind}: metadata.name: Required value", object=kind.kind)
        query = (
            [("fieldManager", MANAGER)]
            + ([("force", "true")] if force else [])
            + ([("dryRun", "All")] if dry_run else [])
        )
        code, data = self.call(
            "PATCH",
            kind.path(meta.get("namespace"), meta["name"]),
            query=query,
            body=body,
            content_type=APPLY_PATCH,
            what=what,
        )
        if dry_run and 200 <= code < 300:
            preview: Obj = data
            return preview
        return self._written(code, data, kind, what, "apply")

    def create(self, obj: Mapping[str, Any]) -> Obj:
        kind, body, what = self._body(obj)
        code, data = self.call(
            "POST", kind.path(body["metadata"].get("namespace")), body=body, what=what, retry=False
        )
        return self._written(code, data, kind, what, "create")

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        kind, body, what = self._body(obj)
        meta = body["metadata"]
        code, data = self.call(
            "PUT", kind.path(meta.get("namespace"), meta.get("name")), body=body, what=what, retry=False
        )
        return self._written(code, data, kind, what, "replace")

    def merge_patch(self, ref: ObjectRef, patch: Mapping[str, Any], *, status: bool = False) -> Obj:
        """A JSON merge patch (:class:`~pyvela._backends.patching.MergePatch`)."""
        kind = self.discovery.kind(ref.api_version, ref.kind)
        path = kind.path(kind.namespace(ref.namespace), ref.name) + ("/status" if status else "")
        what = f"{ref} status" if status else str(ref)
        code, data = self.call(
            "PATCH", path, body=dict(patch), content_type="application/merge-patch+json", what=what
        )
        return self._written(code, data, kind, what, "patch")

    def delete(
        self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0, orphan: bool = False
    ) -> bool:
        if ref.api_version == HELM_API_VERSION and ref.kind == HELM_KIND:
            return self.helm.delete(ref, wait=wait, timeout=timeout)
        deadline = time.monotonic() + timeout
        kind = self.discovery.kind(ref.api_version, ref.kind)
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Orphan" if orphan else "Foreground" if wait else "Background",
        }
        code, data = self.call(
            "DELETE", kind.path(kind.namespace(ref.namespace), ref.name), body=options, what=str(ref)
        )
        self._forget(ref)
        if code == 404 and parse_status(data) is not None:
            return False
        if code >= 300:
            if code == 404:
                self.discovery.stale(ref.api_version, ref.kind)
            raise self.error(code, data, what=str(ref), verb="DELETE")
        if wait and data.get("kind") != "Status":
            self.wait_gone(ref, uid=(data.get("metadata") or {}).get("uid"), deadline=deadline)
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
        deadline = time.monotonic() + timeout
        if ref.api_version == HELM_API_VERSION and ref.kind == HELM_KIND:
            return self.helm.wait(
                ref,
                rule,
                deadline=deadline,
                on_progress=on_progress,
                cancel=cancel,
            )
        if ref.kind not in POD_OWNERS:
            live = self.follow_one(ref, rule, deadline=deadline, on_progress=on_progress, cancel=cancel)
            out: Obj = deep_copy(live)
            return out
        last: list[str | None] = [None]

        def progress(verdict: Readiness) -> None:
            last[0] = verdict.message
            if on_progress is not None:
                on_progress(verdict)

        pods = PodWatch(
            self,
            ref,
            grace=failure_grace,
            deadline=deadline,
            on_progress=on_progress,
            workload_message=lambda: last[0],
        )
        try:
            live = self.follow_one(
                ref,
                rule,
                deadline=deadline,
                on_progress=progress,
                cancel=cancel,
                seen=pods.saw,
                tick=pods.tick,
            )
        finally:
            pods.close()
        copy: Obj = deep_copy(live)
        return copy
