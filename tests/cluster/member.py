"""A second Kubernetes cluster beside the test control plane, for multi-cluster tests.

A member cluster is its own kube-apiserver, with its own PKI, token and kubeconfig context,
its own kube-controller-manager, kube-scheduler and kwok (fake nodes), so Deployments there
get ReplicaSets, Pods, nodes and readiness as on the primary. Its objects live either on the
primary's etcd under a key prefix of their own (``etcd_url``: one etcd, two clusters that
never see each other's objects) or on an etcd it starts itself (when the primary is not
ours to share, e.g. the team's running control plane). No Argo Rollouts controller.

``stop_apiserver()`` / ``start_apiserver()`` take the member's API server away and bring it
back with the same port, certificates and data, for "a cluster unreachable mid-deploy, then
restored". Call ``start_apiserver`` from the main thread (or a thread that outlives the
test): children die with the thread that spawned them (PR_SET_PDEATHSIG).

``merge_kubeconfigs(out, paths)`` writes one kubeconfig holding every context of ``paths``
(the first file's current context stays current).

Usage::

    member = MemberCluster.from_cache(name="pyvela-test-2", etcd_url=primary.etcd_url)
    member.start()
    merge_kubeconfigs(tmp / "kubeconfig", [primary.kubeconfig, member.kubeconfig])
"""

from __future__ import annotations

import base64
import importlib.util
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


def _launcher() -> Any:
    name = "pyvela_testcluster_launcher"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("launcher.py"))
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


L = _launcher()
LOOPBACK = L.LOOPBACK


def write_kubeconfig(path: Path, name: str, server: str, ca_pem: bytes, token: str) -> None:
    """A kubeconfig whose cluster, user and context are all called ``name`` (so it merges)."""
    cfg = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": name, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    path.chmod(0o600)


