"""Two real clusters for multi-cluster tests (a pytest plugin loaded by tests/conftest.py).

``kube_clusters`` (session scope) starts a second Kubernetes cluster beside ``kube_cluster``
(tests/cluster/member.py: its own kube-apiserver, controller manager, scheduler and kwok
node): on the primary's etcd under its own key prefix when this session started the primary,
else (``PYVELA_TEST_KUBECONFIG``: the primary is shared, not ours) with an etcd of its own.
It writes one kubeconfig holding both contexts.

``two_clusters`` (per test) is the same, with the member's API server running again if a
previous test stopped it. ``clusters.member_down()`` stops it for the ``with`` block::

    def test_x(two_clusters):
        kubeconfig, a, b = two_clusters.kubeconfig, two_clusters.primary, two_clusters.member
        with two_clusters.member_down():
            ...  # b refuses connections
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kube_cluster import CLUSTER_DIR, KubeCluster, _load

MEMBER_CONTEXT = "pyvela-test-2"


def load_member() -> Any:
    return _load("pyvela_testcluster_member", CLUSTER_DIR / "member.py")


@dataclass(frozen=True)
class TwoClusters:
    """Both clusters. ``kubeconfig`` holds the contexts ``primary`` and ``member``."""

    kubeconfig: str
    primary: str
    member: str
    first: KubeCluster
    member_cluster: Any  # member.MemberCluster

    @property
    def tokens(self) -> tuple[str, ...]:
        """Both clusters' bearer tokens (what no output may hold)."""
        import yaml

        cfg = yaml.safe_load(Path(self.kubeconfig).read_text())
        return tuple(str(u["user"]["token"]) for u in cfg["users"] if u.get("user", {}).get("token"))

    @contextlib.contextmanager
    def member_down(self) -> Iterator[None]:
        """The member's API server stopped inside the block, started (and ready) after it."""
        self.member_cluster.stop_apiserver()
        try:
            yield
        finally:
            self.member_cluster.start_apiserver()

    def ensure_up(self) -> None:
        if not self.member_cluster.apiserver_running:
            self.member_cluster.start_apiserver()
        self.member_cluster.check_alive()


@pytest.fixture(scope="session")
def kube_clusters(kube_cluster: KubeCluster) -> Iterator[TwoClusters]:
    member = load_member()
    etcd = ""
    if kube_cluster.control_plane is not None:
        etcd = f"http://127.0.0.1:{kube_cluster.control_plane.ports['etcd']}"
    cp = member.MemberCluster.from_cache(
        context=MEMBER_CONTEXT,
        etcd_url=etcd,
        keep_workdir=bool(os.environ.get("PYVELA_TEST_KEEP_CLUSTER")),
    )
    out = Path(tempfile.mkdtemp(prefix="pyvela-two-clusters-")) / "kubeconfig"
    cp.start()
    try:
        member.merge_kubeconfigs(out, [kube_cluster.kubeconfig, cp.kubeconfig])
        yield TwoClusters(
            kubeconfig=str(out),
            primary=kube_cluster.context,
            member=MEMBER_CONTEXT,
            first=kube_cluster,
            member_cluster=cp,
        )
    finally:
        cp.stop()
        with contextlib.suppress(OSError):
            os.unlink(out)
            os.rmdir(out.parent)


@pytest.fixture
def two_clusters(kube_clusters: TwoClusters) -> TwoClusters:
    kube_clusters.ensure_up()
    return kube_clusters
