"""Cluster reads while rendering: what a component such as ``ref-objects`` sees of the target
cluster when it is applied.

Rendering is pure everywhere except where the runner has a cluster: the executor (applying a
component), the planning of a new revision, and ``diff``. Those render inside
:func:`reading`, which makes the backend they talk to the one :func:`cluster_reads` returns;
a render without one (``pyvela render``, ``pyvela.testing.render``) makes the component fail
with one clear message instead of an empty or made-up object. The reader is per thread of
control (a ``ContextVar``): two apps rendered at once never see each other's cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import RenderError


class ClusterReads(Protocol):
    """The reads a component may make of the target cluster (a backend offers them)."""

    def get(self, ref: ObjectRef) -> Obj | None:
        """The live object, or None when it does not exist."""
        ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        """Objects of a kind (all namespaces when ``namespace`` is None) matching ``labels``."""
        ...


_READER: ContextVar[ClusterReads | None] = ContextVar("pyvela_cluster_reads", default=None)


@contextmanager
def reading(reader: ClusterReads) -> Iterator[None]:
    """Render with ``reader`` as the cluster components read (the runner's backend)."""
    token = _READER.set(reader)
    try:
        yield
    finally:
        _READER.reset(token)


def cluster_reads(definition: str) -> ClusterReads:
    """The cluster the component being rendered is applied to.

    Raises:
        RenderError: when rendering without a cluster (``pyvela render``), naming
            ``definition`` and the commands that read one.
    """
    reader = _READER.get()
    if reader is None:
        raise RenderError(
            f"{definition} reads the cluster: it has no objects without one",
            definition=definition,
            expected="a render against a cluster",
            got="an offline render (no cluster)",
            fix="use deploy or diff (they read the target cluster: the sandbox or --kubeconfig), "
            "or give the objects themselves with k8s-objects",
        )
    return reader
