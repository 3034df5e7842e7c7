"""Smoke test of the e2e control plane: real controllers, kwok nodes, Argo Rollouts, helm.

Nothing here dials a pod or Service IP (they are fake); all traffic goes to
the API server and the chart repository on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chartrepo import CHARTS_DIR, ChartRepo

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def wait_for(what: str, fn: Callable[[], T | None], timeout: float = 120.0, interval: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            val = fn()
            if val:
                return val
            last = val
        except Exception as e:  # keep polling, report the last error
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def api(kube_cluster: Any) -> Iterator[Any]:
    client = kube_cluster.api_client()
    yield client
    client.close()


@pytest.fixture
def namespace(kube_cluster: Any, api: Any) -> Iterator[str]:
    from kubernetes import client

    core = client.CoreV1Api(api)
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    # pods are rejected until the service-account controller made `default`
    wait_for("default service account", lambda: core.read_namespaced_service_account("default", name))
    yield name
    kube_cluster.check()
    core.delete_namespace(name)


def _labels(app: str) -> dict[str, str]:
    return {"app": app}


def _pod_template(app: str, image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "metadata": {"labels": _labels(app)},
        "spec": {"containers": [{"name": app, "image": image, "ports": [{"containerPort": 80}]}]},
    }


def test_version_is_real(kube_cluster: Any, api: Any) -> None:
    from kubernetes import client

    info = client.VersionApi(api).get_code()
    assert info.git_version.startswith("v1."), info
    assert int(info.minor.rstrip("+")) >= 30, info
    if kube_cluster.control_plane is not None:
        assert info.git_version == kube_cluster.control_plane.versions["kubernetes"]
    nodes = client.CoreV1Api(api).list_node().items
    for n in nodes:
        assert any(c.type == "Ready" and c.status == "True" for c in n.status.conditions), n.metadata.name
    assert nodes


def test_deployment_becomes_available(api: Any, namespace: str) -> None:
    from kubernetes import client

    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": _labels("web")},
                "template": _pod_template("web"),
            },
        },
    )

    def available() -> Any:
        d = apps.read_namespaced_deployment("web", namespace)
        conds = {c.type: c.status for c in (d.status.conditions or [])}
        return d if d.status.available_replicas == 2 and conds.get("Available") == "True" else None

    d = wait_for("deployment web Available", available)
    assert d.status.ready_replicas == 2
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 2
    for p in pods:
        assert p.spec.node_name and p.spec.node_name.startswith("kwok-node-")  # real scheduler
        assert p.status.phase == "Running"  # kwok
        assert p.metadata.owner_references[0].kind == "ReplicaSet"  # real deployment controller


def test_service_gets_cluster_ip_and_endpoints(api: Any, namespace: str) -> None:
    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "svc-backend"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": _labels("svc-backend")},
                "template": _pod_template("svc-backend"),
            },
        },
    )
    svc = core.create_namespaced_service(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc-backend"},
            "spec": {"selector": _labels("svc-backend"), "ports": [{"port": 80, "targetPort": 80}]},
        },
    )
    ip = ipaddress.ip_address(svc.spec.cluster_ip)
    assert ip in ipaddress.ip_network("10.96.0.0/16")  # the real allocator, never dialled
    discovery = client.DiscoveryV1Api(api)

    def endpoints() -> int:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=svc-backend"
        ).items
        return sum(1 for s in slices for e in (s.endpoints or []) if e.conditions.ready)

    assert wait_for("2 ready endpoints", lambda: endpoints() == 2 or None)


def _rollout(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "canary"},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": _labels("canary")},
            "template": _pod_template("canary", image),
            "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "1s"}}]}},
        },
    }


def test_rollout_becomes_healthy(api: Any, namespace: str) -> None:
    from kubernetes import client

    co = client.CustomObjectsApi(api)
    args = ("argoproj.io", "v1alpha1", namespace, "rollouts", "canary")
    co.create_namespaced_custom_object(*args[:4], _rollout("nginx:1.27"))

    def healthy(generation: int = 1) -> Any:
        r = co.get_namespaced_custom_object(*args)
        st = r.get("status", {})
        gen = r["metadata"]["generation"]
        observed = str(st.get("observedGeneration")) == str(gen)
        ok = st.get("phase") == "Healthy" and observed and gen >= generation
        return r if ok else None

    r = wait_for("rollout Healthy", healthy)
    assert r["status"]["availableReplicas"] == 2
    # a canary update goes through the steps and ends Healthy on the new image
    first_hash = r["status"]["currentPodHash"]
    co.patch_namespaced_custom_object(
        *args, {"spec": {"template": {"spec": {"containers": [{"name": "canary", "image": "nginx:1.28"}]}}}}
    )
    r = wait_for("rollout Healthy after update", lambda: healthy(2), timeout=180)
    assert r["status"]["currentPodHash"] != first_hash
    assert r["status"]["stableRS"] == r["status"]["currentPodHash"]
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=canary").items
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    assert {p.spec.containers[0].image for p in live} == {"nginx:1.28"}


def test_helm_install_from_loopback_repo(kube_cluster: Any, api: Any, namespace: str, tmp_path: Path) -> None:
    from kubernetes import client

    assert kube_cluster.helm, "no helm binary (scripts/testcluster build, or helm on PATH)"
    env = kube_cluster.helm_env(tmp_path / "helm")

    def helm(*a: str, timeout: float = 300) -> str:
        proc = subprocess.run(
            [kube_cluster.helm, *a], env=env, capture_output=True, text=True, timeout=timeout
        )
        assert proc.returncode == 0, f"helm {' '.join(a)}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    with ChartRepo(kube_cluster.helm, [CHARTS_DIR / "redis-cluster"]) as repo:
        assert repo.url.startswith("http://127.0.0.1:")
        helm("repo", "add", "pyvela-test", repo.url)
        helm("repo", "update")
        found = json.loads(helm("search", "repo", "pyvela-test/redis-cluster", "--output", "json"))
        assert [(c["name"], c["version"]) for c in found] == [("pyvela-test/redis-cluster", "6.2.7")]
        helm(
            "install",
            "cache",
            "pyvela-test/redis-cluster",
            "--version",
            "6.2.7",
            "--namespace",
            namespace,
            "--wait",
            "--timeout",
            "180s",
        )

    status = json.loads(helm("status", "cache", "--namespace", namespace, "--output", "json"))
    assert status["info"]["status"] == "deployed"
    releases = json.loads(helm("list", "--namespace", namespace, "--output", "json"))
    assert [(r["name"], r["chart"], r["status"]) for r in releases] == [
        ("cache", "redis-cluster-6.2.7", "deployed")
    ]
    sts = client.AppsV1Api(api).read_namespaced_stateful_set("cache-redis-cluster", namespace)
    assert sts.status.ready_replicas == 3 == sts.spec.replicas
    svc = client.CoreV1Api(api).read_namespaced_service("cache-redis-cluster", namespace)
    assert ipaddress.ip_address(svc.spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/16")
    helm("uninstall", "cache", "--namespace", namespace, "--wait")
