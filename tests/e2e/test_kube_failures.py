"""The Kubernetes backend when things go wrong, on the real control plane.

An unowned object in the way, kinds the cluster does not serve (and a CRD applied moments
ago), a Deployment that never becomes ready, step timeouts, watches that expire, charts
that cannot be fetched, helm missing, bad credentials; and the request budget per object.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import APP_ID, Seed, connect

from pyvela._backends import readiness as rules
from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, MANAGER, Obj, ObjectRef
from pyvela.errors import ClusterError, NotReadyError, StepTimeout, UnknownKindError

seed, kube, namespace = support.seed, support.kube, support.namespace  # fixtures


def deployment(ns: str, name: str = "web", **spec: Any) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
            **spec,
        },
    }


def helm_release(ns: str, repo_url: str, version: str = "6.2.7", name: str = "cache") -> Obj:
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "releaseName": name,
            "values": {"replicas": 1},
            "chart": {"name": "redis-cluster", "version": version, "repoURL": repo_url},
        },
    }


# ----------------------------------------------------------------------------- ownership
def test_unowned_object_in_the_way_is_not_taken_over(seed: Seed, kube: KubeBackend, namespace: str) -> None:
    code, theirs = kube.call(
        "POST",
        f"/apis/apps/v1/namespaces/{namespace}/deployments",
        query=[("fieldManager", "kubectl-create")],
        body=deployment(namespace, "base-service"),
        what="theirs",
    )
    assert code == 201, theirs
    code, out, err = seed.cli("deploy", seed.write_app(namespace))
    assert code == 1 and out is not None, err
    assert out["phase"] == "failed"
    step = out["steps"]["apply-base-service"]
    assert step["phase"] == "failed"
    assert "already exists and is not owned by app 'lixiang-app'" in step["message"], step
    live = kube.get(ObjectRef.of(theirs))
    assert live is not None
    assert live["metadata"]["generation"] == 1 and live["spec"] == theirs["spec"]  # untouched
    assert "app.oam.dev/name" not in (live["metadata"].get("labels") or {})
    assert MANAGER not in {m.get("manager") for m in live["metadata"].get("managedFields") or []}
    assert kube.get(ObjectRef("v1", "Service", namespace, "base-service")) is None
    assert APP_ID not in seed.apollo.items(APP_ID).get("base-service.namespace", "")


# ----------------------------------------------------------------------------- kinds
def test_kind_the_cluster_does_not_serve(kube: KubeBackend, namespace: str) -> None:
    meta = {"name": "c", "namespace": namespace}
    canary = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Canary", "metadata": meta}
    with pytest.raises(UnknownKindError) as caught:
        kube.apply(canary)
    message = str(caught.value)
    assert (
        f'no kind "Canary" in argoproj.io/v1alpha1 on {kube.description}: is Argo Rollouts installed?'
        in message
    )
    assert "Rollout" in message  # what the group does serve
    widget = {"apiVersion": "nowhere.example.com/v1", "kind": "Widget", "metadata": meta}
    with pytest.raises(UnknownKindError, match="is its CustomResourceDefinition installed"):
        kube.apply(widget)
    with pytest.raises(UnknownKindError):
        kube.get(ObjectRef.of(widget))


WIDGET_DEFS = """
import attrs
from pyvela import ComponentContext, Obj, WorkloadType, component

API, KIND = "{group}/v1", "Widget"


@attrs.frozen(kw_only=True)
class WidgetParams:
    size: int = 1


@component(name="widget", params=WidgetParams, workload=WorkloadType(api_version=API, kind=KIND))
def widget(p: WidgetParams, ctx: ComponentContext) -> Obj:
    return {{"apiVersion": API, "kind": KIND, "metadata": {{"name": ctx.name}},
            "spec": {{"size": p.size}}}}
"""
WIDGET_APP = """
from e2e_widget_defs import widget
from pyvela import Application

