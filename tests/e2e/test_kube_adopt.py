"""Adopting a KubeVela app on the real API server: KubeVela's ResourceTracker CRD (from its Go
module), objects created under another field manager as KubeVela's controller creates them,
then ``adopt`` and a deploy that changes one object in place and prunes another."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from kubevela_world import app_module, config_map, deployment, kubevela_crd, managed, tracker

from pyvela._backends.kube.backend import KubeBackend
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from pyvela._workflow.adopt import TRACKER_API, TRACKER_KIND

kube, namespace = support.kube, support.namespace  # fixtures
FIELD_MANAGER = "kubevela"  # what KubeVela's controller writes with: not pyvela


@pytest.fixture
def trackers(kube: KubeBackend, namespace: str) -> Iterator[list[str]]:
    crd = kubevela_crd("core.oam.dev_resourcetrackers.yaml")
    kube.apply(crd)
    deadline = time.monotonic() + 60
    while True:  # the kind is served once the CRD is Established
        live = kube.get(ObjectRef.of(crd)) or {}
        conds = (live.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
            break
        assert time.monotonic() < deadline, "the ResourceTracker CRD never became Established"
        time.sleep(0.2)
    names: list[str] = []
    yield names
    for name in names:  # cluster-scoped and finalized: clean up what this test made
        ref = ObjectRef(TRACKER_API, TRACKER_KIND, "", name)
        live = kube.get(ref)
        if live is not None:
            live["metadata"]["finalizers"] = []
            kube.replace(live)
            kube.delete(ref)


def _create_as_kubevela(cluster: Any, obj: dict[str, Any]) -> None:
    from kubernetes import client

    api = cluster.api_client()
    try:
        ns = obj["metadata"]["namespace"]
        if obj["kind"] == "Deployment":
            client.AppsV1Api(api).create_namespaced_deployment(ns, obj, field_manager=FIELD_MANAGER)
        else:
            client.CoreV1Api(api).create_namespaced_config_map(ns, obj, field_manager=FIELD_MANAGER)
    finally:
        api.close()


def test_adopt_then_deploy_changes_in_place_and_prunes(
    kube_cluster: Any, kube: KubeBackend, namespace: str, trackers: list[str], tmp_path: Path
) -> None:
    app = "kvshop"
    web = deployment(app, namespace, "web", "nginx:1.25")
    cfg = config_map(app, namespace, "web-cfg", "web")
    old = config_map(app, namespace, "old-cfg", "web")
    for obj in (web, cfg, old):
        _create_as_kubevela(kube_cluster, obj)
    resources = [managed(web, "web"), managed(cfg, "web"), managed(old, "web")]
    for rt in (
        tracker(app, namespace, "root", []),
        tracker(app, namespace, "versioned", resources, gzipped=True),
    ):
        kube.create(rt)
        trackers.append(rt["metadata"]["name"])
    web_ref = ObjectRef("apps/v1", "Deployment", namespace, "web")
    uid = kube.get(web_ref)["metadata"]["uid"]  # type: ignore[index]
    target = ["--kubeconfig", kube_cluster.kubeconfig, "--context", kube_cluster.context, "-n", namespace]

    assert main(["adopt", app, "--from-kubevela", "--dry-run", *target]) == 0
    assert "app.kubernetes.io/managed-by" not in kube.get(web_ref)["metadata"]["labels"]  # type: ignore[index]
    assert main(["adopt", app, "--from-kubevela", *target]) == 0
    assert kube.get(web_ref)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "pyvela"  # type: ignore[index]

    path = tmp_path / "kvshop.py"
    path.write_text(app_module(app, namespace, "nginx:1.27"))
    # The image is a field KubeVela's manager owns: the first deploy after adopt takes it over.
    assert main(["deploy", str(path), "--defs", "pyvela.stdlib", *target[:4]]) == 0
    live = kube.get(web_ref)
    assert live is not None and live["metadata"]["uid"] == uid
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert kube.get(ObjectRef("v1", "ConfigMap", namespace, "old-cfg")) is None
    assert kube.get(ObjectRef("v1", "ConfigMap", namespace, "web-cfg")) is not None
