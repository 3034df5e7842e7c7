"""Start a real Kubernetes control plane on loopback for the pyvela tests.

etcd -> kube-apiserver -> kube-controller-manager -> kube-scheduler -> kwok
(fake nodes; scheduled pods become Running/Ready) -> Argo Rollouts controller.

Binaries come from ``tests/cluster/build.py`` (``scripts/testcluster build``).
Every listener is bound to 127.0.0.1 on a port picked free at run time.  The
processes run in their own process groups and are killed (group-wide) by
``ControlPlane.stop()``, which is also registered with ``atexit``; on Linux
they additionally get SIGKILL if the Python process that started them dies.

Usage::

    from tests.cluster.launcher import ControlPlane
    with ControlPlane.from_cache() as cp:
        print(cp.kubeconfig)

Only the Python standard library, PyYAML and ``cryptography`` are needed.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml



def _load_build() -> Any:
    """Load build.py next to this file whether or not tests/ is a package."""
    import importlib.util

    name = "pyvela_testcluster_build"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("build.py"))
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


_build = _load_build()

CONTEXT = "pyvela-test"
CLUSTER_NAME = "pyvela-test"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # first IP of SERVICE_CIDR: the `kubernetes` Service
POD_CIDR = "10.244.0.1/16"  # kwok's fake pod IPs (never dialled)
LOOPBACK = "127.0.0.1"


class ClusterError(RuntimeError):
    pass


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _pem_cert(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(d: Path) -> dict[str, Path]:
    """CA, apiserver serving cert, front-proxy CA + client cert, service-account key pair."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=7)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def make_ca(cn: str) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return cert, key

    def make_leaf(cn: str, ca: Any, ca_key: Any, usage: Any, sans: list[x509.GeneralName]) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                            critical=False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(ca_key, hashes.SHA256()), key

    ca, ca_key = make_ca("pyvela-test-ca")
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in (
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local")]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in (LOOPBACK, SERVICE_IP)]
    srv, srv_key = make_leaf("kube-apiserver", ca, ca_key, ExtendedKeyUsageOID.SERVER_AUTH, sans)
    fp_ca, fp_ca_key = make_ca("pyvela-test-front-proxy-ca")
    fp, fp_key = make_leaf("front-proxy-client", fp_ca, fp_ca_key, ExtendedKeyUsageOID.CLIENT_AUTH, [])
    sa_key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "ca.crt": _pem_cert(ca), "ca.key": _pem_key(ca_key),
        "apiserver.crt": _pem_cert(srv), "apiserver.key": _pem_key(srv_key),
        "front-proxy-ca.crt": _pem_cert(fp_ca),
        "front-proxy-client.crt": _pem_cert(fp), "front-proxy-client.key": _pem_key(fp_key),
        "sa.key": _pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    out = {}
    for fname, data in files.items():
        p = d / fname
        p.write_bytes(data)
        p.chmod(0o600)
        out[fname] = p
    return out


def write_kubeconfig(path: Path, server: str, ca_pem: bytes, token: str,
                     context: str = CONTEXT) -> None:
    cfg = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": CLUSTER_NAME, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "pyvela-admin", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": CLUSTER_NAME, "user": "pyvela-admin"}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    path.chmod(0o600)


WORKDIR_PREFIX = "pyvela-kube-"


