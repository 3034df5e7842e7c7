"""The standard library's statefulset, helm, helmchart and ref-objects on a real control plane.

helm (the FluxCD addon's properties, as the seed writes them) and helmchart install through
the real helm CLI from the loopback chart repository (and a local chart directory); the
statefulset becomes Ready through the real StatefulSet controller and kwok's pods, judged by
its definition's rule (``Ready:1/1``); ref-objects reads a ConfigMap of the real API server
for ``diff``.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import Seed

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef

seed, kube, namespace = support.seed, support.kube, support.namespace  # fixtures
CHART = support.CHARTS_DIR / "redis-cluster"
#: The seed's platform_defs has its own helm: the standard one is named explicitly.
DEFS = ("--defs", "pyvela.stdlib")

APP = """
from pyvela import Application
from pyvela.stdlib import ChartRelease, ChartSource, helm, helmchart, scaler, statefulset

app = Application(
    "{app}",
    namespace="{namespace}",
    components=[
        helm("cache", repo_type="helm", repo_url="{repo}", chart="redis-cluster", version="6.2.7",
             values={{"cluster": {{"nodes": 1}}}}),
        helmchart("queue", chart=ChartSource(source="redis-cluster", repo_url="{repo}"),
                  release=ChartRelease(name="queue-main")),
        helmchart("local-cache", chart=ChartSource(source="{chart}")),
        statefulset("ledger", image="registry.example.com/ledger:1", port=5432).with_traits(
            scaler(replicas=1)
        ),
    ],
)
"""


def releases(env: Seed, ns: str) -> dict[str, tuple[str, str]]:
    out = json.loads(env.helm("list", "-n", ns, "-o", "json"))
    return {r["name"]: (r["status"], r["chart"]) for r in out}


def test_charts_and_a_statefulset_deploy_and_report_their_status(
    seed: Seed, kube: KubeBackend, namespace: str
) -> None:
    name = f"stdlib-{uuid.uuid4().hex[:6]}"
    app = seed.home / "apps" / f"{name}.py"
    app.parent.mkdir(parents=True, exist_ok=True)
    app.write_text(APP.format(app=name, namespace=namespace, repo=seed.repo.url, chart=CHART))

    code, out, err = seed.cli("deploy", app, *DEFS)
    assert code == 0 and out is not None and out["ok"], (out, err)
    assert releases(seed, namespace) == {
        "cache": ("deployed", "redis-cluster-6.2.7"),
        "queue-main": ("deployed", "redis-cluster-6.2.7"),
        "local-cache": ("deployed", "redis-cluster-6.2.7"),
    }
    values = json.loads(seed.helm("get", "values", "cache", "-n", namespace, "-o", "json"))
    assert values == {"cluster": {"nodes": 1}}
    live = kube.get(ObjectRef("apps/v1", "StatefulSet", namespace, "ledger"))
    assert live is not None and live["status"].get("readyReplicas") == 1

    code, out, err = seed.cli("status", app, *DEFS)
    assert code == 0 and out is not None, err
    [sts] = [o for o in out["objects"] if o["object"]["kind"] == "StatefulSet"]
    assert sts["ready"] and sts["message"] == "Ready:1/1", sts

    code, out, err = seed.cli("delete", app, *DEFS)
    assert code == 0, (out, err)
    assert releases(seed, namespace) == {}


REF_APP = """
from pyvela import Application
from pyvela.stdlib import ObjectSelector, ref_objects

app = Application("{app}", namespace="{namespace}", components=[
    ref_objects(
        "mirror", objects=(ObjectSelector(resource="configmap", name="settings", namespace="{source}"),)
    ),
])
"""


def test_ref_objects_reads_the_real_cluster_for_diff(seed: Seed, kube: KubeBackend, namespace: str) -> None:
    source = support.new_namespace(kube, "e2e-src")
    try:
        kube.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": source},
                "data": {"mode": "blue"},
            }
        )
        name = f"refs-{uuid.uuid4().hex[:6]}"
        app = seed.home / "apps" / f"{name}.py"
        app.parent.mkdir(parents=True, exist_ok=True)
        app.write_text(REF_APP.format(app=name, namespace=namespace, source=source))
        _code, out, err = seed.cli("diff", app, *DEFS)
        assert out is not None, err
        assert "blue" in json.dumps(out), out
        assert "reads the cluster" not in err
    finally:
        kube.delete(ObjectRef("v1", "Namespace", "", source), wait=False)
