"""ComponentDefinitions with a kube schematic load natively: KubeVela v1.8's semantics, except
that a field path past the end of a list is an error, and an env var picked by position is
warned about by name (the seed's proxy-service writes env[5], LOG_BASE, not RUNTIME_CLUSTER)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pyvela import load_app
from pyvela._app.render import render_component
from pyvela.errors import DefinitionError, ParameterError, RenderError
from tests.app.kubevela.conftest import SEED_APP, SEED_DEFS, WriteYaml, line_of
from tests.conftest import ROOT
from tests.runner_helpers import ops_for, sandbox

KUBE_DEFS = ["tests.app.kubevela.seed_steps", str(SEED_DEFS)]


def _objects(path: Path, defs: list[str] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    loaded = load_app(path, defs=defs)
    return {
        (o.object["kind"], o.object["metadata"]["name"]): o.object
        for use in loaded.app.components
        for o in render_component(loaded.app, use, revision=loaded.revision).objects
    }


def test_the_seeds_kube_definitions_load_with_their_parameters() -> None:
    loaded = load_app(SEED_APP, defs=KUBE_DEFS)
    base = loaded.catalogue.get("component", "base-service")
    assert base is not None and base.where.file == str(SEED_DEFS)
    assert str(base.workload) == "apps/v1 Deployment"  # type: ignore[union-attr]
    assert {n: s["required"] for n, s in base.schema().items()} == {"image": True, "cluster": True}
    proxy = loaded.catalogue.get("component", "proxy-service")
    assert str(proxy.workload) == "argoproj.io/v1alpha1 Rollout"  # type: ignore[union-attr]


def test_kube_base_service_renders_what_the_python_definition_renders() -> None:
    kube, python = _objects(SEED_APP, KUBE_DEFS), _objects(SEED_APP)
    assert kube.keys() == python.keys()
    assert kube[("Deployment", "base-service")] == python[("Deployment", "base-service")]


def test_kube_proxy_service_writes_env_5_and_is_warned_about_by_name() -> None:
    loaded = load_app(SEED_APP, defs=KUBE_DEFS)
    # Both services pick an env var by position: base-service hits RUNTIME_CLUSTER (as meant),
    # proxy-service hits LOG_BASE.
    base_warning, warning = loaded.warnings
    assert (
        f"{SEED_DEFS}:{line_of(SEED_DEFS, 'env[6].value')}" in base_warning
        and "'RUNTIME_CLUSTER'" in base_warning
    )
    assert f"{SEED_DEFS}:{line_of(SEED_DEFS, 'env[5].value')}" in warning
    assert "'proxy-service'" in warning and "'LOG_BASE'" in warning and "'cluster'" in warning
    kube, python = _objects(SEED_APP, KUBE_DEFS), _objects(SEED_APP)
    env = {
        e["name"]: e.get("value")
        for e in kube[("Rollout", "proxy-service")]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["LOG_BASE"] == "default" and env["RUNTIME_CLUSTER"] == "default"  # what KubeVela does too
    py_env = {
        e["name"]: e.get("value")
        for e in python[("Rollout", "proxy-service")]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert py_env["LOG_BASE"] == "/app/data/log"  # the Python definition sets env vars by name


def test_render_prints_the_warning_and_deploy_runs(tmp_path: Path) -> None:
    defs = [a for d in KUBE_DEFS for a in ("--defs", d)]
    out = subprocess.run(
        [sys.executable, "-m", "pyvela", "render", str(SEED_APP), *defs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    # The seed's Helm release adds a note of its own (its chart is not opened here).
    assert any(line.startswith("warning: ") and "LOG_BASE" in line for line in out.stderr.splitlines())
    result = ops_for(SEED_APP, sandbox(tmp_path / "sb"), defs=KUBE_DEFS).deploy()
    assert result.ok, result.to_dict()


DEF = """
apiVersion: core.oam.dev/v1beta1
kind: ComponentDefinition
metadata: {{name: box}}
spec:
  workload:
    definition: {{apiVersion: apps/v1, kind: Deployment}}
  schematic:
    kube:
      template:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: box}}
        spec:
          replicas: 1
          selector: {{matchLabels: {{app: box}}}}
          template:
            metadata: {{labels: {{app: box}}}}
            spec:
              containers:
                - name: box
                  image: busybox
      parameters:
        - name: image
          required: true
          fieldPaths: ["spec.template.spec.containers[0].image"]
        - name: replicaCount
          type: number
          fieldPaths: [spec.replicas]
        - name: paused
          type: boolean
          fieldPaths: [spec.paused, "metadata.annotations[example.com/paused]"]
{extra}
"""

APP = """
---
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: boxes}}
spec:
  components:
    - name: box
      type: box
      properties:
{properties}
"""


def _box(write_yaml: WriteYaml, properties: str, extra: str = "") -> Path:
    # One file, two documents: the Application and the definition it uses.
    return write_yaml(DEF.format(extra=extra) + APP.format(properties=properties))


def test_number_and_boolean_parameters_and_keyed_paths(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = _box(write_yaml, "        image: busybox:1.36\n        replicaCount: 3\n        paused: true")
    [deployment] = _objects(path).values()
    assert deployment["spec"]["replicas"] == 3 and deployment["spec"]["paused"] is True
    assert deployment["metadata"]["annotations"] == {"example.com/paused": True}
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"
    path = _box(write_yaml, "        image: busybox:1.36")  # optional parameters left out: template as is
    [deployment] = _objects(path).values()
    assert deployment["spec"]["replicas"] == 1 and "paused" not in deployment["spec"]
    assert ops_for(path, sandbox(tmp_path / "sb"), defs=["platform_defs"]).deploy().ok


@pytest.mark.parametrize(
    ("properties", "message", "needle"),
    [
        ("        replicaCount: 3", "missing required property 'image'", "replicaCount: 3"),
        ("        image: x\n        replicas: 3", "unknown property 'replicas'", "replicas: 3"),
        ("        image: x\n        replicaCount: '3'", "wrong type", "replicaCount: '3'"),
        ("        image: x\n        replicaCount: true", "wrong type", "replicaCount: true"),
        ("        image: x\n        paused: 'yes'", "wrong type", "paused: 'yes'"),
        ("        image: 7", "wrong type", "image: 7"),
    ],
)
def test_properties_are_checked_as_kubevela_checks_them(
    write_yaml: WriteYaml, properties: str, message: str, needle: str
) -> None:
    path = _box(write_yaml, properties)
    with pytest.raises(ParameterError) as info:
        load_app(path, defs=["platform_defs"])
    assert message in info.value.message and info.value.context["component"] == "box"
    assert info.value.where is not None and info.value.where.line == line_of(path, needle)


def test_a_field_path_past_the_end_of_a_list_is_an_error(write_yaml: WriteYaml) -> None:
    extra = '        - name: sidecar\n          fieldPaths: ["spec.template.spec.containers[1].image"]'
    path = _box(write_yaml, "        image: x", extra)
    with pytest.raises(DefinitionError) as info:
        load_app(path, defs=["platform_defs"])
    err = info.value
    assert err.where is not None and err.where.line == line_of(path, "containers[1].image")
    assert "past the end of a list" in err.message and err.expected == "an index below 1"


def test_a_path_through_a_value_that_is_not_a_mapping_fails_the_render(write_yaml: WriteYaml) -> None:
    extra = '        - name: odd\n          fieldPaths: ["spec.replicas.count"]'
    path = _box(write_yaml, "        image: x\n        odd: y", extra)
    loaded = load_app(path, defs=["platform_defs"])
    with pytest.raises(RenderError, match=re.escape("'odd' cannot be written to 'spec.replicas.count'")):
        render_component(loaded.app, loaded.app.components[0], revision=loaded.revision)


def test_malformed_kube_parameters_name_their_line(write_yaml: WriteYaml) -> None:
    path = _box(
        write_yaml,
        "        image: x",
        "        - name: n\n          type: integer\n          fieldPaths: [spec.x]",
    )
    with pytest.raises(DefinitionError) as info:
        load_app(path, defs=["platform_defs"])
    assert info.value.where.line == line_of(path, "type: integer")  # type: ignore[union-attr]
    assert info.value.expected == "string, number or boolean"
    path = _box(write_yaml, "        image: x", "        - name: n")
    with pytest.raises(DefinitionError, match="no fieldPaths"):
        load_app(path, defs=["platform_defs"])


def test_a_file_with_two_applications_is_refused(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        APP.format(properties="        image: x")
        + APP.format(properties="        image: y").replace("boxes", "more")
    )
    from pyvela.errors import AppLoadError

    with pytest.raises(AppLoadError) as info:
        load_app(path, defs=["platform_defs"])
    assert "2 Applications ('boxes', 'more')" in info.value.message
    assert info.value.where is not None and info.value.where.line == line_of(path, "apiVersion:", 1)
