"""A chart from a repository that wants basic auth (a loopback repository on 127.0.0.1),
its credentials in a Kubernetes Secret (stdlib ``helm``'s ``secret_ref``).

The release installs with the Secret's credentials (the repository saw them); the password
shows nowhere: not in pyvela's output, its state record, helm's release or an error; a
wrong password or a missing Secret fails the deploy saying so.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from tests.chartrepo import CHARTS_DIR, ChartRepo

kube, namespace = support.kube, support.namespace  # fixtures
ROOT = support.ROOT
USER, PASSWORD = "chart-reader", f"pw-{uuid.uuid4().hex}"
APP = """
from pyvela import Application
from pyvela.stdlib import helm

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[
        helm("cache", url="{repo}", chart="redis-cluster", version="6.2.7", secret_ref="{secret}",
             values={{"cluster": {{"nodes": 1}}}}),
    ],
)
"""


@pytest.fixture(scope="module")
def repo(kube_cluster: Any) -> Iterator[ChartRepo]:
    assert kube_cluster.helm, "no helm binary (scripts/testcluster build)"
    with ChartRepo(kube_cluster.helm, [CHARTS_DIR / "redis-cluster"], auth=(USER, PASSWORD)) as served:
        yield served


def _secret(kube: KubeBackend, namespace: str, name: str, password: str) -> None:
    data = {"username": USER, "password": password}
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


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


def _deploy(cluster: Any, tmp: Path, namespace: str, repo: ChartRepo, secret: str) -> tuple[str, Path, Any]:
    name = f"auth-{uuid.uuid4().hex[:6]}"
    app = tmp / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace, repo=repo.url, secret=secret))
    return name, app, _cli(cluster, tmp / "helm", "deploy", str(app), "--defs", "pyvela.stdlib", "-o", "json")


def test_a_chart_from_a_basic_auth_repository(
    kube_cluster: Any, kube: KubeBackend, namespace: str, repo: ChartRepo, tmp_path: Path
) -> None:
    _secret(kube, namespace, "chart-creds", PASSWORD)
    name, app, done = _deploy(kube_cluster, tmp_path, namespace, repo, "chart-creds")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"]
    sent = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert sent in repo.seen_auth  # helm authenticated with the Secret's credentials

    status = _cli(
        kube_cluster, tmp_path / "helm", "status", str(app), "--defs", "pyvela.stdlib", "-o", "json"
    )
    assert status.returncode == 0, status.stderr
    target = ["--kubeconfig", kube_cluster.kubeconfig, "--kube-context", kube_cluster.context]
    releases = subprocess.run(
        [str(kube_cluster.helm), "get", "all", "cache", "-n", namespace, *target],
        env={**os.environ, **kube_cluster.helm_env(tmp_path / "helm")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert releases.returncode == 0, releases.stderr
    state = [
        base64.b64decode(s["data"]["state"])
        for s in kube.list("v1", "Secret", namespace)
        if s["metadata"]["name"].startswith(f"pyvela-app.{name}") and "state" in (s.get("data") or {})
    ]
    assert state
    for text in (done.stdout, done.stderr, status.stdout, status.stderr, releases.stdout):
        assert PASSWORD not in text and sent not in text
    for raw in state:
        assert PASSWORD.encode() not in gzip.decompress(raw)


def test_wrong_or_missing_credentials_fail_the_deploy_without_showing_them(
    kube_cluster: Any, kube: KubeBackend, namespace: str, repo: ChartRepo, tmp_path: Path
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    _secret(kube, namespace, "bad-creds", wrong)
    _name, _app, done = _deploy(kube_cluster, tmp_path, namespace, repo, "bad-creds")
    assert done.returncode == 1
    assert "chart repository" in done.stdout and "401" in done.stdout, done.stdout
    assert wrong not in done.stdout + done.stderr

    _name, _app, done = _deploy(kube_cluster, tmp_path, namespace, repo, "no-such-secret")
    assert done.returncode == 1
    assert (
        f"the Secret {namespace}/no-such-secret (the chart repository's credentials) does not exist"
        in done.stdout
    )
