"""Backend semantics every backend must share (the runner relies on nothing else)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from pyvela._backends import readiness as rules
from pyvela._backends.protocol import Backend, Readiness
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import (
    AlreadyExistsError,
    ClusterError,
    ConflictError,
    NotFoundError,
    NotReadyError,
    StepTimeout,
    UnknownKindError,
    WorkflowError,
)


def config_map(ns: str, name: str = "cfg", data: dict[str, str] | None = None, **meta: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, **meta},
        "data": data if data is not None else {"a": "1"},
    }


def deployment(ns: str, name: str = "web", replicas: int = 1, image: str = "nginx:1.27", **meta: Any) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, **meta},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def service(ns: str, name: str = "web", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}], **spec},
    }


def rv(obj: Obj) -> int:
    return int(obj["metadata"]["resourceVersion"])


def never_ready(obj: Obj | None) -> Readiness:
    return Readiness(False, "never" if obj is None else "exists but never ready")


# ----------------------------------------------------------------------------- apply / get
def test_apply_then_get(backend: Backend, namespace: str) -> None:
    applied = backend.apply(config_map(namespace))
    meta = applied["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["namespace"] == namespace
    live = backend.get(ObjectRef.of(applied))
    assert live is not None and live["data"] == {"a": "1"} and live["metadata"]["uid"] == meta["uid"]


def test_get_missing_is_none(backend: Backend, namespace: str) -> None:
    assert backend.get(ObjectRef("v1", "ConfigMap", namespace, "nothing")) is None


def test_generation_counts_spec_changes_only(backend: Backend, namespace: str) -> None:
    first = backend.apply(deployment(namespace))
    assert first["metadata"]["generation"] == 1
    relabelled = backend.apply(deployment(namespace, labels={"team": "a"}))
    assert relabelled["metadata"]["generation"] == 1 and relabelled["metadata"]["labels"] == {"team": "a"}
    scaled = backend.apply(deployment(namespace, replicas=2, labels={"team": "a"}))
    assert scaled["metadata"]["generation"] == 2
    assert scaled["metadata"]["uid"] == first["metadata"]["uid"]
    assert rv(first) < rv(relabelled) < rv(scaled)


def test_identical_apply_keeps_resource_version(backend: Backend, namespace: str) -> None:
    first = backend.apply(config_map(namespace))
    assert (
        backend.apply(config_map(namespace))["metadata"]["resourceVersion"]
        == first["metadata"]["resourceVersion"]
    )


def test_status_is_ignored(backend: Backend, namespace: str) -> None:
    applied = backend.apply({**config_map(namespace), "status": {"bogus": True}})
    assert "bogus" not in (applied.get("status") or {})
    deploy = backend.apply({**deployment(namespace), "status": {"readyReplicas": 42}})
    assert (deploy.get("status") or {}).get("readyReplicas") != 42


def test_dry_run_stores_nothing(backend: Backend, namespace: str) -> None:
    preview = backend.apply(config_map(namespace, "dry"), dry_run=True)
    assert preview["data"] == {"a": "1"}
    assert backend.get(ObjectRef.of(preview)) is None


def test_secret_string_data_becomes_data(backend: Backend, namespace: str) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": namespace},
        "stringData": {"token": "abc"},
    }
    backend.apply(secret)
    live = backend.get(ObjectRef("v1", "Secret", namespace, "s"))
    assert live is not None and live["data"] == {"token": "YWJj"} and "stringData" not in live


# ----------------------------------------------------------------------------- errors
def test_unknown_kind(backend: Backend, namespace: str) -> None:
    with pytest.raises(UnknownKindError):
        backend.apply(
            {
                "apiVersion": "nope.example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w", "namespace": namespace},
            }
        )


def test_missing_namespace(backend: Backend, namespace: str) -> None:
    with pytest.raises(NotFoundError):
        backend.apply(config_map(namespace + "-missing"))


def test_create_replace_conflicts(backend: Backend, namespace: str) -> None:
    created = backend.create(config_map(namespace))
    with pytest.raises(AlreadyExistsError):
        backend.create(config_map(namespace))
    replaced = backend.replace({**created, "data": {"a": "2"}})
    assert replaced["data"] == {"a": "2"} and rv(replaced) > rv(created)
    with pytest.raises(ConflictError):
        backend.replace({**created, "data": {"a": "3"}})
    with pytest.raises(NotFoundError):
        backend.replace(config_map(namespace, "absent"))


# ----------------------------------------------------------------------------- delete / list
def test_delete(backend: Backend, namespace: str) -> None:
    ref = ObjectRef.of(backend.apply(config_map(namespace)))
    assert backend.delete(ref, wait=True) is True
    assert backend.get(ref) is None
    assert backend.delete(ref) is False


def test_list_by_labels(backend: Backend, namespace: str) -> None:
    backend.apply(config_map(namespace, "one", labels={"app": "x"}))
    backend.apply(config_map(namespace, "two", labels={"app": "y"}))
    backend.apply(config_map(namespace, "three", labels={"app": "x", "tier": "db"}))
    found = backend.list("v1", "ConfigMap", namespace, {"app": "x"})
    assert sorted(o["metadata"]["name"] for o in found) == ["one", "three"]
    everywhere = backend.list("v1", "ConfigMap", None, {"app": "x", "tier": "db"})
    assert [o["metadata"]["name"] for o in everywhere if o["metadata"]["namespace"] == namespace] == ["three"]


# ----------------------------------------------------------------------------- Services
def test_cluster_ip_is_allocated_and_kept(backend: Backend, namespace: str) -> None:
    first = backend.apply(service(namespace))
    ip = first["spec"]["clusterIP"]
    assert ip and ip != "None"
    second = backend.apply(service(namespace, ports=[{"port": 81, "targetPort": 8080}]))
    assert second["spec"]["clusterIP"] == ip
    other = backend.apply(service(namespace, "other"))
    assert other["spec"]["clusterIP"] != ip
    with pytest.raises(ClusterError):
        backend.apply(service(namespace, clusterIP=other["spec"]["clusterIP"]))


# ----------------------------------------------------------------------------- wait
def test_wait_for_a_deployment(backend: Backend, namespace: str) -> None:
    ref = ObjectRef.of(backend.apply(deployment(namespace, replicas=2)))
    messages: list[str] = []
    live = backend.wait(ref, rules.deployment, timeout=120, on_progress=lambda r: messages.append(r.message))
    assert rules.deployment(live).ready
    assert messages and messages[-1] == "2/2 replicas ready"
    assert all(a != b for a, b in itertools.pairwise(messages))  # reported on change only


def test_wait_timeout(backend: Backend, namespace: str) -> None:
    ref = ObjectRef.of(backend.apply(config_map(namespace)))
    with pytest.raises(StepTimeout) as caught:
        backend.wait(ref, never_ready, timeout=0.3)
    assert "exists but never ready" in str(caught.value)


def test_wait_fails_fast(backend: Backend, namespace: str) -> None:
    ref = ObjectRef.of(backend.apply(config_map(namespace)))

    def broken(obj: Obj | None) -> Readiness:
        return Readiness(False, "broken for good", failed=obj is not None)

    with pytest.raises(NotReadyError, match="broken for good"):
        backend.wait(ref, broken, timeout=60)


def test_wait_cancel(backend: Backend, namespace: str) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(WorkflowError):
        backend.wait(ObjectRef("v1", "ConfigMap", namespace, "never"), never_ready, timeout=60, cancel=cancel)


def test_wait_for_an_object_that_appears(backend: Backend, namespace: str) -> None:
    ref = ObjectRef("v1", "ConfigMap", namespace, "later")
    timer = threading.Timer(0.2, lambda: backend.apply(config_map(namespace, "later")))
    timer.start()
    try:
        live = backend.wait(ref, rules.generic, timeout=60)
    finally:
        timer.join()
    assert live["metadata"]["name"] == "later"
