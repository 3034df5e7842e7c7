"""The contract between the workflow runner and a cluster (the sandbox or a real one).

The runner only ever talks to a :class:`Backend`; the sandbox (``pyvela._backends.sandbox``) and
the Kubernetes backend (``pyvela._backends.kube.backend``) both implement it, and the shared contract
tests in ``tests/contract`` hold them to the same semantics.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

# Readiness is core data (definitions' health rules return it); the contract re-exports it.
from pyvela._core.health import Readiness as Readiness
from pyvela._core.health import ReadinessRule as ReadinessRule
from pyvela._core.objects import Obj, ObjectRef


class Backend(Protocol):
    """A cluster the runner can deploy to. All methods are thread-safe and blocking."""

    #: Human description for the "about to change" line: "sandbox (.pyvela/sandbox.db)",
    #: "cluster https://127.0.0.1:6443 (context kind-dev)".
    description: str

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        """Create or update ``obj`` (server-side apply, manager ``pyvela``); return the live object.

        ``status`` in ``obj`` is ignored. Raises UnknownKindError, ConflictError (field
        managers, unless ``force``), TransientError, ClusterError.
        """
        ...

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

    def create(self, obj: Mapping[str, Any]) -> Obj:
        """Create ``obj``; AlreadyExistsError if it exists."""
        ...

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        """Replace ``obj`` if ``metadata.resourceVersion`` still matches, else ConflictError."""
        ...

    def delete(
        self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0, orphan: bool = False
    ) -> bool:
        """Delete; with ``wait`` return once it is gone. False when it did not exist.

        Its dependents (a Deployment's Pods) go too, unless ``orphan``: then they stay,
        without their owner reference (propagationPolicy Orphan).
        """
        ...

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
        """Block until ``rule`` says ready, reacting to changes as they happen (no polling loop).

        For a workload whose Pods are stuck (a bad image, a missing config key, no node that
        fits, a crash loop), fails with the Pods' reason once it has lasted ``failure_grace``
        seconds (default: the object's ``pyvela.dev/failure-grace`` annotation, else 60).

        Calls ``on_progress`` whenever the verdict's message changes. Raises NotReadyError
        when the rule says failed, StepTimeout after ``timeout`` seconds (with the last
        message), WorkflowError when ``cancel`` is set.
        """
        ...

    def close(self) -> None:
        """Release connections, threads and files."""
        ...


class Batching(Protocol):
    """Optional: a backend whose writes can share one transaction (the sandbox; a real API
    server answers each request on its own, so the kube backend has no ``batch``).

    ``batch()``: the calling thread's writes until the block ends commit together (a kill keeps
    all or none). ``batch(durable=False)``: as well, but the commit may wait for a later one
    (at most ``COMMIT_AFTER`` seconds; a durable batch or a write outside any batch commits it
    first): for writes whose outcome a durable write records later (a component's objects,
    then the state record that says they were applied), so a kill keeps everything up to
    some point and a re-run finishes. Callers look it up with ``getattr(backend, "batch")``.
    """

    def batch(self, *, durable: bool = True) -> AbstractContextManager[None]: ...


#: How the API server words a refused in-place update: "field is immutable" (Jobs, selectors,
#: clusterIP...), "spec is immutable after creation" (PVCs), "updates to statefulset spec for
#: fields other than ... are forbidden". Both backends raise ImmutableFieldError for these.
_IMMUTABLE = re.compile(r"is immutable|updates to statefulset spec for fields other than")


def refuses_update(message: str) -> bool:
    """Whether an API server's refusal ``message`` is about a field that cannot change."""
    return _IMMUTABLE.search(message) is not None
