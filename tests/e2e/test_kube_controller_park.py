"""`pyvela controller` on the real control plane: a reconcile does not wait for readiness.

A module app POSTs to a local server (a journaled side effect), then waits for a ConfigMap
the test creates later, then deploys a webservice. The controller's reconcile returns while
the ConfigMap is missing: the Application says ``waiting`` (the step and what it waits for)
and several reconciles (requeues) pass without repeating the POST. Once the ConfigMap
exists, its watch event resumes the run; the deploy step parks on its Deployment, whose
status events resume it, and the app ends ``succeeded`` with the POST made once, and the
state record has one Event for the start and one for the end, none per park."""

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
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, ObjectRef
from tests.post_counter import counting_server

kube = support.kube  # fixture

CRD_REF = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", CRD_NAME)
APP = """
from pyvela import Application
from pyvela.stdlib import Port, deploy, webservice
from tests.sample_defs import post_then_wait

app = Application(
    "parkapp",
    components=[webservice("parkweb", image="nginx:1.14.2", ports=(Port(port=80, expose=True),))],
    workflow=[post_then_wait("post", url="{url}", then_wait="go"), deploy("deploy").after("post")],
)
"""


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n{log.read_text()[-4000:]}"
    )


@pytest.fixture
def posts() -> Iterator[tuple[list[str], str]]:
    got: list[str] = []
    with counting_server(got) as url:
        yield got, url


@pytest.fixture
def controller(kube_cluster: Any, kube: KubeBackend, tmp_path: Path) -> Iterator[dict[str, Any]]:
    kube.apply(crd())
    log = tmp_path / "controller.log"
    wait_for("the CRD to be established", lambda: _established(kube), 60, log)
    namespace = support.new_namespace(kube, "ctlpark")
    mods = tmp_path / "mods"
    mods.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYVELA_APOLLO_", "KUBECONFIG"))}
    env["PYTHONPATH"] = f"{ROOT}:{mods}"
    argv = [sys.executable, "-m", "pyvela", "controller", "--kubeconfig", kube_cluster.kubeconfig]
    argv += ["--context", kube_cluster.context, "--namespace", namespace, "--resync", "300s"]
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
        yield {"namespace": namespace, "url": found.group(1), "log": log, "mods": mods}
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
        if line.startswith("pyvela_reconcile_duration_seconds_count"):
            return float(line.rpartition(" ")[2])
    return 0.0


def test_a_reconcile_returns_before_readiness_and_the_app_succeeds(
    controller: dict[str, Any], kube: KubeBackend, posts: tuple[list[str], str]
) -> None:
    namespace, url, log, mods = (
        controller["namespace"],
        controller["url"],
        controller["log"],
        controller["mods"],
    )
    got, hook = posts
    (mods / "ctl_park_app.py").write_text(APP.format(url=hook))
    ref = ObjectRef(API_VERSION, KIND, namespace, "parked")
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "parked", "namespace": namespace},
            "spec": {"module": "ctl_park_app", "defs": ["platform_defs", "tests.sample_defs"]},
        }
    )

    def status() -> dict[str, Any]:
        return dict((kube.get(ref) or {}).get("status") or {})

    def waiting() -> Any:
        st = status()
        return st if st.get("phase") == "waiting" else None

    # The reconcile returned (its status is written after it) while the ConfigMap is missing.
    st = wait_for("the app to say it waits", waiting, 120, log)
    assert st["steps"]["post"]["phase"] == "waiting", st
    assert f"waiting for ConfigMap {namespace}/go" in st["steps"]["post"]["message"]
    assert kube.get(ObjectRef("v1", "ConfigMap", namespace, "go")) is None
    assert kube.get(ObjectRef("apps/v1", "Deployment", namespace, "parkweb")) is None  # after the wait
    # Requeued (5 s, then 10 s) without a change: the step runs again, the POST is not repeated.
    first = _reconciles(url)
    wait_for("two more reconciles", lambda: _reconciles(url) >= first + 2, 60, log)
    assert waiting() is not None
    assert len(got) == 1, got

    # The ConfigMap's watch event (it carries the app's label) resumes the run.
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "go",
                "namespace": namespace,
                "labels": {LABEL_APP: "parkapp", LABEL_MANAGED_BY: MANAGER},
            },
        }
    )

    def succeeded() -> Any:
        st = status()
        return st if st.get("phase") == "succeeded" and st.get("ready") == "2/2" else None

    done = wait_for("the app to succeed", succeeded, 180, log)
    assert done["revision"] == 1 and done["steps"]["deploy"]["phase"] == "succeeded"
    assert len(got) == 1, got  # the journaled POST, made once across every park
    # The deploy step parked on its Deployment too, and its status changes resumed it.
    text = log.read_text()
    assert re.search(r"step-finished deploy: waiting for Deployment", text), text[-3000:]
    state = "pyvela-app.parkapp"
    reasons = sorted(
        str(e.get("reason"))
        for e in kube.list("v1", "Event", namespace)
        if (e.get("involvedObject") or {}).get("name") == state
    )
    assert reasons == ["RevisionStarted", "RevisionSucceeded"], reasons
