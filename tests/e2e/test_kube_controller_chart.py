"""deploy/chart rendered by the real helm and every object sent to the real API server with a
server-side dry run (nothing stored): the CRDs are structural and valid, the ClusterRole's
rules and the Deployments are accepted as they are, in both modes and with shards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import ROOT

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef
from tests.kube_cluster import find_helm

kube = support.kube  # fixture

CHART = ROOT / "deploy" / "chart"


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["--set", "kubevela=true", "--set", "crd=true", "--set", "shards=2", "--set", "replicas=2"],
        ["--set", "watchNamespaces={team-a,team-b}", "--set", "bind=0.0.0.0:9090"],
    ],
    ids=["pyvela", "kubevela-shards", "namespaces-bind"],
)
def test_the_charts_objects_are_accepted_by_the_api_server(kube: KubeBackend, values: list[str]) -> None:
    helm = find_helm()
    assert helm, "no helm binary (scripts/testcluster build)"
    ns = support.new_namespace(kube, "chart")
    try:
        rendered = subprocess.run(
            [
                helm,
                "template",
                "p",
                str(CHART),
                "--set",
                f"namespace={ns}",
                "--set",
                "createNamespace=false",
                *values,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rendered.returncode == 0, rendered.stderr
        objects: list[dict[str, Any]] = [o for o in yaml.safe_load_all(rendered.stdout) if o]
        kinds = sorted({o["kind"] for o in objects})
        assert kinds == sorted(
            {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "ServiceAccount"}
        )
        for obj in objects:
            live = kube.apply(obj, dry_run=True)  # validated and admitted, not stored
            assert live["metadata"]["name"] == obj["metadata"]["name"]
            if obj["metadata"].get("namespace") == ns:  # a dry run stores nothing
                assert kube.get(ObjectRef.of(obj)) is None
    finally:
        kube.delete(ObjectRef("v1", "Namespace", "", ns), wait=False)
