"""The optional capabilities (``MergePatch``; ``PodIO``'s errors) hold the same semantics on
the sandbox and on the real API server: an operator's patch of an object or of its status,
and what a missing Pod or object says."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.patching import merge_patcher
from pyvela._backends.podio import pod_io
from pyvela._core.objects import ObjectRef
from pyvela.errors import NotFoundError

BACKENDS = ["sandbox", pytest.param("kube", marks=pytest.mark.e2e)]


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    if request.param == "sandbox":
        from pyvela._backends.sandbox import Sandbox, SandboxSettings

        backend: Any = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.2))
    else:
        from pyvela._backends.kube.backend import KubeBackend

        cluster = request.getfixturevalue("kube_cluster")
        backend = KubeBackend.connect(kubeconfig=cluster.kubeconfig, context=cluster.context)
    namespace = f"caps-{uuid.uuid4().hex[:8]}"
    backend.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        yield backend, namespace
    finally:
        backend.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)
        backend.close()


def test_a_merge_patch_changes_only_what_it_names(target: tuple[Any, str]) -> None:
    backend, namespace = target
    backend.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": namespace, "labels": {"keep": "1", "drop": "1"}},
            "data": {"a": "1", "b": "2"},
        }
    )
    ref = ObjectRef("v1", "ConfigMap", namespace, "c")
    patched = merge_patcher(backend).merge_patch(
        ref, {"metadata": {"labels": {"drop": None}}, "data": {"b": "3"}}
    )
    assert patched["data"] == {"a": "1", "b": "3"}
    assert patched["metadata"]["labels"] == {"keep": "1"}
    assert backend.get(ref)["data"] == {"a": "1", "b": "3"}


def test_a_spec_patch_bumps_the_generation_and_a_kind_without_status_has_no_status_patch(
    target: tuple[Any, str],
) -> None:
    backend, namespace = target
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": namespace},
        "spec": {
            "suspend": True,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
            },
        },
    }
    backend.apply(job)
    ref = ObjectRef("batch/v1", "Job", namespace, "j")
    patcher = merge_patcher(backend)
    before = backend.get(ref)["metadata"]["generation"]
    after = patcher.merge_patch(ref, {"spec": {"suspend": False}})
    assert after["spec"]["suspend"] is False and after["metadata"]["generation"] == before + 1
    backend.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": namespace}}
    )
    with pytest.raises(NotFoundError):  # the plugin then patches the object itself
        patcher.merge_patch(ObjectRef("v1", "ConfigMap", namespace, "c"), {"status": {"x": "1"}}, status=True)


def test_missing_objects_and_pods_are_not_found(target: tuple[Any, str]) -> None:
    backend, namespace = target
    with pytest.raises(NotFoundError):
        merge_patcher(backend).merge_patch(
            ObjectRef("v1", "ConfigMap", namespace, "nope"), {"data": {"a": "1"}}
        )
    with pytest.raises(NotFoundError):
        list(pod_io(backend).pod_logs(namespace, "nope", "c"))
