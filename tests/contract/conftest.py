"""The shared Backend contract: every test here runs against each backend in ``BACKENDS``.

- ``sandbox``: the embedded sandbox, fresh per test;
- ``kube``: the Kubernetes backend on the session's control plane (``kube_cluster``,
  tests/kube_cluster.py; marked ``e2e``; skipped when the control plane is not built,
  failed under CI). tests/e2e shares the same cluster;
- ``sandbox:named`` and ``kube:member``: a named sandbox, and the second cluster of
  ``two_clusters`` (tests/kube_members.py), each reached through a ClusterSet by name.

The tests isolate themselves in a fresh namespace each, so they suit a shared cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvela._backends.protocol import Backend
from pyvela._core.objects import ObjectRef

BACKENDS = [
    "sandbox",
    pytest.param("kube", marks=pytest.mark.e2e),
    # Reached by name through a ClusterSet (its backends name the cluster in their errors),
    # as a multi-cluster run reaches them: a named sandbox, and the second API server.
    "sandbox:named",
    pytest.param("kube:member", marks=pytest.mark.e2e),
    # The control target as a multi-cluster run holds it (a Fleet with the other clusters
    # behind it): every call goes to the control backend and must keep its semantics.
    "sandbox:fleet",
    pytest.param("kube:fleet", marks=pytest.mark.e2e),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sandbox":
        from pyvela._backends.sandbox import Sandbox, SandboxSettings

        sandbox = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.2))
        try:
            yield sandbox
        finally:
            sandbox.close()
    elif request.param == "kube":
        from pyvela._backends.kube.backend import KubeBackend

        cluster = request.getfixturevalue("kube_cluster")
        kube = KubeBackend.connect(kubeconfig=cluster.kubeconfig, context=cluster.context)
        try:
            yield kube
        finally:
            kube.close()
    elif request.param in ("sandbox:named", "kube:member"):
        from pyvela._backends.clusters import ClusterSet

        if request.param == "kube:member":
            two = request.getfixturevalue("two_clusters")
            clusters = ClusterSet.discover(kubeconfig=two.kubeconfig, context=two.primary)
            name = two.member
        else:
            (tmp_path / "clusters.yaml").write_text("clusters:\n  sandbox:named: {}\n")
            (tmp_path / "root").mkdir()
            (tmp_path / "root" / "sandbox.yaml").write_text("ready_delay: 0.2\n")
            clusters = ClusterSet.discover(sandbox=tmp_path / "root", cluster_file=tmp_path / "clusters.yaml")
            name = "sandbox:named"
        try:
            yield clusters.backend(name)
        finally:
            clusters.close()
    elif request.param in ("sandbox:fleet", "kube:fleet"):
        from pyvela._backends.clusters import ClusterSet
        from pyvela._backends.fleet import Fleet

        if request.param == "kube:fleet":
            two = request.getfixturevalue("two_clusters")
            clusters = ClusterSet.discover(kubeconfig=two.kubeconfig, context=two.primary)
        else:
            (tmp_path / "clusters.yaml").write_text("clusters:\n  sandbox:other: {}\n")
            (tmp_path / "root").mkdir()
            (tmp_path / "root" / "sandbox.yaml").write_text("ready_delay: 0.2\n")
            clusters = ClusterSet.discover(sandbox=tmp_path / "root", cluster_file=tmp_path / "clusters.yaml")
        fleet = Fleet(clusters.backend("local"), clusters)
        try:
            yield fleet
        finally:
            fleet.close()
    else:  # pragma: no cover - no other backend yet
        raise AssertionError(f"unknown backend {request.param}")


@pytest.fixture
def namespace(backend: Backend) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"contract-{uuid.uuid4().hex[:8]}"
    backend.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    backend.delete(ObjectRef("v1", "Namespace", "", name), wait=False)
