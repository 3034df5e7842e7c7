"""What the controller writes in status, the backoff, drift's subset test, and what of an
owned object's change wakes its app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pyvela._controller.drift import differs
from pyvela._controller.login import kubeconfig_credentials
from pyvela._controller.operator import essence
from pyvela._controller.source import kubevela_document, load_resource, module_file
from pyvela._controller.status import BACKOFF_CAP, app_status, backoff, failed_status
from pyvela.errors import AppLoadError, ClusterError

STATUS: dict[str, Any] = {
    "app": "web",
    "namespace": "ns",
    "revision": 3,
    "hash": "abc",
    "phase": "succeeded",
    "message": "",
    "steps": {"web": {"phase": "succeeded", "message": "", "logs": ["x"], "outputs": {"ip": "1"}}},
    "objects": [
        {
            "object": {"kind": "Deployment", "namespace": "ns", "name": "web"},
            "component": "web",
            "ready": True,
            "message": "Ready:1/1",
            "live": {},
        },
        {
            "object": {"kind": "Service", "namespace": "ns", "name": "web"},
            "component": "web",
            "ready": False,
            "message": "missing",
            "live": None,
        },
    ],
}


def test_status_mirrors_pyvela_status() -> None:
    out = app_status(STATUS)
    assert out["phase"] == "succeeded" and out["revision"] == 3 and out["hash"] == "abc"
    assert out["ready"] == "1/2"
    assert out["steps"] == {"web": {"phase": "succeeded"}}  # logs and outputs stay in the record
    assert out["objects"][1] == {
        "object": "Service/ns/web",
        "component": "web",
        "ready": False,
        "message": "missing",
    }


def test_status_lists_at_most_100_objects_but_counts_all() -> None:
    many = {**STATUS, "objects": [STATUS["objects"][0]] * 250}
    out = app_status(many)
    assert out["ready"] == "250/250" and len(out["objects"]) == 100


def test_backoff_doubles_and_is_capped_at_5_minutes() -> None:
    assert [backoff(n) for n in range(6)] == [0, 5, 10, 20, 40, 80]
    assert backoff(7) == 300 == BACKOFF_CAP and backoff(10_000) == 300
    assert failed_status("boom", 2) == {"phase": "error", "message": "boom (retry in 10s)", "failures": 2}


@given(st.integers(min_value=1, max_value=10_000))
def test_backoff_never_shrinks_and_never_passes_the_cap(n: int) -> None:
    assert backoff(n) <= backoff(n + 1) <= BACKOFF_CAP


def test_drift_is_what_the_manifest_says_and_live_lacks() -> None:
    want = {
        "metadata": {"name": "a", "labels": {"x": "1"}},
        "spec": {"containers": [{"image": "a:1", "name": "c"}]},
    }
    live = {
        "metadata": {"name": "a", "labels": {"x": "1", "extra": "y"}, "resourceVersion": "9"},
        "spec": {"containers": [{"image": "a:1", "name": "c", "terminationMessagePath": "/dev/x"}]},
        "status": {"ready": True},
    }
    assert differs(want, live) is None  # server defaults and status are not drift
    edited = yaml.safe_load(yaml.safe_dump(live))
    edited["spec"]["containers"][0]["image"] = "a:2"
    assert differs(want, edited) == ".spec.containers[0].image"
    assert differs({"spec": {"replicas": 2}}, {"spec": {"replicas": 2.0}}) is None
    assert differs({"spec": {"ports": [1, 2]}}, {"spec": {"ports": [1]}}) == ".spec.ports"


def test_an_owned_objects_status_change_is_not_a_change() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "a", "resourceVersion": "1", "generation": 1},
        "spec": {"replicas": 1},
    }
    moved = {**obj, "metadata": {**obj["metadata"], "resourceVersion": "2"}, "status": {"readyReplicas": 1}}
    assert essence(obj) == essence(moved)
    assert essence(obj) != essence({**obj, "spec": {"replicas": 3}})


def test_a_resource_becomes_the_kubevela_application_the_loader_reads(tmp_path: Path) -> None:
    body = {
        "apiVersion": "pyvela.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "team", "uid": "u"},
        "spec": {"components": [{"name": "web", "type": "webservice", "properties": {"image": "nginx:1"}}]},
        "status": {"phase": "x"},
    }
    doc = kubevela_document(body)
    assert doc["apiVersion"] == "core.oam.dev/v1beta1" and doc["metadata"] == {
        "name": "web",
        "namespace": "team",
    }
    loaded = load_resource(body, tmp_path)
    assert loaded.app.name == "web" and loaded.app.namespace == "team"
    assert [c.name for c in loaded.app.components] == ["web"]
    again = load_resource(body, tmp_path)
    assert again.revision == loaded.revision  # the same spec: the same revision, a no-op deploy


def test_a_module_resource_loads_the_module(tmp_path: Path) -> None:
    loaded = load_resource(
        {"metadata": {"name": "x", "namespace": "n"}, "spec": {"module": "apps.lixiang"}}, tmp_path
    )
    assert loaded.app.name == "lixiang-app"
    with pytest.raises(AppLoadError, match="cannot be imported"):
        module_file("no_such_module_here")


def test_kubeconfig_credentials(tmp_path: Path) -> None:
    config = {
        "current-context": "a",
        "contexts": [
            {"name": "a", "context": {"cluster": "c", "user": "u"}},
            {"name": "b", "context": {"cluster": "c", "user": "v", "namespace": "n"}},
        ],
        "clusters": [
            {"name": "c", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": "ca.crt"}}
        ],
        "users": [
            {"name": "u", "user": {"token": "t0k"}},
            {"name": "v", "user": {"client-key-data": "a2V5"}},
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    a = kubeconfig_credentials(str(path))
    assert a["server"] == "https://127.0.0.1:6443" and a["token"] == "t0k"
    assert a["ca_path"] == str(tmp_path / "ca.crt")
    b = kubeconfig_credentials(str(path), "b")
    assert b["private_key_data"] == "a2V5" and b["default_namespace"] == "n"
    with pytest.raises(ClusterError, match="no context 'zz'"):
        kubeconfig_credentials(str(path), "zz")
