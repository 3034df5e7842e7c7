"""The control target with the other clusters of a run behind it.

A :class:`Fleet` is the control cluster's backend (every call goes to it: the app's state
record, its lock, and the objects placed on ``local``) that also knows the run's
:class:`~pyvela._backends.clusters.ClusterSet`, so the runner reaches an object placed on
another cluster by that cluster's name (:func:`on_cluster`). A plain backend is a fleet of
one: naming another cluster on it is an error that says how to declare clusters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from pyvela._backends.clusters import ClusterSet
from pyvela._backends.protocol import Backend, Readiness, ReadinessRule
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError


class Fleet:
    """The control backend (delegated to whole) and the clusters of the run."""

    def __init__(self, control: Backend, clusters: ClusterSet, *, owns_control: bool = False) -> None:
        self.control = control
        self.clusters = clusters
        self.description = control.description
        self._owns_control = owns_control

    def on_cluster(self, name: str | None) -> Backend:
        """The backend of cluster ``name`` (None or the control's name: the control backend)."""
        if name is None or self.clusters.resolve(name) == self.clusters.control:
            return self.control
        return self.clusters.backend(name)

    def __getattr__(self, name: str) -> Any:
        # The sandbox's extras (batch, config_centre, root) are the control's.
        return getattr(self.control, name)

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        return self.control.apply(obj, force=force, dry_run=dry_run)

    def get(self, ref: ObjectRef) -> Obj | None:
        return self.control.get(ref)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        return self.control.list(api_version, kind, namespace, labels)

    def create(self, obj: Mapping[str, Any]) -> Obj:
        return self.control.create(obj)

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        return self.control.replace(obj)

    def delete(
        self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0, orphan: bool = False
    ) -> bool:
        return self.control.delete(ref, wait=wait, timeout=timeout, orphan=orphan)

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
        return self.control.wait(
            ref, rule, timeout=timeout, on_progress=on_progress, cancel=cancel, failure_grace=failure_grace
        )

    def close(self) -> None:
        """Close the clusters this run opened, and the control backend when the fleet owns it."""
        self.clusters.close()
        if self._owns_control:
            self.control.close()


def clusters_of(backend: Backend) -> ClusterSet:
    """The clusters ``backend`` reaches: a fleet's, else the backend alone as ``local``."""
    found = getattr(backend, "clusters", None)
    if isinstance(found, ClusterSet):
        return found
    return ClusterSet.of({"local": backend})


def on_cluster(backend: Backend, name: str | None) -> Backend:
    """The backend of cluster ``name`` seen from ``backend`` (None: ``backend`` itself)."""
    if name is None:
        return backend
    route = getattr(backend, "on_cluster", None)
    if route is None:
        if name == "local":
            return backend
        raise ClusterError(
            f"cluster {name!r} holds objects of this app, but no clusters are known to this run",
            cluster=name,
            fix="run with the cluster file that declares it (--clusters FILE, $PYVELA_CLUSTERS or "
            "./clusters.yaml); `pyvela clusters` lists the known ones",
        )
    chosen: Backend = route(name)
    return chosen
