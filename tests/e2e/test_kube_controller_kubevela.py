"""`pyvela controller --kubevela --in-cluster` as a process on the real control plane, with a
service account's credentials only: the test makes the ServiceAccount, binds it to the
ClusterRole `controller manifests --kubevela` prints, asks the TokenRequest API for a token,
and writes token/ca.crt/namespace to a directory the controller reads
($PYVELA_SERVICE_ACCOUNT_DIR) with KUBERNETES_SERVICE_HOST/PORT at the API server on
127.0.0.1. A KubeVela `core.oam.dev/v1beta1` Application is created (suspended at a step,
resumed as `vela workflow resume` does), drifted, updated, stopped as `vela workflow
terminate` does, restarted from a step and whole as `vela workflow restart [--step]` does,
and deleted through the finalizer; its status is in KubeVela's shape
throughout, against vela-core's own CRD (KubeVela v1.10.1's, from its Go module at test
time: its schema prunes any field KubeVela does not know), and no request of the controller
is refused (least privilege). The same for pyvela's own Application (the default mode) with
its manifests' ClusterRole. Every wait has a deadline; the controller is always stopped."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from kubevela_world import kubevela_crd
from test_kube_support import ROOT, Seed

from pyvela._backends.kube.backend import KubeBackend
from pyvela._backends.kube.incluster import DIR_ENV
from pyvela._controller import crd as pyvela_crd
from pyvela._controller.kubevela import CRD_NAME, KIND, KUBEVELA
from pyvela._controller.kubevela_crd import crd
from pyvela._core.objects import ObjectRef

seed, kube = support.seed, support.kube  # fixtures

API_VERSION = KUBEVELA.api_version
CRD_REF = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", CRD_NAME)
LOGS: list[Path] = []
STEPS: list[dict[str, Any]] = [
    {"name": "deploy-web", "type": "apply-component", "properties": {"component": "web"}},
    {"name": "approve", "type": "suspend"},
    {"name": "deploy-worker", "type": "apply-component", "properties": {"component": "worker"}},
]


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, proc: subprocess.Popen[str] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the controller exited ({proc.returncode}) waiting for {what}\n{_log()}")
        last = check()
        if last:
            return last
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n{_log()}")


def _log() -> str:
    return LOGS[-1].read_text()[-6000:] if LOGS else ""


def _pyvela(seed: Seed, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        env=seed.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _service_account(
    seed: Seed, kube: KubeBackend, folder: Path, mode: list[str]
) -> tuple[str, list[ObjectRef]]:
    """A ServiceAccount bound to the ClusterRole of `controller manifests --kubevela` (renamed:
    cluster-scoped, shared with the team's other tests), and its token, CA and namespace files."""
    ns = support.new_namespace(kube, "kvsa")
    listing = json.loads(
        _pyvela(seed, "controller", "manifests", *mode, "--install-namespace", ns, "-o", "json")
    )
    objects = {o["kind"]: o for o in listing["items"]}
    if mode:
        assert "CustomResourceDefinition" not in objects  # vela-core's CRD is not ours to ship
    name = f"pyvela-controller-{ns}"
    role, binding = objects["ClusterRole"], objects["ClusterRoleBinding"]
    role["metadata"]["name"] = binding["metadata"]["name"] = binding["roleRef"]["name"] = name
    kube.apply(objects["ServiceAccount"])
    kube.apply(role)
    kube.apply(binding)
    sa = objects["ServiceAccount"]["metadata"]["name"]
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600},
    }
    code, answer = kube.call(
        "POST",
        f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
        body=request,
        what="a token",
        retry=False,
    )
    assert code == 201, (code, answer)
    config = yaml.safe_load(Path(seed.cluster.kubeconfig).read_text())
    context = next(c["context"] for c in config["contexts"] if c["name"] == seed.cluster.context)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    if cluster.get("certificate-authority-data"):
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    else:
        ca = (Path(seed.cluster.kubeconfig).parent / cluster["certificate-authority"]).read_text()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(answer["status"]["token"])
    (folder / "ca.crt").write_text(ca)
    (folder / "namespace").write_text(ns)
    refs = [
        ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", name),
        ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRole", "", name),
        ObjectRef("v1", "Namespace", "", ns),
    ]
    return str(cluster["server"]), refs


