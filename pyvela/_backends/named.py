"""One named cluster: its ``ClusterInfo`` (re-exported by ``clusters``), its backend opened
from it with errors naming the cluster, and a bounded reachability probe. Used by
``clusters.ClusterSet``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import attrs

from pyvela._backends.protocol import Backend, Readiness, ReadinessRule
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError, PyvelaError

T = TypeVar("T")
Kind = Literal["kube", "sandbox"]


def _labels(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ClusterInfo:
    """A cluster, by name: where it is, never how to log in to it.

    Attributes:
        name: Its name in topologies (``local``, ``sandbox:eu``, a context name).
        labels: From the cluster file (what label selectors match).
        kind: ``kube`` (a kubeconfig context, or in-cluster) or ``sandbox``.
        context: kube: the kubeconfig context (None: in-cluster).
        kubeconfig: kube: the kubeconfig file (None: $KUBECONFIG or ~/.kube/config).
        in_cluster: kube: the pod's service account.
        sandbox: sandbox: its directory.
        declared: Where the cluster comes from: ``--context``, ``kubeconfig``, ``FILE:LINE``,
            ``default sandbox``, ``on disk``.
    """

    name: str
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_labels, hash=False)
    kind: Kind
    context: str | None = None
    kubeconfig: str | None = None
    in_cluster: bool = False
    sandbox: str | None = None
    declared: str = ""

    @property
    def location(self) -> str:
        if self.kind == "sandbox":
            return f"sandbox {self.sandbox}"
        if self.in_cluster:
            return "in-cluster service account"
        return f"context {self.context}" + (f" (kubeconfig {self.kubeconfig})" if self.kubeconfig else "")


@attrs.frozen
class Reach:
    """Whether a cluster answered a probe: ``message`` says what it answered (its version) or why not."""

    name: str
    ok: bool
    message: str
    seconds: float


class ClusterBackend:
    """A backend whose errors carry ``cluster=NAME``; everything else is the backend's own.

    Attributes:
        cluster: The cluster's name.
        inner: The backend itself (a Sandbox, a KubeBackend).
    """

    def __init__(self, cluster: str, inner: Backend) -> None:
        self.cluster = cluster
        self.inner = inner
        self.description = inner.description

    def _named(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except PyvelaError as exc:
            raise exc.with_context(cluster=self.cluster) from None

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        return self._named(self.inner.apply, obj, force=force, dry_run=dry_run)

    def get(self, ref: ObjectRef) -> Obj | None:
        return self._named(self.inner.get, ref)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        return self._named(self.inner.list, api_version, kind, namespace, labels)

    def create(self, obj: Mapping[str, Any]) -> Obj:
        return self._named(self.inner.create, obj)

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        return self._named(self.inner.replace, obj)

    def delete(
        self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0, orphan: bool = False
    ) -> bool:
        return self._named(self.inner.delete, ref, wait=wait, timeout=timeout, orphan=orphan)

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
        return self._named(
            self.inner.wait,
            ref,
            rule,
            timeout=timeout,
            on_progress=on_progress,
            cancel=cancel,
            failure_grace=failure_grace,
        )

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # The backends' extras (config_centre, batch, read_only, requests...) as they are.
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"ClusterBackend({self.cluster!r}, {self.description})"


def open_cluster(info: ClusterInfo, *, read_only: bool = False) -> Backend:
    """Open ``info``'s backend (a kube backend makes no request yet); errors name the cluster."""
    try:
        if info.kind == "sandbox":
            return _open_sandbox(Path(str(info.sandbox)), read_only=read_only)
        try:
            from pyvela._backends.kube.backend import KubeBackend
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ClusterError(
                f"the Kubernetes backend cannot be loaded: {exc}", fix="pip install kubernetes"
            ) from exc
        if not info.in_cluster and info.kubeconfig and not Path(info.kubeconfig).expanduser().is_file():
            raise ClusterError(
                f"the kubeconfig {info.kubeconfig} does not exist",
                expected="a kubeconfig file",
                fix="check the path in the cluster file or --kubeconfig",
            )
        backend: Backend = KubeBackend.connect(
            context=info.context,
            kubeconfig=str(Path(info.kubeconfig).expanduser()) if info.kubeconfig else None,
            in_cluster=info.in_cluster,
        )
        return backend
    except PyvelaError as exc:
        raise exc.with_context(cluster=info.name) from None


def _open_sandbox(root: Path, *, read_only: bool) -> Backend:
    from pyvela._backends.sandbox import Sandbox, SandboxSettings
    from pyvela._backends.sandbox.settings import SETTINGS_FILE
    from pyvela._backends.sandbox.store import DB_FILE

    settings = None
    parent = root.parent.parent
    if (
        not (root / SETTINGS_FILE).is_file()
        and root.parent.name == "clusters"
        and (parent / SETTINGS_FILE).is_file()
    ):
        # A named sandbox without settings of its own behaves as the default one does.
        settings = SandboxSettings.load(parent)
    sandbox: Backend = Sandbox(
        root, settings=settings, read_only=True if read_only and (root / DB_FILE).is_file() else None
    )
    return sandbox


def probe_cluster(name: str, backend: Backend, timeout: float) -> Reach:
    """One bounded request: the API server's version, or a read of the sandbox's database."""
    t0 = time.monotonic()
    inner = getattr(backend, "inner", backend)
    try:
        version = getattr(inner, "version", None)
        if version is not None:
            answer = f"Kubernetes {version(timeout)}"
        else:
            inner.get(ObjectRef("v1", "Namespace", "", "default"))
            answer = "sandbox"
    except PyvelaError as exc:
        return Reach(name, False, exc.message, time.monotonic() - t0)
    return Reach(name, True, answer, time.monotonic() - t0)


def describe(info: ClusterInfo) -> dict[str, Any]:
    """A JSON-friendly form of ``info`` (what ``pyvela clusters -o json`` prints): no credentials."""
    return {
        "name": info.name,
        "kind": info.kind,
        "labels": dict(info.labels),
        "location": info.location,
        "declared": info.declared,
    }


def probe_many(probe: Callable[[str, float], Reach], names: list[str], timeout: float) -> tuple[Reach, ...]:
    """``probe`` of each cluster at once; one that has not answered by ``timeout`` is unreachable."""
    results: dict[str, Reach] = {}

    def run(name: str) -> None:
        results[name] = probe(name, timeout)

    # Daemon threads: a hung exec credential plugin must not keep the process alive.
    threads = [threading.Thread(target=run, args=(n,), daemon=True, name=f"probe {n}") for n in names]
    for thread in threads:
        thread.start()
    # The requests are bounded by ``timeout``; this is for what is not (exec credential
    # plugins, a loaded machine importing the client), so it is generous.
    deadline = time.monotonic() + 2 * timeout + 2.0
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return tuple(results.get(n) or Reach(n, False, f"no answer within {timeout:g}s", timeout) for n in names)
