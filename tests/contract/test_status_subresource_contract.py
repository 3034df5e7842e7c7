"""A custom resource whose CRD declares ``subresources.status``, on the sandbox and on the real
API server: a write of the main resource leaves the status alone (a create drops it, an
update or patch keeps the stored one); a write of ``/status`` changes the status only (spec,
labels, annotations and the generation stay); without the subresource ``/status`` is a 404."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.patching import merge_patcher
from pyvela._core.objects import ObjectRef
from pyvela.errors import NotFoundError

BACKENDS = ["sandbox", pytest.param("kube", marks=pytest.mark.e2e)]
CRD = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "")


def _crd(group: str, plural: str, kind: str, status: bool) -> dict[str, Any]:
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    version: dict[str, Any] = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {
            "openAPIV3Schema": {"type": "object", "properties": {"spec": open_object, "status": open_object}}
        },
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": kind, "listKind": f"{kind}List"},
            "versions": [version],
        },
    }


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    if request.param == "sandbox":
        from pyvela._backends.sandbox import Sandbox, SandboxSettings

        backend: Any = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.2))
    else:
        from pyvela._backends.kube.backend import KubeBackend

        cluster = request.getfixturevalue("kube_cluster")
        backend = KubeBackend.connect(kubeconfig=cluster.kubeconfig, context=cluster.context)
    suffix = uuid.uuid4().hex[:8]
    group, namespace = f"s{suffix}.pyvela.test", f"subres-{suffix}"
    crds = [_crd(group, "widgets", "Widget", True), _crd(group, "gadgets", "Gadget", False)]
    backend.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for crd in crds:
        backend.apply(crd)
    try:
        for crd in crds:  # served once established (a moment on a real API server)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                live = backend.get(ObjectRef(CRD.api_version, CRD.kind, "", crd["metadata"]["name"])) or {}
                conditions = (live.get("status") or {}).get("conditions") or []
                if request.param == "sandbox" or any(
                    c.get("type") == "Established" and c.get("status") == "True" for c in conditions
                ):
                    break
                time.sleep(0.5)
        time.sleep(0.5 if request.param != "sandbox" else 0)  # discovery catches up
        yield backend, namespace, group
    finally:
        backend.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)
        for crd in crds:
            backend.delete(ObjectRef(CRD.api_version, CRD.kind, "", crd["metadata"]["name"]), wait=False)
        backend.close()


def _widget(group: str, namespace: str, kind: str = "Widget", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": "w", "namespace": namespace, "labels": {"a": "1"}},
        "spec": {"size": 1},
        **({"status": status} if status else {}),
    }


def test_the_status_subresource_of_a_custom_resource(target: tuple[Any, str, str]) -> None:
    backend, namespace, group = target
    ref = ObjectRef(f"{group}/v1", "Widget", namespace, "w")
    patcher = merge_patcher(backend)
    created = backend.create(_widget(group, namespace, phase="made-up"))
    assert "status" not in created and "status" not in backend.get(ref)  # a create drops it
    generation = created["metadata"]["generation"]

    # /status: the status changes; spec, labels, annotations asked for beside it do not.
    asked = {
        "status": {"phase": "ready", "count": 2},
        "spec": {"size": 9},
        "metadata": {"labels": {"a": "2", "b": "3"}, "annotations": {"x": "y"}},
    }
    answer = patcher.merge_patch(ref, asked, status=True)
    assert answer["status"] == {"phase": "ready", "count": 2}
    live = backend.get(ref)
    assert live["status"] == {"phase": "ready", "count": 2}
    assert live["spec"] == {"size": 1} and live["metadata"]["labels"] == {"a": "1"}
    assert "x" not in (live["metadata"].get("annotations") or {})
    assert live["metadata"]["generation"] == generation
    assert live["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    removed = patcher.merge_patch(ref, {"status": {"count": None}}, status=True)
    assert removed["status"] == {"phase": "ready"}

    # The main resource: its status is the stored one, whatever a write says.
    patched = patcher.merge_patch(ref, {"spec": {"size": 2}, "status": {"phase": "lost"}})
    assert patched["spec"] == {"size": 2} and patched["status"] == {"phase": "ready"}
    assert patched["metadata"]["generation"] == generation + 1
    replaced = backend.replace(
        {**_widget(group, namespace, phase="lost"), "metadata": dict(backend.get(ref)["metadata"])}
    )
    assert replaced["status"] == {"phase": "ready"} and replaced["spec"] == {"size": 1}
    backend.apply(_widget(group, namespace, phase="lost"))
    assert backend.get(ref)["status"] == {"phase": "ready"}


def test_without_the_subresource_status_is_a_404(target: tuple[Any, str, str]) -> None:
    backend, namespace, group = target
    backend.create(_widget(group, namespace, kind="Gadget"))
    with pytest.raises(NotFoundError):
        merge_patcher(backend).merge_patch(
            ObjectRef(f"{group}/v1", "Gadget", namespace, "w"), {"status": {"phase": "x"}}, status=True
        )