@contextlib.contextmanager
def in_cluster_controller(
    seed: Seed, kube: KubeBackend, home: Path, mode: list[str], apps_ns: str
) -> Iterator[dict[str, Any]]:
    """The controller as a process with the service account's credentials only (no kubeconfig)."""
    server, cleanup = _service_account(seed, kube, home / "serviceaccount", mode)
    url = urlsplit(server)
    assert url.hostname == "127.0.0.1", server  # never a Service or pod IP
    env = {k: v for k, v in seed.env.items() if not k.startswith("KUBECONFIG")}
    env |= {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(url.port),
        DIR_ENV: str(home / "serviceaccount"),
    }
    log = home / "controller.log"
    LOGS.append(log)
    argv = [sys.executable, "-m", "pyvela", "controller", "--in-cluster", *mode, "--namespace", apps_ns]
    argv += ["--resync", "20s", "--debounce", "1s", "--bind", "127.0.0.1:0"]
    out = log.open("w")
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        yield {"proc": proc, "ns": apps_ns, "home": home, "log": log}
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        out.close()
        api = API_VERSION if mode else pyvela_crd.API_VERSION
        for app in _apps(kube, apps_ns, api):  # a controller that died leaves its finalizer
            ref = ObjectRef(api, KIND, apps_ns, app["metadata"]["name"])
            try:
                kube.merge_patch(ref, {"metadata": {"finalizers": None}})
                kube.delete(ref, wait=False)
            except Exception:
                pass
        for ref in [ObjectRef("v1", "Namespace", "", apps_ns), *cleanup]:
            kube.delete(ref, wait=False)


@pytest.fixture(scope="module")
def world(
    seed: Seed, kube: KubeBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    try:  # vela-core's own CRD (from KubeVela's Go module, never copied): it prunes what it does not know
        kube.apply(kubevela_crd("core.oam.dev_applications.yaml"))
    except RuntimeError as exc:  # no Go here: our minimal CRD, which prunes as KubeVela's
        print(f"KubeVela's CRD not available ({exc}); using pyvela's minimal one", file=sys.stderr)
        if kube.get(CRD_REF) is None:
            kube.apply(crd())
    wait_for("the CRD to be established", lambda: _established(kube, CRD_REF), 60)
    home = tmp_path_factory.mktemp("kubevela")
    with in_cluster_controller(seed, kube, home, ["--kubevela"], support.new_namespace(kube, "kvapp")) as w:
        yield w


def _established(kube: KubeBackend, ref: ObjectRef) -> bool:
    live = kube.get(ref) or {}
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (live.get("status") or {}).get("conditions") or []
    )


def _ref(namespace: str, name: str) -> ObjectRef:
    return ObjectRef(API_VERSION, KIND, namespace, name)


def _apps(kube: KubeBackend, namespace: str, api: str = API_VERSION) -> list[Any]:
    try:
        return kube.list(api, KIND, namespace)
    except Exception:
        return []


def _status(kube: KubeBackend, ns: str, name: str) -> dict[str, Any]:
    return dict((kube.get(_ref(ns, name)) or {}).get("status") or {})


def _phase(kube: KubeBackend, ns: str, name: str, phase: str, revision: int) -> Callable[[], Any]:
    def check() -> Any:
        st = _status(kube, ns, name)
        rev = (st.get("latestRevision") or {}).get("revision")
        return st if st.get("status") == phase and rev == revision else None

    return check


def _conditions(status: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status.get("conditions") or []}


