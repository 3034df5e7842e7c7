"""``atomic`` Helm releases (stdlib ``helmchart``'s ``options.atomic``) on the real control plane.

An upgrade the API server refuses (a StatefulSet with ``replicas: -1``) leaves helm's
revision 2 failed; pyvela rolls the release back to revision 1 with ``helm rollback`` and
the step says so. A first install that fails is uninstalled. Without ``atomic`` the failed
revision stays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

kube, namespace = support.kube, support.namespace  # fixtures
ROOT = support.ROOT
CHART = support.CHARTS_DIR / "redis-cluster"
APP = """
from pyvela import Application
from pyvela.stdlib import ChartOptions, ChartSource, helmchart

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[
        helmchart("cache", chart=ChartSource(source="{chart}"), values={{"replicas": {replicas}}},
                  options=ChartOptions(atomic={atomic})),
    ],
)
"""


def _cli(cluster: Any, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "HELM_", "PYVELA_APOLLO_"))}
    env.update(cluster.helm_env(home), PYVELA_HELM=str(cluster.helm), PYTHONPATH=str(ROOT))
    argv = [
        sys.executable,
        "-m",
        "pyvela",
        *args,
        "--kubeconfig",
        cluster.kubeconfig,
        "--context",
        cluster.context,
    ]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _history(cluster: Any, home: Path, namespace: str) -> list[tuple[int, str, str]]:
    target = ["--kubeconfig", cluster.kubeconfig, "--kube-context", cluster.context]
    done = subprocess.run(
        [str(cluster.helm), "history", "cache", "-n", namespace, "-o", "json", *target],
        env={**os.environ, **cluster.helm_env(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        assert "not found" in done.stderr, done.stderr
        return []
    return [(r["revision"], r["status"], r["description"]) for r in json.loads(done.stdout)]


def _deploy(cluster: Any, home: Path, app: Path, namespace: str, *, replicas: int, atomic: bool) -> Any:
    name = app.stem
    app.write_text(APP.format(name=name, namespace=namespace, chart=CHART, replicas=replicas, atomic=atomic))
    return _cli(cluster, home, "deploy", str(app), "--defs", "pyvela.stdlib", "-o", "json")


def test_a_failed_atomic_upgrade_is_rolled_back(kube_cluster: Any, namespace: str, tmp_path: Path) -> None:
    home, app = tmp_path / "helm", tmp_path / f"atomic-{uuid.uuid4().hex[:6]}.py"
    done = _deploy(kube_cluster, home, app, namespace, replicas=1, atomic=True)
    assert done.returncode == 0, done.stdout + done.stderr
    done = _deploy(kube_cluster, home, app, namespace, replicas=-1, atomic=True)
    assert done.returncode == 1
    assert "atomic: rolled back to revision 1 (helm rollback)" in done.stdout, done.stdout
    assert "replicas" in done.stdout  # the API server's reason is kept
    history = _history(kube_cluster, home, namespace)
    assert [(r, s) for r, s, _ in history] == [(1, "superseded"), (2, "failed"), (3, "deployed")], history
    assert history[-1][2] == "Rollback to 1"


def test_a_failed_atomic_install_is_uninstalled_and_without_atomic_stays(
    kube_cluster: Any, namespace: str, tmp_path: Path
) -> None:
    home = tmp_path / "helm"
    done = _deploy(
        kube_cluster, home, tmp_path / f"first-{uuid.uuid4().hex[:6]}.py", namespace, replicas=-1, atomic=True
    )
    assert done.returncode == 1
    assert "atomic: the failed install was uninstalled (helm uninstall)" in done.stdout, done.stdout
    assert _history(kube_cluster, home, namespace) == []

    done = _deploy(
        kube_cluster,
        home,
        tmp_path / f"plain-{uuid.uuid4().hex[:6]}.py",
        namespace,
        replicas=-1,
        atomic=False,
    )
    assert done.returncode == 1 and "atomic:" not in done.stdout
    assert [(r, s) for r, s, _ in _history(kube_cluster, home, namespace)] == [(1, "failed")]
