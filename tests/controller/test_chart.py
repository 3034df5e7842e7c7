"""deploy/chart renders, with the real helm binary, the objects ``python -m pyvela controller
manifests`` prints for the same options (values from ``manifests --helm-values``), object by
object; its values.yaml and CRD files are what pyvela's code writes (PYVELA_UPDATE_GOLDEN=1
rewrites them, then review)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyvela._controller.chart import CRD_FILES, crd_text
from tests.conftest import ROOT
from tests.kube_cluster import find_helm

CHART = ROOT / "deploy" / "chart"
SETTINGS = {
    "defaults": [],
    "image-namespaces-bind": [
        "--image",
        "registry.example/pyvela:2.0",
        "--install-namespace",
        "ops",
        "--namespace",
        "team-a",
        "--namespace",
        "team-b",
        "--bind",
        "0.0.0.0:9090",
    ],
    "kubevela-kinds": [
        "--kubevela",
        "--kind",
        "apps/v1/StatefulSet",
        "--kind",
        "argoproj.io/v1alpha1/Rollout",
    ],
    "kubevela-crd-shards": ["--kubevela", "--kubevela-crd", "--shards", "3", "--replicas", "2"],
    "standby": ["--replicas", "2", "--defs", "platform_defs"],
}


def pyvela(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "pyvela", "controller", "manifests", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def helm() -> str:
    found = find_helm()
    if not found:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("no helm binary: CI builds the test control plane (scripts/ci-cluster.sh) with it")
        pytest.skip("no helm binary: build the test control plane (scripts/testcluster build)")
    return found


def by_key(objects: list[Any]) -> dict[tuple[str, str, str], Any]:
    out = {}
    for o in objects:
        if o:
            key = (str(o["kind"]), str(o["metadata"].get("namespace", "")), str(o["metadata"]["name"]))
            assert key not in out, f"{key} rendered twice"
            out[key] = o
    return out


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_the_chart_renders_the_manifests(setting: str, tmp_path: Path) -> None:
    options = SETTINGS[setting]
    values = tmp_path / "values.yaml"
    values.write_text(pyvela(*options, "--helm-values"))
    rendered = subprocess.run(
        [helm(), "template", "pyvela", str(CHART), "-f", str(values)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, rendered.stderr
    chart = by_key(list(yaml.safe_load_all(rendered.stdout)))
    manifests = by_key(json.loads(pyvela(*options, "-o", "json"))["items"])
    assert sorted(chart) == sorted(manifests)
    for key, obj in manifests.items():
        assert chart[key] == obj, f"{setting}: {key} differs"


def test_helm_lint_passes_and_the_release_namespace_is_the_default(tmp_path: Path) -> None:
    lint = subprocess.run([helm(), "lint", str(CHART)], capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    rendered = subprocess.run(
        [
            helm(),
            "template",
            "p",
            str(CHART),
            "-n",
            "mine",
            "--set",
            "namespace=",
            "--set",
            "createNamespace=false",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, rendered.stderr
    objects = [o for o in yaml.safe_load_all(rendered.stdout) if o]
    assert "Namespace" not in {o["kind"] for o in objects}
    assert {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]} == {"mine"}
    binding = next(o for o in objects if o["kind"] == "ClusterRoleBinding")
    assert binding["subjects"][0]["namespace"] == "mine"


def test_values_and_crd_files_are_what_the_code_writes() -> None:
    update = os.environ.get("PYVELA_UPDATE_GOLDEN") == "1"
    expected = {"values.yaml": pyvela("--helm-values")} | {name: crd_text(name) for name in CRD_FILES}
    for name, text in expected.items():
        if update:  # pragma: no cover - by hand, then review
            (CHART / name).write_text(text)
        assert (CHART / name).read_text() == text, (
            f"deploy/chart/{name} is not what pyvela writes: "
            f"PYVELA_UPDATE_GOLDEN=1 pytest {Path(__file__).name}, then review"
        )
    assert yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"] == _version()


def _version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])
