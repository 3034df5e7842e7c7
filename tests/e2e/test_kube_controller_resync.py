"""`pyvela controller` on the real control plane: a no-change resync writes nothing, nor
does the first reconcile after a restart, which reads the record's index alone.

One Application of three webservices is created and becomes ready; then, over several
resyncs (``--resync 3s``), the controller makes no write request: its own request counter
(``pyvela_api_requests_total``, every request of its deploys, statuses and Events) shows no
POST/PUT/PATCH/DELETE, and no object of the namespace it could have written (the
Application, its state record and parts, its Lease, Deployments, Services, ConfigMaps, the
Events on the Application and the record) has a new resourceVersion, which also covers
kopf's own requests. The API server's ``apiserver_request_total`` is not used: it has no
user label, and other tests write to the same server at the same time."""

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
KINDS = (
    (API_VERSION, KIND),
    ("v1", "Secret"),
    ("coordination.k8s.io/v1", "Lease"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
)
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")


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


@pytest.fixture
def controller(kube_cluster: Any, kube: KubeBackend, tmp_path: Path) -> Iterator[dict[str, Any]]:
    kube.apply(crd())
    log = tmp_path / "controller.log"
    wait_for("the CRD to be established", lambda: _established(kube), 60, log)
    namespace = support.new_namespace(kube, "ctlsync")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYVELA_APOLLO_", "KUBECONFIG"))}
    env["PYTHONPATH"] = str(ROOT)
    argv = [sys.executable, "-m", "pyvela", "controller", "--kubeconfig", kube_cluster.kubeconfig]
    argv += ["--context", kube_cluster.context, "--namespace", namespace, "--resync", "3s"]
    argv += ["--debounce", "1s", "--bind", "127.0.0.1:0"]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    running: dict[str, Any] = {"namespace": namespace, "log": log, "proc": proc, "argv": argv, "env": env}
    try:
        found = wait_for(
            "the metrics address",
            lambda: re.search(r"metrics on (http://\S+)/metrics", log.read_text()),
            60,
            log,
        )
        running["url"] = found.group(1)
        yield running
    finally:
        _stop(running["proc"])  # the test may have restarted it
        for app in kube.list(API_VERSION, KIND, namespace):  # the controller is gone: drop its finalizer
            ref = ObjectRef(API_VERSION, KIND, namespace, app["metadata"]["name"])
            kube.merge_patch(ref, {"metadata": {"finalizers": None}})
        kube.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _established(kube: KubeBackend) -> bool:
    live = kube.get(CRD_REF) or {}
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (live.get("status") or {}).get("conditions") or []
    )


def _metrics(url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(("pyvela_api_requests_total{", "pyvela_reconcile_duration_seconds_count")):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _writes(metrics: dict[str, float]) -> dict[str, float]:
    return {
        k: v
        for k, v in metrics.items()
        if k.startswith("pyvela_api_requests_total{") and re.search(r'verb="(POST|PUT|PATCH|DELETE)"', k)
    }


def _versions(kube: KubeBackend, namespace: str) -> dict[str, str]:
    out = {}
    for api, kind in KINDS:
        for obj in kube.list(api, kind, namespace):
            out[f"{kind}/{obj['metadata']['name']}"] = str(obj["metadata"]["resourceVersion"])
    for event in kube.list("v1", "Event", namespace):
        if (event.get("involvedObject") or {}).get("kind") in (KIND, "Secret"):
            out[f"Event/{event['metadata']['name']}"] = str(event["metadata"]["resourceVersion"])
    return out


def test_a_no_change_resync_makes_no_write_request(controller: dict[str, Any], kube: KubeBackend) -> None:
    namespace, url, log = controller["namespace"], controller["url"], controller["log"]
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "quiet", "namespace": namespace},
            "spec": {
                "components": [
                    {
                        "name": f"quiet-{part}",
                        "type": "webservice",
                        "properties": {"image": "nginx:1.14.2", "ports": [{"port": 80, "expose": True}]},
                    }
                    for part in ("web", "api", "worker")
                ]
            },
        }
    )
    ref = ObjectRef(API_VERSION, KIND, namespace, "quiet")

    def ready() -> Any:
        status = (kube.get(ref) or {}).get("status") or {}
        return status if status.get("phase") == "succeeded" and status.get("ready") == "6/6" else None

    wait_for("the app to be ready", ready, 240, log)
    count = "pyvela_reconcile_duration_seconds_count"

    def reconciled(after: float, more: int) -> Callable[[], bool]:
        return lambda: _metrics(url).get(count, 0.0) >= after + more

    # Settle: the watch events of the creation (and a status written once more) are behind us.
    wait_for("two more reconciles", reconciled(_metrics(url).get(count, 0.0), 2), 60, log)
    before, versions = _metrics(url), _versions(kube, namespace)
    assert before.get(count, 0.0) >= 2 and any(k.startswith("pyvela_api_requests_total{") for k in before)
    wait_for("three no-change resyncs", reconciled(before.get(count, 0.0), 3), 60, log)
    after = _metrics(url)
    assert _writes(after) == _writes(before), "the controller wrote during a no-change resync"
    assert _versions(kube, namespace) == versions  # nothing the app owns changed, nor the resource
    gets = sum(v for k, v in after.items() if 'verb="GET"' in k) - sum(
        v for k, v in before.items() if 'verb="GET"' in k
    )
    resyncs = after[count] - before[count]
    assert gets <= 2 * resyncs  # the record's index (its parts are kept; objects come from the watch)

    # A restart: every app's first reconcile has nothing in memory but what the watches
    # listed. It reads the record's index alone (its parts come from the Secret watch) and
    # writes nothing.
    _stop(controller["proc"])
    log2 = log.with_name("controller-2.log")
    with log2.open("w") as out:
        controller["proc"] = subprocess.Popen(
            controller["argv"], env=controller["env"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    found = wait_for(
        "the restarted controller's metrics",
        lambda: re.search(r"metrics on (http://\S+)/metrics", log2.read_text()),
        60,
        log2,
    )
    url2 = found.group(1)
    wait_for("its first reconciles", lambda: _metrics(url2).get(count, 0.0) >= 2, 90, log2)
    cold = _metrics(url2)
    assert not _writes(cold), f"the restarted controller wrote: {_writes(cold)}"
    secrets = sum(v for k, v in cold.items() if 'verb="GET"' in k and 'resource="secrets"' in k)
    assert 1 <= secrets <= cold[count], cold  # the index, once per reconcile: no part read
    assert _versions(kube, namespace) == versions
