"""`pyvela controller` (a process) on the real control plane with the apply-once policy, as
KubeVela v1.10's controller treats it:

- enabled without rules: no state is kept. An owned Deployment's edited image is not
  reverted, a deleted Service is not recreated (KubeVela's state keep returns at once), and
  neither is a DriftCorrected Event; the next revision (a spec change) creates the Service
  again and writes the Deployment the app now renders differently;
- with a rule keeping a path (the Deployment's image): the edit of that path stays, without a
  write or an Event; a deleted object is recreated (KubeVela's state keep applies the recorded
  manifest when the object is not found), with an Event.

Each "not reverted" is judged after several resyncs (``--resync 3s``) have passed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import ROOT

from pyvela._backends.kube.backend import KubeBackend
from pyvela._controller.crd import API_VERSION, CRD_NAME, KIND, crd
from pyvela._core.objects import ObjectRef

kube = support.kube  # fixture

CRD_REF = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", CRD_NAME)
COUNT = "pyvela_reconcile_duration_seconds_count"


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(1.0)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n{log.read_text()[-4000:]}"
    )


@pytest.fixture(scope="module")
def controller(
    kube_cluster: Any, kube: KubeBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    kube.apply(crd())
    log = tmp_path_factory.mktemp("applyonce") / "controller.log"
    log.write_text("")
    wait_for("the CRD to be established", lambda: _established(kube), 60, log)
    namespace = support.new_namespace(kube, "ctlonce")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYVELA_APOLLO_", "KUBECONFIG"))}
    env["PYTHONPATH"] = str(ROOT)
    argv = [sys.executable, "-m", "pyvela", "controller", "--kubeconfig", kube_cluster.kubeconfig]
    argv += ["--context", kube_cluster.context, "--namespace", namespace, "--resync", "3s"]
    argv += ["--debounce", "1s", "--bind", "127.0.0.1:0"]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        found = wait_for(
            "the metrics address",
            lambda: re.search(r"metrics on (http://\S+)/metrics", log.read_text()),
            60,
            log,
        )
        yield {"namespace": namespace, "log": log, "url": found.group(1)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for app in kube.list(API_VERSION, KIND, namespace):  # the controller is gone: drop its finalizer
            ref = ObjectRef(API_VERSION, KIND, namespace, app["metadata"]["name"])
            kube.merge_patch(ref, {"metadata": {"finalizers": None}})
        kube.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)


def _established(kube: KubeBackend) -> bool:
    live = kube.get(CRD_REF) or {}
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (live.get("status") or {}).get("conditions") or []
    )


def _reconciles(url: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(COUNT):
            return float(line.rpartition(" ")[2])
    return 0.0


def _writes(url: str, resource: str) -> float:
    """The controller's write requests to ``resource`` so far (its own request counter)."""
    total = 0.0
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if (
            line.startswith("pyvela_api_requests_total{")
            and f'resource="{resource}"' in line
            and re.search(r'verb="(POST|PUT|PATCH|DELETE)"', line)
        ):
            total += float(line.rpartition(" ")[2])
    return total


def _resyncs_pass(controller: dict[str, Any], n: int = 3) -> None:
    """Wait until ``n`` more reconciles have run (of either app: each resync reconciles both)."""
    start = _reconciles(controller["url"])
    wait_for(
        f"{n} more reconciles", lambda: _reconciles(controller["url"]) >= start + 2 * n, 90, controller["log"]
    )


def _app(name: str, image: str, policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name},
        "spec": {
            "components": [
                {
                    "name": name,
                    "type": "webservice",
                    "properties": {"image": image, "ports": [{"port": 80, "expose": True}]},
                }
            ],
            "policies": [{"name": "once", "type": "apply-once", "properties": policy}],
        },
    }


def _succeeded(kube: KubeBackend, ref: ObjectRef, revision: int) -> Callable[[], Any]:
    def check() -> Any:
        status = (kube.get(ref) or {}).get("status") or {}
        ok = status.get("phase") == "succeeded" and status.get("revision") == revision
        return status if ok and status.get("ready") == "2/2" else None

    return check