def merge_kubeconfigs(out: Path, paths: list[Path | str]) -> Path:
    """One kubeconfig with the clusters, users and contexts of every file (names must differ)."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                              "clusters": [], "users": [], "contexts": [], "current-context": ""}
    for path in paths:
        cfg = yaml.safe_load(Path(path).read_text())
        for key in ("clusters", "users", "contexts"):
            have = {e["name"] for e in merged[key]}
            for entry in cfg.get(key) or []:
                if entry["name"] in have:
                    raise ValueError(f"{key[:-1]} {entry['name']!r} is in more than one kubeconfig")
                merged[key].append(entry)
        merged["current-context"] = merged["current-context"] or cfg.get("current-context", "")
    out.write_text(yaml.safe_dump(merged, sort_keys=False))
    out.chmod(0o600)
    return out


@dataclass
class MemberCluster(L.ControlPlane):
    """A member cluster (see the module docstring). ``context`` is its name."""

    context: str = "pyvela-test-2"
    etcd_url: str = ""  # empty: start an etcd of its own
    etcd_prefix: str = ""  # default /pyvela-<context>

    @classmethod
    def from_cache(cls, **kw: Any) -> MemberCluster:
        d = L._build.build_dir()
        if not L._build.is_built(d):
            raise L.ClusterError(f"control-plane binaries not built (expected in {d}); "
                                 "run `scripts/testcluster build`")
        kw.setdefault("nodes", 1)
        return cls(build_dir=d, **kw)

    @property
    def apiserver_running(self) -> bool:
        return any(p.name == "kube-apiserver" and p.alive() for p in self.procs)

    def stop_apiserver(self, kill: bool = True) -> None:
        """Take the API server away (SIGKILL, like a crash, unless ``kill=False``): requests to
        it are refused until ``start_apiserver``. The other processes keep retrying."""
        import contextlib
        import os
        import signal

        old = self.process("kube-apiserver")
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(old.popen.pid, signal.SIGKILL)
        old.stop()
        self.procs.remove(old)
        self._stopped_apiserver = old.args

    def start_apiserver(self, timeout: float = 90.0) -> float:
        """Start the API server again (same port and data) and wait until it is ready; returns
        the seconds it took."""
        t0 = time.monotonic()
        args = getattr(self, "_stopped_apiserver", None)
        if args is None:
            raise L.ClusterError("the member's API server was not stopped")
        new = self._spawn("kube-apiserver", args)
        self._stopped_apiserver = None
        self._wait(f"{self.context} kube-apiserver /readyz after restart", lambda: self._api_ok("/readyz"),
                   time.monotonic() + timeout, new)
        return time.monotonic() - t0

    def check_alive(self) -> None:
        dead = [p for p in self.procs if not p.alive()]
        if dead:
            raise L.ClusterError("; ".join(f"{self.context} {p.name} exited with {p.popen.returncode}:\n"
                                           f"{p.tail()}" for p in dead))

    def _start(self, deadline: float) -> None:
        wd = self.workdir
        assert wd is not None
        pki = L.make_pki(wd / "pki")
        self.token = secrets.token_hex(24)
        (wd / "tokens.csv").write_text(f'{self.token},pyvela-admin,pyvela-admin,"system:masters"\n')
        (wd / "tokens.csv").chmod(0o600)
        kube = str(self.bin_dir / "kube")
        for n in ("etcd", "etcd-peer", "apiserver", "kcm", "scheduler", "kwok"):
            self.ports[n] = L.free_port()
        self.server = f"https://{LOOPBACK}:{self.ports['apiserver']}"
        write_kubeconfig(self.kubeconfig, self.context, self.server, pki["ca.crt"].read_bytes(), self.token)

        etcd_url = self.etcd_url
        if not etcd_url:
            etcd_url = f"http://{LOOPBACK}:{self.ports['etcd']}"
            peer_url = f"http://{LOOPBACK}:{self.ports['etcd-peer']}"
            etcd = self._spawn("etcd", [
                str(self.bin_dir / "etcd"), f"--name={self.context}", f"--data-dir={wd / 'etcd'}",
                f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster={self.context}={peer_url}", "--initial-cluster-state=new",
                "--unsafe-no-fsync", "--log-level=warn",
            ])
            self._wait(f"{self.context} etcd", lambda: self._http_ok(f"{etcd_url}/health"), deadline, etcd)
        prefix = self.etcd_prefix or f"/pyvela-{self.context}"

        apiserver = self._spawn("kube-apiserver", [
            kube, "kube-apiserver",
            f"--etcd-servers={etcd_url}", f"--etcd-prefix={prefix}",
            f"--bind-address={LOOPBACK}", f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.ports['apiserver']}",
            f"--cert-dir={wd / 'pki'}",
            f"--tls-cert-file={pki['apiserver.crt']}", f"--tls-private-key-file={pki['apiserver.key']}",
            f"--client-ca-file={pki['ca.crt']}",
            f"--token-auth-file={wd / 'tokens.csv'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki['sa.pub']}",
            f"--service-account-signing-key-file={pki['sa.key']}",
            f"--service-cluster-ip-range={L.SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            "--profiling=false", "--endpoint-reconciler-type=none", "--v=1",
        ])
        self._wait(f"{self.context} kube-apiserver /readyz", lambda: self._api_ok("/readyz"), deadline, apiserver)

        kc = str(self.kubeconfig)
        kcm = self._spawn("kube-controller-manager", [
            kube, "kube-controller-manager",
            f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
            f"--bind-address={LOOPBACK}", f"--secure-port={self.ports['kcm']}",
            f"--cert-dir={wd / 'pki' / 'kcm'}",
            "--leader-elect=false", "--use-service-account-credentials=false",
            f"--service-account-private-key-file={pki['sa.key']}",
            f"--root-ca-file={pki['ca.crt']}",
            f"--cluster-signing-cert-file={pki['ca.crt']}", f"--cluster-signing-key-file={pki['ca.key']}",
            f"--service-cluster-ip-range={L.SERVICE_CIDR}",
            "--controllers=*", "--profiling=false", "--v=1",
        ])
        scheduler = self._spawn("kube-scheduler", [
            kube, "kube-scheduler",
            f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
            f"--bind-address={LOOPBACK}", f"--secure-port={self.ports['scheduler']}",
            f"--cert-dir={wd / 'pki' / 'scheduler'}",
            "--leader-elect=false", "--profiling=false", "--v=1",
        ])
        kwok = self._spawn("kwok", [
            str(self.bin_dir / "kwok"), f"--kubeconfig={kc}",
            f"--config={self.kwok_stages}",
            *(f"--config={p}" for p in sorted((Path(__file__).resolve().parent / "stages").glob("*.yaml"))),
            # Pod logs, exec and port-forward as on the primary (see launcher.write_podio_config).
            f"--config={L.write_podio_config(wd)}",
            "--manage-all-nodes=true",
            f"--server-address={LOOPBACK}:{self.ports['kwok']}",
            f"--node-ip={LOOPBACK}", f"--node-port={self.ports['kwok']}",
            f"--cidr={L.POD_CIDR}",
            "--node-lease-duration-seconds=40",
        ])
        for i in range(self.nodes):
            self._create_node(f"{self.context}-node-{i}")
        self._wait(f"{self.context} kube-scheduler /healthz",
                   lambda: self._http_ok(f"https://{LOOPBACK}:{self.ports['scheduler']}/healthz",
                                         verify=False), deadline, scheduler)
        self._wait(f"{self.context} default service account", lambda: self._api_ok(
            "/api/v1/namespaces/default/serviceaccounts/default"), deadline, kcm)
        self._wait(f"{self.context} {self.nodes} kwok node(s) Ready", self._nodes_ready, deadline, kwok)
        self.check_alive()


def run_foreground(context: str, primary_kubeconfig: Path | None, ready_file: Path | None = None) -> int:
    """``scripts/testcluster member``: start a member (etcd of its own), write a kubeconfig with
    the primary's contexts and the member's, block until SIGINT/SIGTERM, then stop."""
    import contextlib
    import json
    import os
    import signal
    import threading

    cp = MemberCluster.from_cache(context=context)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        cp.start()
        assert cp.workdir is not None
        merged = cp.kubeconfig
        if primary_kubeconfig is not None:
            merged = merge_kubeconfigs(cp.workdir / "kubeconfig-both", [primary_kubeconfig, cp.kubeconfig])
        info = {"kubeconfig": str(merged), "member_kubeconfig": str(cp.kubeconfig), "context": context,
                "server": cp.server, "workdir": str(cp.workdir), "pid": os.getpid(),
                "startup_seconds": round(cp.startup_seconds, 1)}
        print(f"export KUBECONFIG={merged}", flush=True)
        print(json.dumps(info), flush=True)
        if ready_file:
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(info))
            tmp.replace(ready_file)
        while not stop.wait(1.0):
            cp.check_alive()
    finally:
        cp.stop()
        if ready_file:
            with contextlib.suppress(FileNotFoundError):
                ready_file.unlink()
    return 0
