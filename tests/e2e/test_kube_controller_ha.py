"""`pyvela controller --shard N/M` as processes on the real control plane:

- two replicas of one shard: the leader is SIGKILLed while an app's workflow waits after a
  journaled webhook POST (to a loopback server that counts them); the standby takes the
  shard's Lease over within the lease duration, resumes the run, and the POST is not sent
  again;
- shards 0/2 and 1/2 split a set of apps (one pinned by the label against its hash): each
  reconciles, finalizes and labels with its finalizer only its own;
- an API-server restart (a member cluster's: the team's primary is shared): the controller
  loses its Lease while the server is away, leads again when it is back, and reconciles a
  change made after the restart.

Short leases (``--lease-duration 4s``) keep it quick. Each controller watches only its own
test's namespace (engineers share the cluster), and every controller is killed at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
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
from pyvela._controller.shard import shard_of
from pyvela._core.objects import ObjectRef
from pyvela._workflow.state import StateStore
from tests.post_counter import counting_server

kube = support.kube  # fixture
LEASE_SECONDS = 4.0
CRD_REF = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", CRD_NAME)
LOGS: list[Path] = []


def wait_for(what: str, check: Callable[[], Any], timeout: float, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(step)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in LOGS[-3:] if p.exists())
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n{logs}")


class Replica:
    """One controller process: ``--shard`` of one namespace, its identity ``POD_NAME``."""

    def __init__(
        self, kubeconfig: str, context: str, namespace: str, shard: str, name: str, log: Path, path: Path
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYVELA_APOLLO_", "KUBECONFIG"))}
        env.update(PYTHONPATH=f"{ROOT}:{path}", POD_NAME=name)
        argv = [
            sys.executable,
            "-m",
            "pyvela",
            "controller",
            "--kubeconfig",
            kubeconfig,
            "--context",
            context,
        ]
        argv += ["--namespace", namespace, "--shard", shard, "--lease-namespace", namespace]
        argv += ["--lease-duration", f"{LEASE_SECONDS:g}s", "--resync", "30s", "--debounce", "1s"]
        argv += ["--bind", "127.0.0.1:0", "--defs", "platform_defs", "--defs", "tests.sample_defs"]
        self.name, self.log = name, log
        LOGS.append(log)
        self._out = log.open("w")
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    yield started
    for r in started:
        r.stop()


def _install_crd(kube: KubeBackend) -> None:
    kube.apply(crd())

    def established() -> bool:
        live = kube.get(CRD_REF) or {}
        return any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (live.get("status") or {}).get("conditions") or []
        )

    wait_for("the CRD to be established", established, 60)


def _ref(namespace: str, name: str) -> ObjectRef:
    return ObjectRef(API_VERSION, KIND, namespace, name)


def _status(kube: KubeBackend, namespace: str, name: str) -> dict[str, Any]:
    return dict((kube.get(_ref(namespace, name)) or {}).get("status") or {})


def _holder(kube: KubeBackend, namespace: str, lease: str) -> str:
    live = kube.get(ObjectRef("coordination.k8s.io/v1", "Lease", namespace, lease)) or {}
    return str((live.get("spec") or {}).get("holderIdentity") or "")


def _probes_ok(replica: Replica) -> bool:
    found = re.search(r"metrics on (http://127\.0\.0\.1:\d+)/metrics", replica.text())
    if not found:
        return False
    codes = [httpx.get(f"{found.group(1)}{p}", timeout=10).status_code for p in ("/healthz", "/readyz")]
    text = httpx.get(f"{found.group(1)}/metrics", timeout=10).text
    return codes == [200, 200] and 'pyvela_shard_leader{shard="0/1"} 0.0' in text


def _held_by(kube: KubeBackend, namespace: str, lease: str, prefix: str) -> Callable[[], bool]:
    return lambda: _holder(kube, namespace, lease).startswith(prefix)


def _phase_is(kube: KubeBackend, namespace: str, name: str, phase: str) -> Callable[[], bool]:
    return lambda: _status(kube, namespace, name).get("phase") == phase


def _gone(kube: KubeBackend, ref: ObjectRef) -> Callable[[], bool]:
    return lambda: kube.get(ref) is None


def _cleanup(kube: KubeBackend, namespace: str) -> None:
    """A killed controller leaves finalizers: drop them so the namespace goes."""
    try:
        apps = kube.list(API_VERSION, KIND, namespace)
    except Exception:
        apps = []
    for app in apps:
        ref = _ref(namespace, app["metadata"]["name"])
        try:
            kube.merge_patch(ref, {"metadata": {"finalizers": None}})
            kube.delete(ref, wait=False)
        except Exception:
            pass
    kube.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)


def _configmap_app(namespace: str, name: str, value: str, **labels: str) -> dict[str, Any]:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-cm"}, "data": {"v": value}}
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"components": [{"name": "cm", "type": "k8s-objects", "properties": {"objects": [cm]}}]},
    }


POSTS: list[str] = []  # what hook_url received in the current test


@pytest.fixture
def hook_url() -> Iterator[str]:
    POSTS.clear()
    with counting_server(POSTS) as url:
        yield url


def _journaled(kube: KubeBackend, app: str, namespace: str) -> bool:
    """Whether the run's state record holds the POST's journal entry (saved right after it)."""
    record = StateStore(kube, app, namespace).load() or {}

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("journal"):
                return True
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(record)


def test_sigkill_of_the_leader_mid_run_is_taken_over_without_repeating_the_post(
    kube: KubeBackend, kube_cluster: Any, replicas: list[Replica], hook_url: str, tmp_path: Path
) -> None:
    _install_crd(kube)
    ns = support.new_namespace(kube, "ha")
    suffix = uuid.uuid4().hex[:6]
    app, module = f"ha-{suffix}", f"ha_app_{suffix}"
    (tmp_path / f"{module}.py").write_text(
        "from pyvela import Application\n"
        "from tests.sample_defs import post_then_wait\n"
        f'app = Application("{app}", components=[], workflow=['
        f'post_then_wait("post", url="{hook_url}", then_wait="go")])\n'
    )
    lease = "pyvela-controller-shard-0-of-1"
    try:
        a = Replica(
            kube_cluster.kubeconfig, kube_cluster.context, ns, "0/1", "ha-a", tmp_path / "a.log", tmp_path
        )
        replicas.append(a)
        wait_for("replica a to lead", lambda: _holder(kube, ns, lease).startswith("ha-a:"), 60)
        b = Replica(
            kube_cluster.kubeconfig, kube_cluster.context, ns, "0/1", "ha-b", tmp_path / "b.log", tmp_path
        )
        replicas.append(b)
        wait_for("replica b to stand by", lambda: "standing by" in b.text(), 60)
        wait_for("the standby to be healthy and ready", lambda: _probes_ok(b), 30)
        kube.create(
            {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "metadata": {"name": "killme", "namespace": ns},
                "spec": {"module": module, "defs": ["platform_defs", "tests.sample_defs"]},
            }
        )
        wait_for("the POST to be journaled", lambda: POSTS and _journaled(kube, app, ns), 120)
        assert _holder(kube, ns, lease).startswith("ha-a:")
        assert "run-started" not in b.text()  # the standby did nothing so far
        a.kill()  # mid-run: the step waits for ConfigMap "go" after its POST
        killed = time.monotonic()
        wait_for("replica b to take over", lambda: _holder(kube, ns, lease).startswith("ha-b:"), 30, 0.1)
        takeover = time.monotonic() - killed
        print(f"takeover after SIGKILL: {takeover:.2f}s (lease duration {LEASE_SECONDS:g}s)")
        # a's Lease looked alive (another "host", as pods are): b waited for it to go unrenewed
        # for a whole duration; a's last renewal was at most a renew period (a third) before
        # the kill. Upper bound: the duration plus b's read period and slack for a busy machine.
        assert LEASE_SECONDS * 2 / 3 - 0.2 <= takeover <= LEASE_SECONDS + 3, takeover
        kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": ns}})
        status = wait_for(
            "the run to finish on replica b",
            lambda: (st := _status(kube, ns, "killme")).get("phase") == "succeeded" and st,
            120,
        )
        assert status["revision"] == 1, status  # the same run resumed, not a new revision
        assert len(POSTS) == 1, POSTS  # the journaled POST was not sent again
        assert f"{ns}/killme" in b.text() and "taken over from ha-a:" in b.text()
        assert b.alive()
    finally:
        for r in replicas:
            r.stop()
        _cleanup(kube, ns)


def test_two_shards_split_the_apps(
    kube: KubeBackend, kube_cluster: Any, replicas: list[Replica], tmp_path: Path
) -> None:
    _install_crd(kube)
    ns = support.new_namespace(kube, "shards")
    names = [f"app-{i}" for i in range(8)]
    home = {n: shard_of(ns, n, 2) for n in names}
    while len(set(home.values())) < 2:  # 8 names all in one shard (1 in 128): one more
        names.append(f"app-{len(names)}")
        home[names[-1]] = shard_of(ns, names[-1], 2)
    pinned = names[0]  # labelled onto the shard its hash does not give
    expected = {**home, pinned: 1 - home[pinned]}
    try:
        for index in (0, 1):
            replicas.append(
                Replica(
                    kube_cluster.kubeconfig,
                    kube_cluster.context,
                    ns,
                    f"{index}/2",
                    f"shard-{index}",
                    tmp_path / f"shard-{index}.log",
                    tmp_path,
                )
            )
        for index in (0, 1):
            lease = f"pyvela-controller-shard-{index}-of-2"
            wait_for(
                f"shard {index} to lead",
                _held_by(kube, ns, lease, f"shard-{index}:"),
                60,
            )
        for n in names:
            labels = {"pyvela.dev/shard": str(expected[n])} if n == pinned else {}
            kube.create(_configmap_app(ns, n, "1", **labels))
        for n in names:
            wait_for(f"{n} to succeed", _phase_is(kube, ns, n, "succeeded"), 120)
        logs = [r.text() for r in replicas]
        for n in names:
            live = kube.get(_ref(ns, n)) or {}
            assert live["metadata"].get("finalizers") == [f"pyvela.dev/shard-{expected[n]}-of-2"], (
                n,
                live["metadata"],
            )
            mine, other = logs[expected[n]], logs[1 - expected[n]]
            assert f"{ns}/{n}: run-started" in mine, n
            assert f"{ns}/{n}:" not in other, n  # never reconciled by the other shard
        # Relabelled onto the other shard: that shard takes it (its finalizer replaces the
        # old shard's) and reconciles its next change; the old one lets it go.
        moved = names[-1]
        to = 1 - expected[moved]
        kube.merge_patch(_ref(ns, moved), {"metadata": {"labels": {"pyvela.dev/shard": str(to)}}})
        wait_for(
            f"{moved} to carry shard {to}'s finalizer only",
            lambda: (
                (kube.get(_ref(ns, moved)) or {})["metadata"].get("finalizers")
                == [f"pyvela.dev/shard-{to}-of-2"]
            ),
            60,
        )
        before = replicas[1 - to].text().count(f"{ns}/{moved}: run-started")
        spec = _configmap_app(ns, moved, "2")["spec"]
        kube.merge_patch(_ref(ns, moved), {"spec": spec})
        wait_for(f"{moved} revision 2", lambda: _status(kube, ns, moved).get("revision") == 2, 120)
        assert f"{ns}/{moved}: run-started revision 2" in replicas[to].text()
        assert replicas[1 - to].text().count(f"{ns}/{moved}: run-started") == before
        # Deletion goes through the owning shard's finalizer.
        for n in names[:2]:
            kube.delete(_ref(ns, n), wait=False)
        for n in names[:2]:
            wait_for(f"{n} to be deleted", _gone(kube, _ref(ns, n)), 60)
            assert kube.get(ObjectRef("v1", "ConfigMap", ns, f"{n}-cm")) is None
        assert all(r.alive() for r in replicas)
    finally:
        for r in replicas:
            r.stop()
        _cleanup(kube, ns)


def test_the_controller_survives_an_api_server_restart(
    two_clusters: Any, replicas: list[Replica], tmp_path: Path
) -> None:
    member_kube = KubeBackend.connect(context=two_clusters.member, kubeconfig=two_clusters.kubeconfig)
    _install_crd(member_kube)
    ns = support.new_namespace(member_kube, "restart")
    try:
        lease = "pyvela-controller-shard-0-of-1"
        r = Replica(
            two_clusters.kubeconfig, two_clusters.member, ns, "0/1", "solo", tmp_path / "solo.log", tmp_path
        )
        replicas.append(r)
        wait_for("the controller to lead", lambda: _holder(member_kube, ns, lease).startswith("solo:"), 60)
        member_kube.create(_configmap_app(ns, "web", "1"))
        wait_for("revision 1", lambda: _status(member_kube, ns, "web").get("revision") == 1, 120)
        two_clusters.member_cluster.stop_apiserver()
        try:
            # Longer than the lease: the controller must stop leading, not only retry.
            wait_for("the controller to stop leading", lambda: "stopping kopf" in r.text(), 30)
        finally:
            two_clusters.member_cluster.start_apiserver()
        member_kube.merge_patch(
            _ref(ns, "web"),
            {"spec": {"components": _configmap_app(ns, "web", "2")["spec"]["components"]}},
        )
        status = wait_for(
            "revision 2 after the restart",
            lambda: (
                (st := _status(member_kube, ns, "web")).get("revision") == 2
                and st.get("phase") == "succeeded"
                and st
            ),
            180,
        )
        cm = member_kube.get(ObjectRef("v1", "ConfigMap", ns, "web-cm")) or {}
        assert cm.get("data") == {"v": "2"}, cm
        assert r.alive(), r.text()[-3000:]
        assert r.text().count("leading as") >= 2  # led again, same process
        assert status["phase"] == "succeeded"
        print(json.dumps({"log_tail": r.text().splitlines()[-5:]}))
    finally:
        for rep in replicas:
            rep.stop()
        _cleanup(member_kube, ns)
        member_kube.close()
