"""stdlib ``helm``'s ``values_from`` on the real control plane: values from a ConfigMap's
values.yaml and a Secret's key (at a target path) reach helm merged under the inline values;
a change in the ConfigMap upgrades the release; a missing ConfigMap fails the deploy."""

from __future__ import annotations

import base64
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

kube, namespace = support.kube, support.namespace  # fixtures
ChartRepo, CHARTS_DIR = support.ChartRepo, support.CHARTS_DIR
ROOT = support.ROOT
APP = """
from pyvela import Application
from pyvela.stdlib import ValuesFrom, helm

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[
        helm("cache", url="{repo}", chart="redis-cluster", version="6.2.7",
             values={{"cluster": {{"nodes": 1}}{extra}}},
             values_from=(
                 ValuesFrom(kind="ConfigMap", name="{configmap}"),
                 ValuesFrom(kind="Secret", name="cache-secret", values_key="password",
                            target_path="auth.password"),
             )),
    ],
)
"""


@pytest.fixture(scope="module")
def repo(kube_cluster: Any) -> Iterator[Any]:
    assert kube_cluster.helm, "no helm binary (scripts/testcluster build)"
    with ChartRepo(kube_cluster.helm, [CHARTS_DIR / "redis-cluster"]) as served:
        yield served


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


def _helm(cluster: Any, home: Path, *args: str) -> str:
    target = ["--kubeconfig", cluster.kubeconfig, "--kube-context", cluster.context]
    done = subprocess.run(
        [str(cluster.helm), *args, *target],
        env={**os.environ, **cluster.helm_env(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _config(kube: KubeBackend, namespace: str, text: str) -> None:
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cache-values", "namespace": namespace},
            "data": {"values.yaml": text},
        }
    )


def test_values_from_a_configmap_and_a_secret(
    kube_cluster: Any, kube: KubeBackend, namespace: str, repo: Any, tmp_path: Path
) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "cache-secret", "namespace": namespace},
            "data": {"password": base64.b64encode(secret.encode()).decode()},
        }
    )
    _config(kube, namespace, "cluster: {nodes: 3}\nmetrics: {enabled: true}\n")
    name = f"values-{uuid.uuid4().hex[:6]}"
    app = tmp_path / f"{name}.py"
    app.write_text(
        APP.format(name=name, namespace=namespace, repo=repo.url, configmap="cache-values", extra="")
    )
    home = tmp_path / "helm"
    done = _cli(kube_cluster, home, "deploy", str(app), "--defs", "pyvela.stdlib", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert secret not in done.stdout + done.stderr
    values = json.loads(_helm(kube_cluster, home, "get", "values", "cache", "-n", namespace, "-o", "json"))
    # The inline values win over the ConfigMap's; the Secret's key lands at its target path.
    assert values == {"cluster": {"nodes": 1}, "metrics": {"enabled": True}, "auth": {"password": secret}}

    # The chart's Pods are the component's (helm's release annotations on its StatefulSet).
    logs = _cli(kube_cluster, home, "logs", name, "cache", "-o", "json")
    assert logs.returncode == 0, logs.stderr
    rows = [json.loads(line) for line in logs.stdout.splitlines()]
    assert rows and {r["component"] for r in rows} == {"cache"}
    assert {r["container"] for r in rows} == {"redis"}

    # Unchanged: no upgrade. The ConfigMap changed: an upgrade with its new values.
    done = _cli(kube_cluster, home, "deploy", str(app), "--defs", "pyvela.stdlib", "-o", "json")
    assert done.returncode == 0, done.stderr
    history = json.loads(_helm(kube_cluster, home, "history", "cache", "-n", namespace, "-o", "json"))
    assert len(history) == 1
    # A new revision of the app (an inline value added) reads the ConfigMap again.
    _config(kube, namespace, "metrics: {enabled: false}\n")
    extra = ', "extra": "1"'
    app.write_text(
        APP.format(name=name, namespace=namespace, repo=repo.url, configmap="cache-values", extra=extra)
    )
    done = _cli(kube_cluster, home, "deploy", str(app), "--defs", "pyvela.stdlib", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    values = json.loads(_helm(kube_cluster, home, "get", "values", "cache", "-n", namespace, "-o", "json"))
    assert values["metrics"] == {"enabled": False} and values["extra"] == "1"


def test_a_missing_configmap_fails_the_deploy(
    kube_cluster: Any, namespace: str, repo: Any, tmp_path: Path
) -> None:
    name = f"values-{uuid.uuid4().hex[:6]}"
    app = tmp_path / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace, repo=repo.url, configmap="not-there", extra=""))
    done = _cli(kube_cluster, tmp_path / "helm", "deploy", str(app), "--defs", "pyvela.stdlib", "-o", "json")
    assert done.returncode == 1
    assert f"valuesFrom: the ConfigMap {namespace}/not-there does not exist" in done.stdout, done.stdout
