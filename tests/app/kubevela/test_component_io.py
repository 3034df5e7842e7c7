"""Inputs that set a component's properties, and components' own inputs/outputs, as KubeVela
runs them: an apply-component step's input whose parameterKey is a property of its component
re-renders the component with that value; a component's inputs/outputs are those of the step
that applies it (the default workflow's, when the app has none)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyvela import load_app
from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from pyvela.errors import AppError, ParameterError
from tests.app.kubevela.conftest import DEFS, WriteYaml, line_of
from tests.runner_helpers import ops_for, sandbox

HEAD = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: io}
spec:
"""

STEP_INPUTS = (
    HEAD
    + """
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.27
        env:
          - {name: SIZE, value: placeholder}
  workflow:
    steps:
      - name: read-size
        type: echo
        properties: {text: "0.5"}
        outputs:
          - name: cpu
            valueFrom: output.$returns.value
      - name: apply
        type: apply-component
        inputs:
          - from: cpu
            parameterKey: cpu
          - from: cpu
            parameterKey: properties.env[0].value
        properties:
          component: web
"""
)


def _deployment(box: Sandbox, name: str) -> dict[str, Any]:
    live = box.get(ObjectRef("apps/v1", "Deployment", "default", name))
    assert live is not None, name
    return live


def test_an_apply_component_input_sets_the_components_property(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml(STEP_INPUTS)
    loaded = load_app(path, defs=DEFS)
    assert loaded.plan.steps["apply"].dependencies == {"read-size"}
    box = sandbox(tmp_path / "sb")
    result = ops_for(path, box, defs=DEFS).deploy()
    assert result.ok, result.steps
    container = _deployment(box, "web")["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == "0.5"
    assert container["env"] == [{"name": "SIZE", "value": "0.5"}]


def test_a_changed_parameter_key_is_a_new_revision(write_yaml: WriteYaml) -> None:
    path = write_yaml(STEP_INPUTS)
    before = load_app(path, defs=DEFS).revision
    path.write_text(STEP_INPUTS.replace("parameterKey: cpu", "parameterKey: memory"))
    assert load_app(path, defs=DEFS).revision != before


COMPONENT_IO = (
    HEAD
    + """
  components:
    - name: db
      type: webservice
      properties: {image: postgres:16}
      outputs:
        - name: dbName
          valueFrom: output.metadata.name
        - name: dbImage
          valueFrom: output.spec.template.spec.containers[0].image
    - name: app
      type: webservice
      properties:
        image: nginx:1.27
        env: [{name: DB_HOST, value: unset}]
      inputs:
        - from: dbImage
          parameterKey: env[0].value
        - from: dbName
          parameterKey: labels.db-name
"""
)


def test_component_outputs_feed_component_inputs_in_the_default_workflow(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml(COMPONENT_IO)
    loaded = load_app(path, defs=DEFS)
    assert loaded.plan.mode == "DAG" and loaded.plan.steps["app"].dependencies == {"db"}
    box = sandbox(tmp_path / "sb")
    result = ops_for(path, box, defs=DEFS).deploy()
    assert result.ok, result.steps
    app = _deployment(box, "app")
    assert app["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "DB_HOST", "value": "postgres:16"}
    ]
    assert app["spec"]["template"]["metadata"]["labels"]["db-name"] == "db"


def test_component_io_merges_into_the_workflows_apply_component_step(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    text = (
        COMPONENT_IO
        + """
  workflow:
    steps:
      - {name: apply-db, type: apply-component, properties: {component: db}}
      - {name: apply-app, type: apply-component, properties: {component: app}}
"""
    )
    path = write_yaml(text)
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    assert result.ok, result.steps
    path.write_text(
        text.replace("      - {name: apply-app, type: apply-component, properties: {component: app}}\n", "")
    )
    with pytest.raises(AppError) as info:
        load_app(path, defs=DEFS)
    assert "no apply-component step" in info.value.message and info.value.context["component"] == "app"
    assert info.value.where is not None and info.value.where.line == line_of(path, "inputs:")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("cpus", "is not a property of component 'web'"),
        ("traits[0].replicas", "sets a trait's property"),
        ("properties.port", "of the wrong type"),  # echo's value is a str, port an int
    ],
)
def test_parameter_keys_into_a_component_are_checked_when_the_app_loads(
    write_yaml: WriteYaml, key: str, message: str
) -> None:
    path = write_yaml(STEP_INPUTS.replace("parameterKey: cpu\n", f"parameterKey: {key}\n"))
    with pytest.raises(ParameterError) as info:
        load_app(path, defs=DEFS)
    assert message in info.value.message
    assert info.value.where is not None and info.value.where.line == line_of(path, f"parameterKey: {key}")


def test_a_property_path_past_the_end_fails_the_step_naming_the_line(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml(STEP_INPUTS.replace("properties.env[0].value", "properties.env[3].value"))
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    apply = result.steps["apply"]
    assert apply["phase"] == "failed"
    assert (
        f"{path}:{line_of(path, 'env[3].value')}" in apply["message"] and "past the end" in apply["message"]
    )


def test_an_input_into_a_steps_own_mapping_parameter(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml(
        HEAD
        + """
  components: []
  workflow:
    steps:
      - name: probe
        type: echo
        properties: {text: healthy}
        outputs: [{name: status, valueFrom: outputs.value}]
      - name: export
        type: export2config
        inputs:
          - from: status
            parameterKey: data.serverStatus
        properties:
          configName: probe-result
          data: {owner: ops}
"""
    )
    box = sandbox(tmp_path / "sb")
    result = ops_for(path, box, defs=DEFS).deploy()
    assert result.ok, result.steps
    config = box.get(ObjectRef("v1", "ConfigMap", "default", "probe-result"))
    assert config is not None and config["data"] == {"owner": "ops", "serverStatus": "healthy"}


def test_an_input_may_fill_a_mapping_parameter_the_yaml_leaves_out(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml(
        HEAD
        + """
  components: []
  workflow:
    steps:
      - name: probe
        type: echo
        properties: {text: healthy}
        outputs: [{name: status, valueFrom: outputs.value}]
      - name: export
        type: export2config
        inputs: [{from: status, parameterKey: data.serverStatus}]
        properties: {configName: probe-only}
"""
    )
    box = sandbox(tmp_path / "sb")
    assert ops_for(path, box, defs=DEFS).deploy().ok
    config = box.get(ObjectRef("v1", "ConfigMap", "default", "probe-only"))
    assert config is not None and config["data"] == {"serverStatus": "healthy"}
