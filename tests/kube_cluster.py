"""End-to-end fixtures (a pytest plugin loaded by tests/conftest.py): a real Kubernetes
control plane on 127.0.0.1, shared by tests/e2e and the contract tests.

``kube_cluster`` (session scope) starts etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok (fake nodes) and the Argo
Rollouts controller from the binaries built by ``scripts/testcluster build``
(see docs/testing.md), or uses the cluster of ``$PYVELA_TEST_KUBECONFIG``.

When the binaries are missing the fixture skips (how to build them is in the
message) -- except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CLUSTER_DIR = ROOT / "tests" / "cluster"
CHARTS_DIR = ROOT / "tests" / "charts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: needs the real Kubernetes control plane (tests/cluster)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent / "e2e"
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _load(name: str, path: Path) -> Any:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def load_launcher() -> Any:
    return _load("pyvela_testcluster_launcher", CLUSTER_DIR / "launcher.py")


def find_helm() -> str | None:
    """The helm binary: ``$PYVELA_HELM``, PATH, or the test control plane's build cache."""
    found = os.environ.get("PYVELA_HELM") or shutil.which("helm")
    if found:
        return found
    try:
        build = load_launcher()._build
        built = build.build_dir()
        return str(built / "bin" / "helm") if build.is_built(built) else None
    except Exception:
        return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(msg: str) -> None:
    if _in_ci():
        pytest.fail(f"e2e control plane unavailable under CI: {msg}", pytrace=False)
    pytest.skip(msg)


@dataclass(frozen=True)
class KubeCluster:
    """What a test needs to talk to the cluster.  Everything is on 127.0.0.1."""

    kubeconfig: str
    context: str
    server: str
    bin_dir: Path | None
    helm: str | None
    rollouts_crds_dir: Path | None
    external: bool = False
    control_plane: Any = None  # launcher.ControlPlane when started here

    def api_client(self) -> Any:
        """A fresh ``kubernetes.client.ApiClient`` for this cluster."""
        from kubernetes import config

        return config.new_client_from_config(config_file=self.kubeconfig, context=self.context)

    def helm_env(self, home: Path) -> dict[str, str]:
        """Environment for running ``self.helm`` with its state kept under ``home``."""
        env = dict(os.environ)
        env.update(
            HELM_CACHE_HOME=str(home / "cache"),
            HELM_CONFIG_HOME=str(home / "config"),
            HELM_DATA_HOME=str(home / "data"),
            KUBECONFIG=self.kubeconfig,
            HELM_KUBECONTEXT=self.context,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    def check(self) -> None:
        """Raise if a process of the locally started control plane has died."""
        if self.control_plane is not None:
            self.control_plane.check_alive()


def _external(path: str) -> KubeCluster:
    cfg = yaml.safe_load(Path(path).read_text())
    context = os.environ.get("PYVELA_TEST_CONTEXT") or cfg.get("current-context")
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == context)
    server = next(c["cluster"]["server"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    bin_dir = crds = None
    helm = shutil.which("helm")
    try:
        build = load_launcher()._build
        d = build.build_dir()
        if build.is_built(d):
            bin_dir, crds, helm = d / "bin", d / "rollouts-crds", str(d / "bin" / "helm")
    except Exception:
        pass
    return KubeCluster(
        kubeconfig=path,
        context=context,
        server=server,
        bin_dir=bin_dir,
        helm=helm,
        rollouts_crds_dir=crds,
        external=True,
    )


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[KubeCluster]:
    ext = os.environ.get("PYVELA_TEST_KUBECONFIG")
    if ext:
        yield _external(ext)
        return
    launcher = load_launcher()
    build = launcher._build
    if build.find_go() is None:
        _unavailable(
            "Go is not installed, so the e2e control plane cannot be built "
            "(install Go >= 1.26 and run `scripts/testcluster build`, "
            "or set PYVELA_TEST_KUBECONFIG to a cluster)"
        )
    d = build.build_dir()
    if not build.is_built(d):
        _unavailable(
            f"e2e control-plane binaries are not built ({d}): run `scripts/testcluster build` "
            "(about 16 min cold on 2 cores, seconds when warm), or set PYVELA_TEST_KUBECONFIG"
        )
    cp = launcher.ControlPlane(
        build_dir=d,
        nodes=int(os.environ.get("PYVELA_TEST_NODES", "2")),
        keep_workdir=bool(os.environ.get("PYVELA_TEST_KEEP_CLUSTER")),
    )
    # SIGTERM (e.g. `timeout`) would end pytest without teardown: turn it into an
    # interrupt so the control plane is stopped and its temp dir removed.
    old = signal.getsignal(signal.SIGTERM)
    if old is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        cp.start()
        yield KubeCluster(
            kubeconfig=str(cp.kubeconfig),
            context=cp.context,
            server=cp.server,
            bin_dir=cp.bin_dir,
            helm=str(cp.helm),
            rollouts_crds_dir=cp.rollouts_crds_dir,
            control_plane=cp,
        )
    finally:
        cp.stop()
        if old is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, old)


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
