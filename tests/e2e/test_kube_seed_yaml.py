"""The seed's KubeVela Application YAML on a real control plane, through the real CLI: the
same deploy as apps/lixiang.py (Deployment Available, ClusterIP from the real allocator wired
into the Rollout's BackendIP, Redis installed by helm), then a no-op re-deploy and a delete."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import BITNAMI, ROOT, Seed

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef

seed, kube, namespace = support.seed, support.kube, support.namespace  # fixtures

SEED_YAML = ROOT / "tests" / "seed" / "application.yaml"


def test_seed_yaml_lifecycle(seed: Seed, kube: KubeBackend, namespace: str) -> None:
    text = SEED_YAML.read_text().replace(BITNAMI, seed.repo.url)
    text = text.replace("  name: lixiang-app\n", f"  name: lixiang-app\n  namespace: {namespace}\n")
    app = seed.home / "apps" / f"{namespace}.yaml"
    app.parent.mkdir(parents=True, exist_ok=True)
    app.write_text(text)

    code, out, err = seed.cli("deploy", app)
    assert code == 0 and out is not None, err
    assert (out["ok"], out["phase"], out["revision"]) == (True, "succeeded", 1), out
    service = kube.get(ObjectRef("v1", "Service", namespace, "base-service"))
    rollout = kube.get(ObjectRef("argoproj.io/v1alpha1", "Rollout", namespace, "proxy-service"))
    assert service is not None and rollout is not None
    (container,) = rollout["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", "") for e in container.get("env") or []}
    assert env["BackendIP"] == service["spec"]["clusterIP"]
    assert out["steps"]["apply-proxy-service"]["outputs"]["backend_ip"] == service["spec"]["clusterIP"]

    code, out, err = seed.cli("deploy", app)
    assert code == 0 and out is not None and (out["upToDate"], out["revision"]) == (True, 1), (out, err)

    code, out, err = seed.cli("delete", app)
    assert code == 0, err
    for kind, api, name in (
        ("Deployment", "apps/v1", "base-service"),
        ("Rollout", "argoproj.io/v1alpha1", "proxy-service"),
    ):
        assert kube.get(ObjectRef(api, kind, namespace, name)) is None, f"{kind} {name} survived the delete"
