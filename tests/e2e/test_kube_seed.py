"""The seed app (apps/lixiang.py) on a real control plane, through the real CLI.

Deploy (Deployment Available through the real controllers, Service ClusterIP from the
real allocator, the registration written to the loopback Apollo and read back, the Redis
chart installed by helm from the loopback repository and ready, the Rollout Healthy
through the real Argo Rollouts controller with ``BackendIP`` = the Service's ClusterIP),
re-deploy as a no-op, an update (new image, Redis removed and pruned), rollback, delete.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import APP_ID, Promoter, Seed

from pyvela._backends.kube.backend import KubeBackend
from pyvela._backends.readiness import rule_for
from pyvela._core.objects import ObjectRef

seed, kube, namespace = support.seed, support.kube, support.namespace  # fixtures

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/16")


def refs(ns: str) -> dict[str, ObjectRef]:
    return {
        "deployment": ObjectRef("apps/v1", "Deployment", ns, "base-service"),
        "base-svc": ObjectRef("v1", "Service", ns, "base-service"),
        "base-ing": ObjectRef("networking.k8s.io/v1", "Ingress", ns, "base-service-ingress"),
        "redis": ObjectRef("pyvela.dev/v1alpha1", "HelmRelease", ns, "redis"),
        "rollout": ObjectRef("argoproj.io/v1alpha1", "Rollout", ns, "proxy-service"),
        "proxy-svc": ObjectRef("v1", "Service", ns, "proxy-service"),
        "proxy-ing": ObjectRef("networking.k8s.io/v1", "Ingress", ns, "proxy-service-ingress"),
    }


def container_env(rollout: dict[str, Any]) -> dict[str, str]:
    (container,) = rollout["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container.get("env") or []}


def ready(backend: KubeBackend, ref: ObjectRef) -> dict[str, Any]:
    live = backend.get(ref)
    assert live is not None, f"{ref} is missing"
    verdict = rule_for(ref.api_version, ref.kind)(live)
    assert verdict.ready, f"{ref}: {verdict.message}"
    return live


def helm_releases(env: Seed, ns: str) -> list[tuple[str, str]]:
    return [(r["name"], r["status"]) for r in json.loads(env.helm("list", "-n", ns, "-o", "json"))]


def test_seed_app_lifecycle(seed: Seed, kube: KubeBackend, namespace: str) -> None:
    objects = refs(namespace)
    app = seed.write_app(namespace)

    # ---------------------------------------------------------------- first deploy
    code, out, err = seed.cli("deploy", app)
    assert code == 0 and out is not None, err
    assert (out["ok"], out["phase"], out["revision"]) == (True, "succeeded", 1), out
    assert out["target"].startswith(f"cluster {seed.cluster.server} (context {seed.cluster.context})")

    deployment = ready(kube, objects["deployment"])
    conditions = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}
    assert conditions["Available"] == "True"
    assert deployment["status"]["availableReplicas"] == deployment["spec"]["replicas"] == 2
    pods = kube.list("v1", "Pod", namespace)
    assert sum(p["metadata"]["name"].startswith("base-service-") for p in pods) == 2
    assert all(p["spec"].get("nodeName", "").startswith("kwok-node-") for p in pods)  # the real scheduler

    cluster_ip = kube.get(objects["base-svc"])["spec"]["clusterIP"]  # type: ignore[index]
    assert ipaddress.ip_address(cluster_ip) in SERVICE_CIDR  # the real allocator (never dialled)

    items = seed.apollo.items(APP_ID)
    assert items["base-service.clusterIP"] == cluster_ip
    assert items["base-service.namespace"] == namespace
    assert seed.apollo.releases(APP_ID), "the registration was not published"

    rollout = ready(kube, objects["rollout"])
    assert rollout["status"]["phase"] == "Healthy"
    env = container_env(rollout)
    assert env["BackendIP"] == cluster_ip
    assert env["BACKEND_HOST"] == items["base-service.host"] == "base-service.dev.example.com"  # read back

    status = json.loads(seed.helm("status", "redis", "-n", namespace, "-o", "json"))
    assert status["info"]["status"] == "deployed"
    listed = json.loads(seed.helm("list", "-n", namespace, "-o", "json"))
    assert [(r["name"], r["chart"], r["status"]) for r in listed] == [
        ("redis", "redis-cluster-6.2.7", "deployed")
    ]
    sts = ready(kube, ObjectRef("apps/v1", "StatefulSet", namespace, "redis-redis-cluster"))
    assert sts["status"]["readyReplicas"] == 3
    release = ready(kube, objects["redis"])
    assert release["metadata"]["labels"]["app.oam.dev/name"] == APP_ID
    assert release["status"]["observedGeneration"] == release["metadata"]["generation"] == 1

    code, state, err = seed.cli("status", app)
    assert code == 0, err
    assert {(o["object"]["kind"], o["object"]["name"]) for o in state["objects"]} == {
        (r.kind, r.name) for r in objects.values()
    }
    assert all(o["ready"] for o in state["objects"]), state["objects"]

    # ---------------------------------------------------------------- unchanged: a no-op
    versions = {k: kube.get(r)["metadata"]["resourceVersion"] for k, r in objects.items()}  # type: ignore[index]
    code, out, err = seed.cli("deploy", app)
    assert code == 0, err
    assert (out["upToDate"], out["revision"]) == (True, 1)
    assert {k: kube.get(r)["metadata"]["resourceVersion"] for k, r in objects.items()} == versions  # type: ignore[index]
    assert len(json.loads(seed.helm("history", "redis", "-n", namespace, "-o", "json"))) == 1

    # ---------------------------------------------------------------- update: image, Redis removed
    update = seed.write_app(
        namespace, proxy_image="nginx:1.15.0", with_redis=False, name=f"{namespace}-v2.py"
    )
    with Promoter(kube, namespace) as promoter:
        code, out, err = seed.cli("deploy", update)
    assert code == 0, err
    assert (out["revision"], out["phase"]) == (2, "succeeded"), out
    assert f"HelmRelease {namespace}/redis" in out["pruned"]
    assert promoter.promotions >= 1, "the canary should have paused on its step"
    rollout = ready(kube, objects["rollout"])
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.15.0"
    assert rollout["status"]["stableRS"] == rollout["status"]["currentPodHash"]
    assert container_env(rollout)["BackendIP"] == cluster_ip
    assert kube.get(objects["redis"]) is None and helm_releases(seed, namespace) == []
    assert kube.get(ObjectRef("apps/v1", "StatefulSet", namespace, "redis-redis-cluster")) is None

    # ---------------------------------------------------------------- rollback to revision 1
    with Promoter(kube, namespace):
        code, out, err = seed.cli("rollback", update, "1")
    assert code == 0, err
    assert (out["revision"], out["phase"]) == (3, "succeeded"), out
    rollout = ready(kube, objects["rollout"])
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
    ready(kube, objects["redis"])
    assert helm_releases(seed, namespace) == [("redis", "deployed")]
    code, history, err = seed.cli("history", update)
    assert [(h["number"], h["kind"], h["phase"]) for h in history] == [
        (1, "deploy", "succeeded"),
        (2, "deploy", "succeeded"),
        (3, "rollback", "succeeded"),
    ]

    # ---------------------------------------------------------------- delete
    code, out, err = seed.cli("delete", update)
    assert code == 0 and out["phase"] == "deleted", err
    for ref in objects.values():
        assert kube.get(ref) is None, f"{ref} survived the delete"
    assert helm_releases(seed, namespace) == []
    assert kube.get(ObjectRef("v1", "Secret", namespace, f"pyvela-app.{APP_ID}")) is None
    assert kube.get(ObjectRef("coordination.k8s.io/v1", "Lease", namespace, f"pyvela-lock.{APP_ID}")) is None
