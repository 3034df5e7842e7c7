"""``pyvela diff`` of a Helm component on the real control plane: the chart's own objects.

The chart is served with basic auth by a loopback repository, its credentials in a Secret
(``secret_ref``). Before the deploy, diff shows the chart's objects to be created (exit 1, as
``kubectl diff``); after ``helm upgrade --install`` made them, nothing changes (exit 0); a
values change shows the one object it changes (exit 1). The password shows nowhere.
``--no-charts`` shows the release alone; an unreachable repository is one warning, and an
error with ``--strict`` (exit 2).
"""

from __future__ import annotations

import base64
import json
import os
import socket
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
        helm("cache", url="{repo}", chart="redis-cluster", version="6.2.7", secret_ref="chart-creds",
             values={{"replicas": {replicas}}}),
    ],
)
"""
CHART = {"Service {ns}/cache-redis-cluster", "Service {ns}/cache-redis-cluster-headless"}
STS = "StatefulSet {ns}/cache-redis-cluster"


@pytest.fixture(scope="module")
def repo(kube_cluster: Any) -> Iterator[ChartRepo]:
    assert kube_cluster.helm, "no helm binary (scripts/testcluster build)"
    with ChartRepo(kube_cluster.helm, [CHARTS_DIR / "redis-cluster"], auth=(USER, PASSWORD)) as served:
        yield served


def _cli(cluster: Any, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "HELM_", "PYVELA_APOLLO_"))}
    env.update(cluster.helm_env(home), PYVELA_HELM=str(cluster.helm), PYTHONPATH=str(ROOT))
    env["PYVELA_HELM_TEMPLATE_TIMEOUT"] = "5"
    target = ["--kubeconfig", cluster.kubeconfig, "--context", cluster.context]
    argv = [sys.executable, "-m", "pyvela", *args, "--defs", "pyvela.stdlib", *target]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _write(tmp: Path, name: str, namespace: str, url: str, replicas: int) -> Path:
    app = tmp / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace, repo=url, replicas=replicas))
    return app


def _items(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {c["object"]: c for c in json.loads(done.stdout)}


def _secret(kube: KubeBackend, namespace: str) -> None:
    data = {"username": USER, "password": PASSWORD}
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "chart-creds", "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


def test_diff_shows_the_charts_objects_before_and_after_the_deploy(
    kube_cluster: Any, kube: KubeBackend, namespace: str, repo: ChartRepo, tmp_path: Path
) -> None:
    _secret(kube, namespace)
    name, home = f"hdiff-{uuid.uuid4().hex[:6]}", tmp_path / "helm"
    chart = {o.format(ns=namespace) for o in CHART} | {STS.format(ns=namespace)}
    sts = STS.format(ns=namespace)
    app = _write(tmp_path, name, namespace, repo.url, 1)
    sent = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    before = _cli(kube_cluster, home, "diff", str(app), "-o", "json")
    assert before.returncode == 1, before.stdout + before.stderr  # differences, as kubectl diff
    items = _items(before)
    assert chart <= set(items), before.stdout
    assert {items[o]["change"] for o in chart} == {"create"}
    assert items[sts]["note"] == f"from chart redis-cluster-6.2.7 of release {namespace}/cache"
    assert "+  replicas: 1" in items[sts]["diff"]
    assert sent in repo.seen_auth  # helm template was given the Secret's credentials

    done = _cli(kube_cluster, home, "deploy", str(app), "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    same = _cli(kube_cluster, home, "diff", str(app), "-o", "json")
    assert same.returncode == 0, same.stdout + same.stderr  # helm made them as the diff showed
    assert {c["change"] for c in json.loads(same.stdout)} == {"unchanged"}
    assert chart <= set(_items(same))

    changed_app = _write(tmp_path, name, namespace, repo.url, 2)
    changed = _cli(kube_cluster, home, "diff", str(changed_app), "-o", "json")
    assert changed.returncode == 1, changed.stdout + changed.stderr
    items = _items(changed)
    updates = {o for o, c in items.items() if c["change"] != "unchanged"}
    assert updates == {sts, f"HelmRelease {namespace}/cache"}, changed.stdout
    assert "-  replicas: 1" in items[sts]["diff"] and "+  replicas: 2" in items[sts]["diff"]
    text = _cli(kube_cluster, home, "diff", str(changed_app))
    assert text.returncode == 1 and f"   update  {sts}  (from chart redis-cluster-6.2.7" in text.stdout

    alone = _cli(kube_cluster, home, "diff", str(changed_app), "-o", "json", "--no-charts")
    assert alone.returncode == 1
    assert not chart & set(_items(alone))
    assert "its chart was not opened (--no-charts)" in alone.stderr
    for out in (before, done, same, changed, text, alone):
        assert PASSWORD not in out.stdout + out.stderr and sent not in out.stdout + out.stderr


def test_an_unreachable_repository_warns_and_strict_makes_it_an_error(
    kube_cluster: Any, kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    _secret(kube, namespace)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    app = _write(tmp_path, f"hgone-{uuid.uuid4().hex[:6]}", namespace, f"http://127.0.0.1:{port}", 1)
    done = _cli(kube_cluster, tmp_path / "helm", "diff", str(app), "-o", "json")
    assert done.returncode == 1, done.stderr  # the release itself is still to be created
    assert {c["object"] for c in json.loads(done.stdout)} == {f"HelmRelease {namespace}/cache"}
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(
        f"warning: component 'cache': HelmRelease {namespace}/cache: cannot open the chart redis-cluster "
        f"6.2.7 from http://127.0.0.1:{port}"
    ), done.stderr
    strict = _cli(kube_cluster, tmp_path / "helm", "diff", str(app), "--strict")
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert strict.stderr.startswith("error: component 'cache': the chart was not opened"), strict.stderr
