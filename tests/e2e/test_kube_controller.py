"""`pyvela controller` as a process on the real control plane: applications.pyvela.dev
resources created (the seed as KubeVela YAML, and a Python module app), updated, drifted
(an owned object edited, another deleted: both corrected, each with an Event) and deleted
through the finalizer. Every wait has a deadline; the controller is always killed."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import BITNAMI, ROOT, Seed

from pyvela._backends.kube.backend import KubeBackend
from pyvela._controller.crd import API_VERSION, CRD_NAME, KIND, crd
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError

seed, kube = support.seed, support.kube  # fixtures

SEED_YAML = ROOT / "tests" / "seed" / "application.yaml"
LOGS: list[Path] = []  # the controller's log, shown when a wait times out
CRD_REF = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", CRD_NAME)


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, proc: subprocess.Popen[str] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the controller exited ({proc.returncode}) while waiting for {what}")
        last = check()
        if last:
            return last
        time.sleep(1.0)
    log = LOGS[-1].read_text()[-6000:] if LOGS else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n{log}")


class Controller:
    def __init__(self, seed: Seed, namespaces: list[str], log: Path, pythonpath: Path) -> None:
        env = {**seed.env, "PYTHONPATH": f"{ROOT}:{pythonpath}"}
        argv = [sys.executable, "-m", "pyvela", "controller", "--kubeconfig", seed.cluster.kubeconfig]
        argv += [
            "--context",
            seed.cluster.context,
            "--resync",
            "20s",
            "--debounce",
            "1s",
            "--bind",
            "127.0.0.1:0",
        ]
        for ns in namespaces:
            argv += ["--namespace", ns]
        self.log = log
        LOGS.append(log)
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT, text=True
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._out.close()

    def tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-40:])


@pytest.fixture(scope="module")
def world(
    seed: Seed, kube: KubeBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    kube.apply(crd())
    wait_for("the CRD to be established", lambda: _established(kube), 60)
    namespaces = [support.new_namespace(kube, "ctl"), support.new_namespace(kube, "ctlmod")]
    mods = tmp_path_factory.mktemp("modules")
    controller = Controller(seed, namespaces, mods / "controller.log", mods)
    try:
        yield {"controller": controller, "yaml_ns": namespaces[0], "mod_ns": namespaces[1], "mods": mods}
    finally:
        controller.stop()
        for ns in namespaces:  # a controller that died leaves finalizers: drop them so the namespace goes
            for app in _apps(kube, ns):
                ref = _ref(ns, app["metadata"]["name"])
                try:
                    kube.merge_patch(ref, {"metadata": {"finalizers": None}})
                    kube.delete(ref, wait=False)
                except Exception:
                    pass
            kube.delete(ObjectRef("v1", "Namespace", "", ns), wait=False)


def _established(kube: KubeBackend) -> bool:
    live = kube.get(CRD_REF) or {}
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (live.get("status") or {}).get("conditions") or []
    )


def _ref(namespace: str, name: str) -> ObjectRef:
    return ObjectRef(API_VERSION, KIND, namespace, name)


def _apps(kube: KubeBackend, namespace: str) -> list[Any]:
    try:
        return kube.list(API_VERSION, KIND, namespace)
    except Exception:
        return []


def _status(kube: KubeBackend, namespace: str, name: str) -> dict[str, Any]:
    return dict((kube.get(_ref(namespace, name)) or {}).get("status") or {})


def _succeeded(kube: KubeBackend, namespace: str, name: str, revision: int) -> Callable[[], Any]:
    def check() -> Any:
        st = _status(kube, namespace, name)
        return st if st.get("phase") == "succeeded" and st.get("revision") == revision else None

    return check


def _events(kube: KubeBackend, namespace: str, name: str, reason: str) -> list[str]:
    return [
        str(e.get("message"))
        for e in kube.list("v1", "Event", namespace)
        if e.get("reason") == reason
        and (e.get("involvedObject") or {}).get("name") == name
        and (e.get("involvedObject") or {}).get("kind") == KIND
    ]


def _metrics(controller: Controller) -> str:
    found = re.search(r"metrics on (http://127\.0\.0\.1:\d+)/metrics", controller.log.read_text())
    assert found, controller.tail()
    assert httpx.get(f"{found.group(1)}/readyz", timeout=10).status_code == 200
    assert httpx.get(f"{found.group(1)}/healthz", timeout=10).status_code == 200
    return httpx.get(f"{found.group(1)}/metrics", timeout=10).text


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def _image(obj: Any) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def test_seed_yaml_created_drift_corrected_updated_deleted(
    world: dict[str, Any], seed: Seed, kube: KubeBackend
) -> None:
    ns, controller = world["yaml_ns"], world["controller"]
    doc = yaml.safe_load(SEED_YAML.read_text().replace(BITNAMI, seed.repo.url))
    doc["apiVersion"], doc["metadata"]["namespace"] = API_VERSION, ns
    name = doc["metadata"]["name"]
    poison = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "poison", "namespace": ns},
        "spec": {"components": [{"name": "x", "type": "no-such-type", "properties": {}}]},
    }
    with pytest.raises(ClusterError):  # the CRD's rule: a module or components, not neither
        kube.create({**poison, "metadata": {"name": "empty", "namespace": ns}, "spec": {}})
    try:
        kube.create(poison)  # a poison app beside the seed: it backs off, the seed goes on
        kube.create(doc)
        status = wait_for("revision 1 to succeed", _succeeded(kube, ns, name, 1), 300, controller.proc)
        bad = wait_for(
            "the poison app to fail twice",
            lambda: (_status(kube, ns, "poison").get("failures") or 0) >= 2 and _status(kube, ns, "poison"),
            60,
        )
        assert (
            bad["phase"] == "error" and "no-such-type" in bad["message"] and "retry in" in bad["message"]
        ), bad
        assert status["ready"].split("/")[0] == status["ready"].split("/")[1], status
        assert status["steps"]["apply-proxy-service"] == {"phase": "succeeded"}
        service = kube.get(ObjectRef("v1", "Service", ns, "base-service"))
        rollout = kube.get(ObjectRef("argoproj.io/v1alpha1", "Rollout", ns, "proxy-service"))
        assert service is not None and rollout is not None
        env = {e["name"]: e.get("value") for e in rollout["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["BackendIP"] == service["spec"]["clusterIP"]
        meta = kube.get(_ref(ns, name))["metadata"]  # type: ignore[index]
        assert "pyvela.dev/finalizer" in meta.get("finalizers", [])

        # Drift: an owned Deployment edited, an owned Service deleted; both put back.
        deployment = ObjectRef("apps/v1", "Deployment", ns, "base-service")
        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": "base-service", "image": "nginx:9.9"}]}}}
        }
        kube.merge_patch(deployment, patch)
        wait_for(
            "the edited Deployment to be corrected",
            lambda: _image(kube.get(deployment)) == "nginx:1.14.2" or None,
            90,
            controller.proc,
        )
        kube.delete(ObjectRef("v1", "Service", ns, "base-service"), wait=True)
        wait_for(
            "the deleted Service to be recreated",
            lambda: kube.get(ObjectRef("v1", "Service", ns, "base-service")),
            90,
        )
        corrected = wait_for(
            "two DriftCorrected Events",
            lambda: (
                len(_events(kube, ns, name, "DriftCorrected")) >= 2
                and _events(kube, ns, name, "DriftCorrected")
            ),
            30,
        )
        assert any("Deployment" in m for m in corrected) and any(
            "Service" in m and "missing" in m for m in corrected
        ), corrected
        assert wait_for(
            "driftCorrections in status",
            lambda: (_status(kube, ns, name).get("driftCorrections") or 0) >= 2,
            30,
        )
        assert _status(kube, ns, name)["revision"] == 1  # drift is corrected, not a new revision

        # An update of the spec: a new revision.
        live = kube.get(_ref(ns, name))
        assert live is not None
        live["spec"]["components"][0]["properties"]["image"] = "nginx:1.15.0"
        with support.Promoter(kube, ns):  # the proxy's Rollout pauses on its canary step
            kube.replace(live)
            wait_for("revision 2 to succeed", _succeeded(kube, ns, name, 2), 300, controller.proc)
        assert _image(kube.get(deployment)) == "nginx:1.15.0"
        metrics = _metrics(controller)
        assert _sample(metrics, "pyvela_drift_corrections_total") >= 2
        assert _sample(metrics, "pyvela_reconcile_errors_total") >= 2  # the poison app's
        assert _sample(metrics, 'pyvela_apps{phase="error"}') >= 1
        assert _sample(metrics, "pyvela_reconcile_duration_seconds_count") >= 4
    finally:
        kube.delete(_ref(ns, name), wait=False)
        kube.delete(_ref(ns, "poison"), wait=False)
    # The finalizer runs `pyvela delete`: the objects and the state record go, then the resource.
    wait_for("the Application to be gone", lambda: kube.get(_ref(ns, name)) is None, 180, controller.proc)
    assert kube.get(deployment) is None
    assert kube.get(ObjectRef("v1", "Secret", ns, f"pyvela-app.{name}")) is None


def test_module_app_created_and_deleted(world: dict[str, Any], seed: Seed, kube: KubeBackend) -> None:
    ns, controller, mods = world["mod_ns"], world["controller"], world["mods"]
    source = seed.write_app(ns, with_redis=False, name="unused.py").read_text()
    (mods / "ctl_seed_app.py").write_text(source)
    body = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "seed-module", "namespace": ns},
        "spec": {"module": "ctl_seed_app"},
    }
    try:
        kube.create(body)
        status = wait_for(
            "the module app to succeed", _succeeded(kube, ns, "seed-module", 1), 300, controller.proc
        )
        assert status["app"] == "lixiang-app"
        assert kube.get(ObjectRef("apps/v1", "Deployment", ns, "base-service")) is not None
        # Its objects' drift reaches the resource whose app they are, though the names differ.
        kube.delete(ObjectRef("v1", "Service", ns, "base-service"), wait=True)
        wait_for(
            "the Service to be recreated",
            lambda: kube.get(ObjectRef("v1", "Service", ns, "base-service")),
            90,
        )
    finally:
        kube.delete(_ref(ns, "seed-module"), wait=False)
    wait_for(
        "the module Application to be gone",
        lambda: kube.get(_ref(ns, "seed-module")) is None,
        180,
        controller.proc,
    )
    assert kube.get(ObjectRef("apps/v1", "Deployment", ns, "base-service")) is None


def test_sigterm_stops_the_controller(world: dict[str, Any]) -> None:
    """Last in the module: the controller the others used stops within its grace period."""
    proc = world["controller"].proc
    assert proc.poll() is None, world["controller"].tail()
    proc.terminate()
    assert proc.wait(timeout=30) == 0, world["controller"].tail()