def _app(ns: str, image: str = "nginx:1.25", steps: list[dict[str, Any]] = STEPS) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "shop", "namespace": ns},
        "spec": {
            "components": [
                {
                    "name": "web",
                    "type": "webservice",
                    "properties": {"image": image, "ports": [{"port": 80, "expose": True}]},
                },
                {"name": "worker", "type": "worker", "properties": {"image": "busybox:1.36"}},
            ],
            "workflow": {"steps": steps},
        },
    }


def _metrics(log: Path) -> str:
    found = re.search(r"metrics on (http://127\.0\.0\.1:\d+)/metrics", log.read_text())
    assert found, _log()
    assert httpx.get(f"{found.group(1)}/readyz", timeout=10).status_code == 200
    return httpx.get(f"{found.group(1)}/metrics", timeout=10).text


def _requests(text: str) -> dict[tuple[str, str, str], float]:
    out = {}
    for m in re.finditer(r"^pyvela_api_requests_total\{(.*)\} (\S+)$", text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        out[(labels["verb"], labels["resource"], labels["code"])] = float(m.group(2))
    return out


def test_a_kubevela_application_in_cluster(world: dict[str, Any], seed: Seed, kube: KubeBackend) -> None:
    ns, proc = world["ns"], world["proc"]
    app = _app(ns)
    poison = {**_app(ns), "metadata": {"name": "poison", "namespace": ns}}
    poison["spec"] = {"components": [{"name": "x", "type": "no-such-type", "properties": {}}]}
    kube.create(poison)
    kube.create(app)
    try:
        # Suspended at the approve step: KubeVela's workflowSuspending.
        suspended = wait_for(
            "the app to suspend at its approve step",
            _phase(kube, ns, "shop", "workflowSuspending", 1),
            240,
            proc,
        )
        wf = suspended["workflow"]
        assert wf["suspend"] is True and wf["finished"] is False and wf["mode"] == "StepByStep-DAG"
        phases = {s["name"]: s["phase"] for s in wf["steps"]}
        assert phases["deploy-web"] == "succeeded" and phases["approve"] == "suspending", wf["steps"]
        assert _conditions(suspended)["Ready"] == "False"
        bad = wait_for(
            "the poison app's error",
            lambda: (
                _conditions(_status(kube, ns, "poison")).get("Ready") == "False"
                and _status(kube, ns, "poison")
            ),
            60,
        )
        ready = next(c for c in bad["conditions"] if c["type"] == "Ready")
        assert (
            bad["status"] == "rendering"
            and ready["reason"] == "ReconcileError"
            and "no-such-type" in ready["message"]
        )
        # It deployed nothing: its finalizer lets it go (and its retries stop writing status).
        kube.delete(_ref(ns, "poison"), wait=False)
        wait_for("the poison Application to be gone", lambda: kube.get(_ref(ns, "poison")) is None, 60, proc)

        # Resumed as `vela workflow resume` does it (status.workflow.suspend: false): the
        # workflow runs to the end.
        steps = [s | {"phase": "running"} if s["phase"] == "suspending" else s for s in wf["steps"]]
        resume = {"status": {"workflow": {"suspend": False, "steps": steps}}}
        kube.merge_patch(_ref(ns, "shop"), resume, status=True)
        running = wait_for("the app to run", _phase(kube, ns, "shop", "running", 1), 240, proc)
        live = kube.get(_ref(ns, "shop")) or {}
        assert running["observedGeneration"] == live["metadata"]["generation"]
        assert "pyvela.dev/finalizer" in live["metadata"].get("finalizers", [])
        assert [(s["name"], s["healthy"]) for s in running["services"]] == [("web", True), ("worker", True)]
        assert running["services"][0]["workloadDefinition"] == {"apiVersion": "apps/v1", "kind": "Deployment"}
        wf = running["workflow"]
        assert wf["finished"] is True and wf["suspend"] is False and wf["status"] == "succeeded"
        assert [(s["name"], s["phase"]) for s in wf["steps"]] == [
            ("deploy-web", "succeeded"),
            ("approve", "succeeded"),
            ("deploy-worker", "succeeded"),
        ]
        assert running["latestRevision"]["name"] == "shop-v1" and wf["appRevision"] == "shop-v1"
        assert set(_conditions(running).values()) == {"True"}
        kinds = {(r["kind"], r["name"]) for r in running["appliedResources"]}
        assert {("Deployment", "web"), ("Service", "web"), ("Deployment", "worker")} <= kinds

        # Drift: the Service deleted is put back, with an Event on KubeVela's Application.
        service = ObjectRef("v1", "Service", ns, "web")
        kube.delete(service, wait=True)
        wait_for("the Service to be recreated", lambda: kube.get(service), 90, proc)
        events = wait_for(
            "a DriftCorrected Event",
            lambda: [
                e
                for e in kube.list("v1", "Event", ns)
                if e.get("reason") == "DriftCorrected"
                and (e.get("involvedObject") or {}).get("name") == "shop"
            ],
            60,
        )
        assert (
            events[0]["involvedObject"]["apiVersion"] == API_VERSION
            and events[0]["involvedObject"]["kind"] == KIND
        )

        # An update: revision 2, the approve step gone from the status with it.
        live = kube.get(_ref(ns, "shop")) or {}
        live["spec"] = _app(ns, image="nginx:1.26", steps=[STEPS[0], STEPS[2]])["spec"]
        kube.replace(live)
        updated = wait_for("revision 2 to run", _phase(kube, ns, "shop", "running", 2), 240, proc)
        assert [s["name"] for s in updated["workflow"]["steps"]] == ["deploy-web", "deploy-worker"]
        assert updated["observedGeneration"] == (kube.get(_ref(ns, "shop")) or {})["metadata"]["generation"]
        deployment = kube.get(ObjectRef("apps/v1", "Deployment", ns, "web")) or {}
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"

        # A resync with nothing new writes nothing: what was written survived the CRD's pruning
        # (else the next status would differ from the stored one and be written again).
        status_writes = ("PATCH", "applications.core.oam.dev/status", "200")
        before = _requests(_metrics(world["log"])).get(status_writes, 0)
        time.sleep(25)  # more than --resync 20s
        assert _requests(_metrics(world["log"])).get(status_writes, 0) == before, _log()

        # Least privilege: every request the controller made went through; the status writes are counted.
        counts = _requests(_metrics(world["log"]))
        refused = {k: v for k, v in counts.items() if k[2] in ("401", "403")}
        assert not refused, refused
        assert counts.get(("PATCH", "applications.core.oam.dev/status", "200"), 0) >= 3, counts
        assert counts.get(("POST", "events", "201"), 0) >= 1, counts

        # Revision 3 stops at its approve step again; `vela workflow terminate` (terminated
        # true, suspend false) ends it: workflowTerminated, the step failed with Terminate.
        live = kube.get(_ref(ns, "shop")) or {}
        live["spec"] = _app(ns, image="nginx:1.27")["spec"]
        kube.replace(live)
        third = wait_for(
            "revision 3 to suspend", _phase(kube, ns, "shop", "workflowSuspending", 3), 240, proc
        )
        stop = {"status": {"workflow": {"terminated": True, "suspend": False}}}
        kube.merge_patch(_ref(ns, "shop"), stop, status=True)
        ended = wait_for(
            "revision 3 to be terminated", _phase(kube, ns, "shop", "workflowTerminated", 3), 120, proc
        )
        wf = ended["workflow"]
        assert wf["terminated"] is True and wf["finished"] is True and wf["suspend"] is False, wf
        approve = next(s for s in wf["steps"] if s["name"] == "approve")
        assert (approve["phase"], approve.get("reason")) == ("failed", "Terminate"), third["workflow"]
        assert kube.get(ObjectRef("apps/v1", "Deployment", ns, "worker")) is not None  # left as it was

        # `vela workflow restart --step approve` (finished, suspend and terminated cleared, the
        # statuses from approve on dropped): revision 3 runs again from approve, which suspends.
        names = [s["name"] for s in wf["steps"]]
        kept = wf["steps"][: names.index("approve")]
        cleared = {"finished": False, "suspend": False, "terminated": False, "steps": kept}
        kube.merge_patch(_ref(ns, "shop"), {"status": {"workflow": cleared}}, status=True)
        again = wait_for(
            "revision 3 to suspend at approve again",
            _phase(kube, ns, "shop", "workflowSuspending", 3),
            120,
            proc,
        )
        web = {s["name"]: s for s in again["workflow"]["steps"]}["deploy-web"]
        assert web == {s["name"]: s for s in wf["steps"]}["deploy-web"]  # not run again
        assert again["workflow"]["suspend"] is True and again["workflow"]["terminated"] is False

        # `vela workflow restart` (the status without its workflow): the whole workflow again.
        time.sleep(1.1)  # the step times have seconds
        kube.merge_patch(_ref(ns, "shop"), {"status": {"workflow": None}}, status=True)

        def restarted() -> Any:
            st = _status(kube, ns, "shop")
            steps = {s["name"]: s for s in (st.get("workflow") or {}).get("steps") or []}
            first = (steps.get("deploy-web") or {}).get("firstExecuteTime")
            return (
                st if first and first != web.get("firstExecuteTime") and st["workflow"]["suspend"] else None
            )

        whole = wait_for("the whole workflow of revision 3 to run again", restarted, 120, proc)
        assert whole["status"] == "workflowSuspending" and whole["latestRevision"]["revision"] == 3
    finally:
        kube.delete(_ref(ns, "shop"), wait=False)
        kube.delete(_ref(ns, "poison"), wait=False)
    wait_for("the Application to be gone", lambda: kube.get(_ref(ns, "shop")) is None, 180, proc)
    assert kube.get(ObjectRef("apps/v1", "Deployment", ns, "web")) is None
    assert kube.get(ObjectRef("v1", "Secret", ns, "pyvela-app.shop")) is None
    assert "Forbidden" not in world["log"].read_text(), _log()


def test_a_pyvela_application_in_cluster(seed: Seed, kube: KubeBackend, tmp_path: Path) -> None:
    """The default mode with a service account bound to `controller manifests`' ClusterRole."""
    ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", pyvela_crd.CRD_NAME)
    kube.apply(pyvela_crd.crd())
    wait_for("pyvela's CRD to be established", lambda: _established(kube, ref), 60)
    ns = support.new_namespace(kube, "pvapp")
    with in_cluster_controller(seed, kube, tmp_path, [], ns) as w:
        app = _app(ns, steps=[STEPS[0], STEPS[2]])
        app["apiVersion"] = pyvela_crd.API_VERSION
        mine = ObjectRef(pyvela_crd.API_VERSION, KIND, ns, "shop")
        kube.create(app)
        status = wait_for(
            "the app to succeed",
            lambda: (
                (st := dict((kube.get(mine) or {}).get("status") or {})).get("phase") == "succeeded" and st
            ),
            240,
            w["proc"],
        )
        assert status["revision"] == 1 and status["ready"] == "3/3", status
        counts = _requests(_metrics(w["log"]))
        assert not {k: v for k, v in counts.items() if k[2] in ("401", "403")}, counts
        assert counts.get(("PATCH", "applications.pyvela.dev/status", "200"), 0) >= 1, counts
        kube.delete(mine, wait=False)
        wait_for("the Application to be gone", lambda: kube.get(mine) is None, 120, w["proc"])
        assert kube.get(ObjectRef("apps/v1", "Deployment", ns, "web")) is None
        assert "Forbidden" not in w["log"].read_text(), _log()


def test_sigterm_stops_the_controller(world: dict[str, Any]) -> None:
    proc = world["proc"]
    assert proc.poll() is None, _log()
    proc.terminate()
    assert proc.wait(timeout=30) == 0, _log()