app = Application("widgets", namespace="{namespace}", components=[widget("w", size=2)])
"""


def widget_crd(group: str) -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


def test_deploy_of_a_kind_without_its_crd(
    seed: Seed, kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    group = f"g{uuid.uuid4().hex[:8]}.e2e.pyvela.dev"
    (tmp_path / "e2e_widget_defs.py").write_text(WIDGET_DEFS.format(group=group))
    app = tmp_path / "widgets.py"
    app.write_text(WIDGET_APP.format(namespace=namespace))
    seed.env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{support.ROOT}"
    try:
        code, out, err = seed.cli("deploy", app, "--defs", "e2e_widget_defs")
        assert code == 1 and out is not None, err
        messages = " ".join(str(step.get("message")) for step in out["steps"].values())
        expected = f'no kind "Widget" in {group}/v1 on {kube.description}: is its CustomResourceDefinition'
        assert expected + " installed?" in messages, out
        crd = ObjectRef.of(kube.apply(widget_crd(group)))
        try:
            kube.wait(crd, rules.crd, timeout=30)
            code, out, err = seed.cli("deploy", app, "--defs", "e2e_widget_defs")  # resumes the revision
            assert code == 0, err
            widget = kube.get(ObjectRef(f"{group}/v1", "Widget", namespace, "w"))
            assert widget is not None and widget["spec"] == {"size": 2}
        finally:
            kube.delete(crd, wait=False)
    finally:
        seed.env["PYTHONPATH"] = str(support.ROOT)


def test_crd_applied_moments_ago_is_found(kube: KubeBackend, namespace: str) -> None:
    group = f"g{uuid.uuid4().hex[:8]}.e2e.pyvela.dev"
    meta = {"name": "w", "namespace": namespace}
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": meta, "spec": {"size": 3}}
    with pytest.raises(UnknownKindError):
        kube.apply(widget)  # the miss is cached...
    crd = widget_crd(group)
    ref = ObjectRef.of(kube.apply(crd))
    try:
        kube.wait(ref, rules.crd, timeout=30)
        applied = kube.apply(widget)  # ...and re-read once the kind is established
        assert applied["spec"] == {"size": 3} and applied["metadata"]["generation"] == 1
        assert [w["metadata"]["name"] for w in kube.list(f"{group}/v1", "Widget", namespace)] == ["w"]
    finally:
        kube.delete(ref, wait=False)


# ----------------------------------------------------------------------------- readiness
def test_deployment_that_never_becomes_ready_fails_fast(kube: KubeBackend, namespace: str) -> None:
    # No node matches: the pod stays Pending, the real deployment controller reports
    # ProgressDeadlineExceeded after 2 s, and the wait fails without waiting for its timeout.
    stuck = deployment(namespace, "stuck", progressDeadlineSeconds=2)
    stuck["spec"]["template"]["spec"]["nodeSelector"] = {"pyvela.dev/no-such-node": "true"}
    ref = ObjectRef.of(kube.apply(stuck))
    messages: list[str] = []
    started = time.monotonic()
    with pytest.raises(NotReadyError, match="progress deadline exceeded") as caught:
        kube.wait(ref, rules.deployment, timeout=120, on_progress=lambda r: messages.append(r.message))
    assert time.monotonic() - started < 60
    assert caught.value.context["object"] == str(ref)
    assert any("0/1 replicas ready" in m for m in messages)


def test_step_timeout_reports_the_last_message(kube: KubeBackend, namespace: str) -> None:
    stuck = deployment(namespace, "pending")
    stuck["spec"]["template"]["spec"]["nodeSelector"] = {"pyvela.dev/no-such-node": "true"}
    ref = ObjectRef.of(kube.apply(stuck))
    started = time.monotonic()
    with pytest.raises(StepTimeout) as caught:
        kube.wait(ref, rules.deployment, timeout=1.5)
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 3.0
    assert "0/1 replicas ready" in str(caught.value)
    assert caught.value.context["last_message"].startswith("0/1 replicas ready")


def test_wait_relists_when_the_watch_has_expired(kube: KubeBackend, namespace: str) -> None:
    meta = {"name": "c", "namespace": namespace}
    applied = kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}})
    ref = ObjectRef.of(applied)
    stale = {**applied, "metadata": {**applied["metadata"], "resourceVersion": "1"}, "data": {}}
    kube._remember(stale)  # an ancient version: watching from it answers 410 Gone

    def has_data(obj: Obj | None) -> Any:
        return rules.Readiness(bool(obj and obj.get("data")), "waiting for data")

    live = kube.wait(ref, has_data, timeout=30)
    assert live["data"] == {"a": "1"}


def test_requests_per_applied_object(kube: KubeBackend, namespace: str) -> None:
    obj = deployment(namespace, "counted", replicas=2)
    ref = ObjectRef.of(obj)
    kube.requests.clear()
    kube.get(ref)  # the runner reads before it applies (ownership check)
    kube.apply(obj)
    assert dict(kube.requests) == {"GET": 1, "PATCH": 1}
    kube.requests.clear()
    kube.wait(ref, rules.deployment, timeout=60)
    # One watch of the object; a workload still unready after a few seconds (a slow machine)
    # also gets its Pods listed and watched once, for their reasons.
    pods = kube.requests["GET"]
    assert set(kube.requests) <= {"WATCH", "GET"} and pods <= 1, dict(kube.requests)
    assert kube.requests["WATCH"] <= 1 + pods, dict(kube.requests)


# ----------------------------------------------------------------------------- helm
def test_chart_that_cannot_be_fetched(
    seed: Seed, kube: KubeBackend, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in seed.env.items():
        if key.startswith(("HELM_", "PYVELA_HELM")):
            monkeypatch.setenv(key, value)
    with pytest.raises(ClusterError, match="cannot fetch the chart") as caught:
        kube.apply(helm_release(namespace, "http://127.0.0.1:9/charts"))
    assert "127.0.0.1:9" in str(caught.value)  # helm's own words
    with pytest.raises(ClusterError, match="cannot fetch the chart"):
        kube.apply(helm_release(namespace, seed.repo.url, version="0.0.1"))
    assert kube.get(ObjectRef(HELM_API_VERSION, HELM_KIND, namespace, "cache")) is None


def test_helm_missing(kube_cluster: Any, namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_HELM", "/nonexistent/helm")
    with connect(kube_cluster) as fresh, pytest.raises(ClusterError, match="helm not found"):
        fresh.apply(helm_release(namespace, "http://127.0.0.1:9"))
    monkeypatch.delenv("PYVELA_HELM")
    monkeypatch.setenv("PATH", "/nonexistent")
    with connect(kube_cluster) as fresh, pytest.raises(ClusterError, match="install helm or set PYVELA_HELM"):
        fresh.apply(helm_release(namespace, "http://127.0.0.1:9"))


# ----------------------------------------------------------------------------- credentials
def test_credentials_never_show(kube_cluster: Any, tmp_path: Path) -> None:
    import yaml

    config = yaml.safe_load(Path(kube_cluster.kubeconfig).read_text())
    token = config["users"][0]["user"]["token"]
    backend = connect(kube_cluster)
    assert token not in backend.description and token not in repr(vars(backend))
    backend.close()
    config["users"][0]["user"]["token"] = wrong = "not-the-token-" + uuid.uuid4().hex
    bad = tmp_path / "kubeconfig"
    bad.write_text(yaml.safe_dump(config))
    with (
        KubeBackend.connect(kubeconfig=str(bad), context=kube_cluster.context) as backend,
        pytest.raises(ClusterError, match="unauthorized") as caught,
    ):
        backend.get(ObjectRef("v1", "ConfigMap", "default", "x"))
    text = str(caught.value) + repr(caught.value.to_dict())
    assert wrong not in text and token not in text
