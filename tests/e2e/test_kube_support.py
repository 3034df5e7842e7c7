"""Shared helpers and fixtures of the Kubernetes backend's e2e tests (this module has no tests).

Everything talks to 127.0.0.1 only: the control plane, the loopback chart repository and
the loopback Apollo server. Pod and Service IPs are fake and never dialled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from apollo_server import DEFAULT_TOKEN, ApolloServer, start_apollo_server  # noqa: E402
from chartrepo import CHARTS_DIR, ChartRepo  # noqa: E402

from pyvela._backends.kube.backend import KubeBackend  # noqa: E402
from pyvela._core.objects import ObjectRef  # noqa: E402

APP_ID = "lixiang-app"
SEED_APP = ROOT / "apps" / "lixiang.py"
BITNAMI = "https://charts.bitnami.com/bitnami"


def connect(cluster: Any) -> KubeBackend:
    return KubeBackend.connect(kubeconfig=cluster.kubeconfig, context=cluster.context)


def new_namespace(kube: KubeBackend, prefix: str = "e2e") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def control_plane(cluster: Any) -> Any:
    """The launcher's ControlPlane behind ``cluster`` (None for an external cluster)."""
    return cluster.control_plane


@dataclass
class Seed:
    """The seed app's surroundings: chart repo, Apollo, helm homes, and the CLI."""

    cluster: Any
    repo: ChartRepo
    apollo: ApolloServer
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def write_app(
        self,
        namespace: str,
        *,
        proxy_image: str = "nginx:1.14.2",
        with_redis: bool = True,
        name: str | None = None,
        replace: dict[str, str] | None = None,
    ) -> Path:
        """A copy of apps/lixiang.py deploying into ``namespace`` from the loopback chart repo."""
        src = SEED_APP.read_text().replace(BITNAMI, self.repo.url)
        src = src.replace('    "lixiang-app",\n', f'    "lixiang-app",\n    namespace="{namespace}",\n')
        proxy = 'proxy_service("proxy-service", image="nginx:1.14.2"'
        assert proxy in src, "the seed app changed: update the e2e test's rewrite"
        src = src.replace(proxy, f'proxy_service("proxy-service", image="{proxy_image}"')
        if not with_redis:
            src = src.replace("components=[base, redis, proxy]", "components=[base, proxy]")
            src = src.replace(
                "workflow=[apply_base_service, apply_redis, apply_proxy_service]",
                "workflow=[apply_base_service, apply_proxy_service]",
            )
        for old, new in (replace or {}).items():
            assert old in src, old
            src = src.replace(old, new)
        path = self.home / "apps" / (name or f"{namespace}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
        return path

    def argv(self, command: str, app: Path, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pyvela",
            command,
            str(app),
            *extra,
            "--kubeconfig",
            self.cluster.kubeconfig,
            "--context",
            self.cluster.context,
            "-o",
            "json",
        ]

    def cli(self, command: str, app: Path, *extra: str, timeout: float = 240) -> tuple[int, Any, str]:
        """Run ``pyvela COMMAND APP ... -o json``: (exit code, parsed JSON or None, stderr)."""
        proc = subprocess.run(
            self.argv(command, app, *extra),
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else None
        except ValueError:
            data = None
        return proc.returncode, data, proc.stderr

    def popen(self, command: str, app: Path, *extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(command, app, *extra),
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def helm(self, *args: str) -> str:
        proc = subprocess.run(
            [
                self.env["PYVELA_HELM"],
                *args,
                "--kubeconfig",
                self.cluster.kubeconfig,
                "--kube-context",
                self.cluster.context,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


@pytest.fixture(scope="module")
def seed(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    assert kube_cluster.helm, "no helm binary (scripts/testcluster build, or helm on PATH)"
    home = tmp_path_factory.mktemp("seed")
    repo = ChartRepo(kube_cluster.helm, [CHARTS_DIR / "redis-cluster"]).start()
    apollo = start_apollo_server(app_ids=[APP_ID])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYVELA_APOLLO_", "KUBECONFIG", "HELM_"))}
    env.update(
        kube_cluster.helm_env(home / "helm"),
        PYVELA_HELM=str(kube_cluster.helm),
        PYVELA_APOLLO_PORTAL_URL=apollo.url,
        PYVELA_APOLLO_CONFIG_URL=apollo.url,
        PYVELA_APOLLO_TOKEN=DEFAULT_TOKEN,
        PYTHONPATH=str(ROOT),
    )
    env.pop("KUBECONFIG", None)  # pyvela is told the kubeconfig explicitly
    try:
        yield Seed(kube_cluster, repo, apollo, home, env)
    finally:
        apollo.stop()
        repo.stop()


@pytest.fixture(scope="module")
def kube(kube_cluster: Any) -> Iterator[KubeBackend]:
    backend = connect(kube_cluster)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def namespace(kube: KubeBackend, kube_cluster: Any) -> Iterator[str]:
    name = new_namespace(kube)
    yield name
    kube_cluster.check()
    plane = control_plane(kube_cluster)
    if plane is not None:
        plane.check_alive()
    kube.delete(ObjectRef("v1", "Namespace", "", name), wait=False)


class Promoter:
    """Plays the operator of Argo Rollouts: promotes a Rollout whenever it pauses on a step.

    The seed's proxy-service pauses indefinitely (``pause: {}``) after the 50% canary step
    of an update; ``kubectl argo rollouts promote`` clears ``status.pauseConditions``.
    """

    def __init__(self, kube: KubeBackend, namespace: str, name: str = "proxy-service") -> None:
        import threading

        self.kube, self.ref = kube, ObjectRef("argoproj.io/v1alpha1", "Rollout", namespace, name)
        self.promotions = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="promoter", daemon=True)

    def __enter__(self) -> Promoter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        path = f"/apis/argoproj.io/v1alpha1/namespaces/{self.ref.namespace}/rollouts/{self.ref.name}/status"
        while not self._stop.wait(0.2):  # a test's operator may poll
            try:
                live = self.kube.get(self.ref)
            except Exception:
                continue
            if live and (live.get("status") or {}).get("pauseConditions"):
                code, _ = self.kube.call(
                    "PATCH",
                    path,
                    body={"status": {"pauseConditions": None}},
                    content_type="application/merge-patch+json",
                    what=str(self.ref),
                )
                self.promotions += code == 200