def _events(kube: KubeBackend, namespace: str, name: str) -> list[str]:
    return [
        str(e.get("message"))
        for e in kube.list("v1", "Event", namespace)
        if e.get("reason") == "DriftCorrected"
        and (e.get("involvedObject") or {}).get("kind") == KIND
        and (e.get("involvedObject") or {}).get("name") == name
    ]


def _image(kube: KubeBackend, ref: ObjectRef) -> str:
    live = kube.get(ref)
    assert live is not None, ref
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])


def _edit_image(kube: KubeBackend, ref: ObjectRef, image: str) -> None:
    """Someone else sets the image (a merge patch of the whole container list, the rest kept)."""
    live = kube.get(ref)
    assert live is not None, ref
    containers = live["spec"]["template"]["spec"]["containers"]
    containers[0]["image"] = image
    kube.merge_patch(ref, {"spec": {"template": {"spec": {"containers": containers}}}})


def _start(kube: KubeBackend, controller: dict[str, Any], app: dict[str, Any]) -> ObjectRef:
    ns = controller["namespace"]
    app["metadata"]["namespace"] = ns
    kube.create(app)
    ref = ObjectRef(API_VERSION, KIND, ns, app["metadata"]["name"])
    wait_for(f"{ref} to be ready", _succeeded(kube, ref, 1), 240, controller["log"])
    return ref


def test_apply_once_without_rules_keeps_no_state_until_the_next_revision(
    controller: dict[str, Any], kube: KubeBackend
) -> None:
    ns, log, name = controller["namespace"], controller["log"], "whole"
    ref = _start(kube, controller, _app(name, "nginx:1.14.2", {"enable": True}))
    deployment = ObjectRef("apps/v1", "Deployment", ns, name)
    service = ObjectRef("v1", "Service", ns, name)

    _edit_image(kube, deployment, "nginx:9.9")
    _resyncs_pass(controller)
    assert _image(kube, deployment) == "nginx:9.9"
    kube.delete(service, wait=True)
    _resyncs_pass(controller)
    assert kube.get(service) is None, "apply-once without rules recreated a deleted object"
    assert _image(kube, deployment) == "nginx:9.9"
    assert _events(kube, ns, name) == []
    assert f"{service} drifted at missing: not recreated (apply-once)" in log.read_text()
    assert ((kube.get(ref) or {}).get("status") or {}).get("revision") == 1

    # The next revision's deploy: the Service created again, the Deployment written as rendered.
    kube.merge_patch(ref, {"spec": _app(name, "nginx:1.15.0", {"enable": True})["spec"]})
    wait_for("revision 2", _succeeded(kube, ref, 2), 240, log)
    assert kube.get(service) is not None
    assert _image(kube, deployment) == "nginx:1.15.0"
    assert _events(kube, ns, name) == []


def test_apply_once_rules_keep_their_path_and_recreate_a_deleted_object(
    controller: dict[str, Any], kube: KubeBackend
) -> None:
    ns, log, name = controller["namespace"], controller["log"], "paths"
    rule = {
        "selector": {"resourceTypes": ["Deployment"]},
        "strategy": {"path": ["spec.template.spec.containers[0].image"]},
    }
    _start(kube, controller, _app(name, "nginx:1.14.2", {"enable": True, "rules": [rule]}))
    deployment = ObjectRef("apps/v1", "Deployment", ns, name)
    service = ObjectRef("v1", "Service", ns, name)

    _edit_image(kube, deployment, "nginx:9.9")
    _resyncs_pass(controller, 1)  # the edit's watch event handled
    writes = _writes(controller["url"], "deployments")
    _resyncs_pass(controller)
    assert _image(kube, deployment) == "nginx:9.9"
    assert _writes(controller["url"], "deployments") == writes  # left without a write
    assert _events(kube, ns, name) == []

    kube.delete(service, wait=True)
    wait_for("the deleted Service to be recreated", lambda: kube.get(service), 90, log)
    wait_for("its DriftCorrected Event", lambda: _events(kube, ns, name), 60, log)
    assert _events(kube, ns, name) == [f"{service} created (missing drifted)"]
    assert _image(kube, deployment) == "nginx:9.9"