def sweep_stale_workdirs() -> None:
    """Remove temp dirs of control planes whose owning process died without cleaning up
    (e.g. SIGKILL; its children were killed by PR_SET_PDEATHSIG).  Kept dirs stay."""
    for d in Path(tempfile.gettempdir()).glob(WORKDIR_PREFIX + "*"):
        try:
            owner = json.loads((d / "owner.json").read_text())
        except (OSError, ValueError):
            continue
        if owner.get("keep"):
            continue
        try:
            os.kill(int(owner["pid"]), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (PermissionError, KeyError, ValueError):
            pass


# --------------------------------------------------------------------------- processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    args: list[str] = field(default_factory=list)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, n: int = 40) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # the group may hold more processes than the leader
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


@dataclass
class ControlPlane:
    """A running (or to-be-started) loopback control plane.

    Attributes of interest once started: ``kubeconfig``, ``context``,
    ``server``, ``token``, ``ca_file``, ``bin_dir``, ``helm``,
    ``rollouts_crds_dir``, ``versions``.
    """

    build_dir: Path
    nodes: int = 2
    workdir: Path | None = None
    keep_workdir: bool = False
    log: Any = field(default=lambda msg: print(msg, file=sys.stderr, flush=True))

    context: str = CONTEXT
    server: str = ""
    token: str = ""
    procs: list[Proc] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    startup_seconds: float = 0.0
    _own_workdir: bool = False
    _stopped: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_cache(cls, **kw: Any) -> ControlPlane:
        d = _build.build_dir()
        if not _build.is_built(d):
            raise ClusterError(f"control-plane binaries not built (expected in {d}); "
                               "run `scripts/testcluster build`")
        return cls(build_dir=d, **kw)

    @property
    def bin_dir(self) -> Path:
        return self.build_dir / "bin"

    @property
    def helm(self) -> Path:
        return self.bin_dir / "helm"

    @property
    def rollouts_crds_dir(self) -> Path:
        return self.build_dir / "rollouts-crds"

    @property
    def kwok_stages(self) -> Path:
        return self.build_dir / "kwok-stages.yaml"

    @property
    def versions(self) -> dict[str, str]:
        return _build.read_manifest(self.build_dir)["versions"]

    @property
    def kubeconfig(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "kubeconfig"

    @property
    def ca_file(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "pki" / "ca.crt"

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ lifecycle

    def _spawn(self, name: str, args: list[str]) -> Proc:
        assert self.workdir is not None
        logf = self.workdir / "logs" / f"{name}.log"
        fh = open(logf, "ab")  # noqa: SIM115 - handed to the child
        try:
            p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                 cwd=self.workdir, start_new_session=True,
                                 preexec_fn=_pdeathsig if sys.platform.startswith("linux") else None,
                                 env=self._child_env())
        finally:
            fh.close()
        proc = Proc(name, p, logf, list(args))
        self.procs.append(proc)
        return proc

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KUBECONFIG", "HELM_", "http_proxy", "https_proxy",
                                    "HTTP_PROXY", "HTTPS_PROXY"))}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["HOME"] = str(self.workdir)
        return env

    def start(self, timeout: float = 120.0) -> ControlPlane:
        t0 = time.monotonic()
        deadline = t0 + timeout
        if self.workdir is None:
            sweep_stale_workdirs()
            self.workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
            self._own_workdir = True
            (self.workdir / "owner.json").write_text(json.dumps({"pid": os.getpid(),
                                                                 "keep": self.keep_workdir}))
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        (self.workdir / "pki").mkdir(exist_ok=True)
        atexit.register(self.stop)
        try:
            self._start(deadline)
        except BaseException:
            self._dump_logs()
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        self.log(f"testcluster: control plane up in {self.startup_seconds:.1f}s "
                 f"(server {self.server}, kubeconfig {self.kubeconfig})")
        return self

    def _start(self, deadline: float) -> None:
        wd = self.workdir
        assert wd is not None
        pki = make_pki(wd / "pki")
        self.token = secrets.token_hex(24)
        (wd / "tokens.csv").write_text(f'{self.token},pyvela-admin,pyvela-admin,"system:masters"\n')
        (wd / "tokens.csv").chmod(0o600)
        kube = str(self.bin_dir / "kube")
        for n in ("etcd", "etcd-peer", "apiserver", "kcm", "scheduler", "kwok", "rollouts-metrics",
                  "rollouts-healthz"):
            self.ports[n] = free_port()
        self.server = f"https://{LOOPBACK}:{self.ports['apiserver']}"
        write_kubeconfig(self.kubeconfig, self.server, pki["ca.crt"].read_bytes(), self.token)

        # etcd ------------------------------------------------------------------
        etcd_url = f"http://{LOOPBACK}:{self.ports['etcd']}"
        peer_url = f"http://{LOOPBACK}:{self.ports['etcd-peer']}"
        etcd = self._spawn("etcd", [
            str(self.bin_dir / "etcd"), "--name=pyvela", f"--data-dir={wd / 'etcd'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=pyvela={peer_url}", "--initial-cluster-state=new",
            "--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=4294967296",
        ])
        self._wait("etcd", lambda: self._http_ok(f"{etcd_url}/health"), deadline, etcd)

        # kube-apiserver --------------------------------------------------------
        apiserver = self._spawn("kube-apiserver", [
            kube, "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            f"--bind-address={LOOPBACK}", f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.ports['apiserver']}",
            f"--cert-dir={wd / 'pki'}",
            f"--tls-cert-file={pki['apiserver.crt']}", f"--tls-private-key-file={pki['apiserver.key']}",
            f"--client-ca-file={pki['ca.crt']}",
            f"--token-auth-file={wd / 'tokens.csv'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki['sa.pub']}",
            f"--service-account-signing-key-file={pki['sa.key']}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            # aggregation layer / request-header auth, as kubeadm sets it up
            f"--requestheader-client-ca-file={pki['front-proxy-ca.crt']}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki['front-proxy-client.crt']}",
            f"--proxy-client-key-file={pki['front-proxy-client.key']}",
            "--profiling=false",
            # the `kubernetes` Service would point at 127.0.0.1, which Endpoints
            # validation rejects; nothing in-cluster needs it (pods are fake)
            "--endpoint-reconciler-type=none",
            "--v=1",
        ])
        self._wait("kube-apiserver /readyz", lambda: self._api_ok("/readyz"), deadline, apiserver)

        # controller manager + scheduler -----------------------------------------
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
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--controllers=*", "--profiling=false", "--v=1",
        ])
        scheduler = self._spawn("kube-scheduler", [
            kube, "kube-scheduler",
            f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
            f"--bind-address={LOOPBACK}", f"--secure-port={self.ports['scheduler']}",
            f"--cert-dir={wd / 'pki' / 'scheduler'}",
            "--leader-elect=false", "--profiling=false", "--v=1",
        ])

        # kwok + fake nodes -----------------------------------------------------
        kwok = self._spawn("kwok", [
            str(self.bin_dir / "kwok"), f"--kubeconfig={kc}",
            f"--config={self.kwok_stages}",
            # pyvela's own stages (Pods stuck in ImagePullBackOff...): not built, so not in the cache key
            *(f"--config={p}" for p in sorted((Path(__file__).resolve().parent / "stages").glob("*.yaml"))),
            f"--config={write_podio_config(wd)}",
            "--manage-all-nodes=true",
            f"--server-address={LOOPBACK}:{self.ports['kwok']}",
            # The nodes' kubelet is kwok's own server: the API server proxies pods/log, exec and
            # portforward to it (HTTPS, kwok's own certificate: the API server does not verify
            # a kubelet's certificate unless --kubelet-certificate-authority is set).
            f"--node-ip={LOOPBACK}", f"--node-port={self.ports['kwok']}",
            f"--cidr={POD_CIDR}",
            "--node-lease-duration-seconds=40",
        ])
        for i in range(self.nodes):
            self._create_node(f"kwok-node-{i}")

        # Argo Rollouts: CRDs, then the controller --------------------------------
        crd_names = []
        for f in sorted(self.rollouts_crds_dir.glob("*.yaml")):
            for doc in yaml.safe_load_all(f.read_text()):
                if doc:
                    self.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", doc)
                    crd_names.append(doc["metadata"]["name"])
        self.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "argo-rollouts"}})
        self._wait("Argo Rollouts CRDs established",
                   lambda: all(self._crd_established(n) for n in crd_names), deadline)
        rollouts = self._spawn("argo-rollouts", [
            str(self.bin_dir / "rollouts-controller"), f"--kubeconfig={kc}",
            "--leader-elect=false", "--namespaced=false",
            f"--metricsPort={self.ports['rollouts-metrics']}",
            f"--healthzPort={self.ports['rollouts-healthz']}",
            "--loglevel=info",
        ])

        # everything healthy -----------------------------------------------------
        self._wait("kube-scheduler /healthz",
                   lambda: self._http_ok(f"https://{LOOPBACK}:{self.ports['scheduler']}/healthz",
                                         verify=False), deadline, scheduler)
        self._wait("kube-controller-manager /healthz",
                   lambda: self._http_ok(f"https://{LOOPBACK}:{self.ports['kcm']}/healthz",
                                         verify=False), deadline, kcm)
        self._wait("default service account", lambda: self._api_ok(
            "/api/v1/namespaces/default/serviceaccounts/default"), deadline, kcm)
        self._wait(f"{self.nodes} kwok node(s) Ready", self._nodes_ready, deadline, kwok)
        self._wait("argo-rollouts /healthz", lambda: self._http_ok(
            f"http://{LOOPBACK}:{self.ports['rollouts-healthz']}/healthz"), deadline, rollouts)
        for p in self.procs:
            if not p.alive():
                raise ClusterError(f"{p.name} exited with {p.popen.returncode}:\n{p.tail()}")

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        for p in reversed(self.procs):
            p.stop()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._own_workdir and self.workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def process(self, name: str) -> Proc:
        """The running process called ``name`` (etcd, kube-apiserver, kube-controller-manager,
        kube-scheduler, kwok, argo-rollouts)."""
        return next(p for p in self.procs if p.name == name)

    def restart(self, name: str, down: float = 0.0, kill: bool = True, timeout: float = 90.0) -> float:
        """Stop one component (SIGKILL, like a crash, unless ``kill=False``), wait ``down``
        seconds, start it again with the same arguments and wait until it is healthy.
        Returns the downtime in seconds.

        Call it from the main thread: children die with the *thread* that spawned them
        (PR_SET_PDEATHSIG is per thread), so a restart from a worker thread is killed
        as soon as that thread ends."""
        old = self.process(name)
        t0 = time.monotonic()
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(old.popen.pid, signal.SIGKILL)
        old.stop()
        self.procs.remove(old)
        time.sleep(down)
        new = self._spawn(name, old.args)
        deadline = time.monotonic() + timeout
        if name == "kube-apiserver":
            self._wait("kube-apiserver /readyz after restart", lambda: self._api_ok("/readyz"), deadline, new)
        elif name == "etcd":
            self._wait("etcd after restart", lambda: self._http_ok(
                f"http://{LOOPBACK}:{self.ports['etcd']}/health"), deadline, new)
        else:
            time.sleep(0.5)
            self.check_alive()
        return time.monotonic() - t0

    def check_alive(self) -> None:
        dead = [p for p in self.procs if not p.alive()]
        if dead:
            raise ClusterError("; ".join(f"{p.name} exited with {p.popen.returncode}:\n{p.tail()}"
                                         for p in dead))

    def _dump_logs(self) -> None:
        for p in self.procs:
            self.log(f"----- {p.name} (pid {p.popen.pid}, rc {p.popen.poll()}) log tail -----\n{p.tail()}")

    # ------------------------------------------------------------------ waiting

    def _wait(self, what: str, cond: Any, deadline: float, proc: Proc | None = None) -> None:
        t0 = time.monotonic()
        last_exc: Exception | None = None
        while True:
            if proc is not None and not proc.alive():
                raise ClusterError(f"{proc.name} exited with {proc.popen.returncode} while waiting "
                                   f"for {what}:\n{proc.tail()}")
            try:
                if cond():
                    self.log(f"testcluster: {what}: ok after {time.monotonic() - t0:.1f}s")
                    return
            except Exception as e:  # noqa: BLE001 - keep polling
                last_exc = e
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out waiting for {what} (last error: {last_exc!r})")
            time.sleep(0.2)

    # ------------------------------------------------------------------ API access

    def _ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    @staticmethod
    def _http_ok(url: str, verify: bool = True) -> bool:
        ctx = None
        if url.startswith("https") and not verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx))
        try:
            with opener.open(url, timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def api(self, method: str, path: str, body: Any = None, ok404: bool = False) -> Any:
        """Minimal authenticated API call; returns decoded JSON (None for 404 if ok404)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            "Accept": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self._ssl()))
        try:
            with opener.open(req, timeout=10) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404 and ok404:
                return None
            raise ClusterError(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from e
        return json.loads(raw) if raw and raw.lstrip()[:1] in (b"{", b"[") else raw.decode()

    def _api_ok(self, path: str) -> bool:
        try:
            return self.api("GET", path, ok404=True) not in (None, "")
        except ClusterError:
            return False

    def _crd_established(self, name: str) -> bool:
        crd = self.api("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        return any(c["type"] == "Established" and c["status"] == "True"
                   for c in crd.get("status", {}).get("conditions", []))

    def _create_node(self, name: str) -> None:
        self.api("POST", "/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "annotations": {"kwok.x-k8s.io/node": "fake",
                                         "node.alpha.kubernetes.io/ttl": "0"},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                                    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                                    "kubernetes.io/role": "agent", "node-role.kubernetes.io/agent": ""}},
            "spec": {},
        })

    def _nodes_ready(self) -> bool:
        items = self.api("GET", "/api/v1/nodes")["items"]
        ready = [n for n in items if any(c["type"] == "Ready" and c["status"] == "True"
                                         for c in n.get("status", {}).get("conditions", []))]
        return len(ready) >= self.nodes


PODIO_DIR = Path(__file__).resolve().parent / "podio"


def write_podio_config(workdir: Path) -> Path:
    """kwok's ClusterLogs, ClusterExec and ClusterPortForward for every Pod (written per run:
    kwok wants the log file's absolute path).

    Logs: ``podio/container.log`` (CRI log format, fixed times), followed. Exec: the command
    runs on this machine, in a directory of the workdir, with ``KWOK_EXEC=1``. Port-forward:
    every port of every Pod is ``cat``, an echo server (no port to agree on, nothing dialled).
    """
    exec_dir = workdir / "exec"
    exec_dir.mkdir(exist_ok=True)
    docs = [
        {"kind": "ClusterLogs", "apiVersion": "kwok.x-k8s.io/v1alpha1",
         "metadata": {"name": "pyvela-test-logs"},
         "spec": {"logs": [{"logsFile": str(PODIO_DIR / "container.log"), "follow": True}]}},
        {"kind": "ClusterExec", "apiVersion": "kwok.x-k8s.io/v1alpha1",
         "metadata": {"name": "pyvela-test-exec"},
         "spec": {"execs": [{"local": {"workDir": str(exec_dir),
                                       "envs": [{"name": "KWOK_EXEC", "value": "1"}]}}]}},
        {"kind": "ClusterPortForward", "apiVersion": "kwok.x-k8s.io/v1alpha1",
         "metadata": {"name": "pyvela-test-port-forward"},
         "spec": {"forwards": [{"command": ["cat"]}]}},
    ]
    path = workdir / "kwok-podio.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return path


# --------------------------------------------------------------------------- CLI helpers


def run_foreground(nodes: int = 2, ready_file: Path | None = None, keep: bool = False) -> int:
    """Start, print how to use it, block until SIGINT/SIGTERM, then stop."""
    cp = ControlPlane.from_cache(nodes=nodes, keep_workdir=keep)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        cp.start()
        info = {"kubeconfig": str(cp.kubeconfig), "context": cp.context, "server": cp.server,
                "bin_dir": str(cp.bin_dir), "helm": str(cp.helm), "workdir": str(cp.workdir),
                "rollouts_crds_dir": str(cp.rollouts_crds_dir), "pid": os.getpid(),
                "startup_seconds": round(cp.startup_seconds, 1)}
        print(f"export KUBECONFIG={cp.kubeconfig}", flush=True)
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
