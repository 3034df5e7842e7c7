"""A KubeVela workflow run through the real runner on the sandbox: outputs computed by
valueFrom feed later steps' inputs, ``if`` decides on status and inputs, step groups keep
their mode, ``timeout`` and ``dependsOn`` hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._core.steps import StepGroup
from pyvela.errors import AppError
from tests.app.kubevela.conftest import DEFS, WriteYaml, line_of
from tests.runner_helpers import ops_for, sandbox

APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: flow
  namespace: team-a
spec:
  components: []
  workflow:
    mode:
      steps: DAG
      subSteps: StepByStep
    steps:
      - name: first
        type: echo
        meta: {alias: The first step}
        timeout: 2m
        properties: {text: "10.0.0.9"}
        outputs:
          - name: ip
            valueFrom: outputs.value
          - name: url
            valueFrom: '"http://" + outputs.value + ":8080/" + context.name'
      - name: group
        type: step-group
        dependsOn: [first]
        subSteps:
          - name: use-url
            type: echo
            inputs:
              - from: url
                parameterKey: text
          - name: only-if-ip
            type: echo
            if: inputs.ip == "10.0.0.9" && status.first.succeeded
            inputs:
              - from: ip
            properties: {text: matched}
      - name: never
        type: noop
        dependsOn: [group]
        if: status.first.phase == "failed"
      - name: boom
        type: explode
        dependsOn: [group]
      - name: after-boom
        type: echo
        dependsOn: [boom]
        if: status.boom.phase == "failed" && !status.boom.timeout
        properties: {text: cleaned up}
"""


def test_the_yaml_workflow_becomes_the_same_objects_a_python_app_builds(write_yaml: WriteYaml) -> None:
    loaded = load_app(write_yaml(APP), defs=DEFS)
    wf = loaded.app.workflow
    assert wf is not None and wf.mode == "DAG" and loaded.app.namespace == "team-a"
    group = wf.steps[1]
    assert isinstance(group, StepGroup) and group.mode == "StepByStep" and group.dependencies == ("first",)
    first = loaded.plan.steps["first"]
    assert first.timeout == 120.0
    assert loaded.plan.steps["only-if-ip"].dependencies == {"use-url", "first"}  # StepByStep inside
    # An input read only by `if` orders the step after its producer, as a parameter input does.
    assert loaded.app.workflow.steps[1].steps[1].dependencies == ("first",)  # type: ignore[union-attr]
    assert (
        loaded.spec["workflow"]["steps"][-1]["if"] == 'status.boom.phase == "failed" && !status.boom.timeout'
    )


def test_it_runs_outputs_flow_and_conditions_decide(write_yaml: WriteYaml, tmp_path: Path) -> None:
    ops = ops_for(write_yaml(APP), sandbox(tmp_path / "sb"), defs=DEFS)
    result = ops.deploy()
    steps = result.steps
    assert steps["first"]["outputs"]["value"] == "10.0.0.9"
    assert steps["use-url"]["phase"] == "succeeded"
    assert steps["use-url"]["outputs"]["value"] == "http://10.0.0.9:8080/flow"
    assert (steps["only-if-ip"]["phase"], steps["only-if-ip"]["outputs"]["value"]) == ("succeeded", "matched")
    assert (steps["never"]["phase"], steps["never"]["reason"]) == ("skipped", "ConditionNotMet")
    assert steps["boom"]["phase"] == "failed"
    assert steps["after-boom"]["phase"] == "succeeded"
    assert result.phase == "failed"  # boom failed: the run says so


def test_a_value_from_that_fails_at_run_time_fails_its_step_naming_the_line(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: flow-bad}
        spec:
          components: []
          workflow:
            steps:
              - name: first
                type: echo
                properties: {text: x}
                outputs:
                  - name: n
                    valueFrom: outputs.value + 1
              - name: second
                type: echo
                inputs: [{from: n, parameterKey: text}]
    """)
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    first = result.steps["first"]
    assert (first["phase"], first["reason"]) == ("failed", "OutputError")
    assert (
        f"{path}:{line_of(path, 'valueFrom: outputs.value + 1')}" in first["message"]
        and "'outputs.value + 1'" in first["message"]
    )
    assert result.steps["second"]["phase"] == "skipped"


def test_a_changed_value_from_or_if_is_a_new_revision(write_yaml: WriteYaml) -> None:
    path = write_yaml(APP)
    before = load_app(path, defs=DEFS).revision
    assert load_app(path, defs=DEFS).revision == before  # stable
    path.write_text(APP.replace('":8080/" + context.name', '":9090/" + context.name'))
    changed_output = load_app(path, defs=DEFS).revision
    path.write_text(APP.replace("!status.boom.timeout", "status.boom.timeout"))
    changed_if = load_app(path, defs=DEFS).revision
    assert len({before, changed_output, changed_if}) == 3


def test_without_a_workflow_components_deploy_in_depends_on_order(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: ordered}
        spec:
          components:
            - name: back
              type: webservice
              properties: {image: nginx:1.27}
            - name: front
              type: webservice
              dependsOn: [back]
              properties: {image: nginx:1.27}
    """)
    loaded = load_app(path, defs=DEFS)
    assert loaded.plan.mode == "DAG" and loaded.plan.steps["front"].dependencies == {"back"}
    assert loaded.plan.steps["front"].use.definition.name == "apply-component"
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    assert result.ok, result.to_dict()
    assert result.steps["back"]["finished"] <= result.steps["front"]["started"]


def test_an_if_that_cannot_be_decided_fails_its_step_naming_the_line(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: flow-if}
        spec:
          components: []
          workflow:
            steps:
              - name: first
                type: explode
                outputs: [{name: v, valueFrom: '"x" + context.name'}]
              - name: second
                type: noop
                if: inputs.v == "xflow-if"
                inputs: [{from: v}]
    """)
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    second = result.steps["second"]
    assert (second["phase"], second["reason"]) == ("failed", "ConditionError")
    assert (
        f"{path}:{line_of(path, 'if: inputs.v')}" in second["message"]
        and "inputs.v is not there yet" in second["message"]
    )


def test_an_if_about_a_step_group_is_refused(write_yaml: WriteYaml) -> None:
    from pyvela.errors import DanglingReferenceError

    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: flow-group}
        spec:
          components: []
          workflow:
            steps:
              - name: g
                type: step-group
                subSteps: [{name: inner, type: noop}]
              - name: after
                type: noop
                if: status.g.succeeded
    """)
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path, defs=DEFS)
    assert "inner" in (info.value.expected or "") and "step group" in (info.value.fix or "")


def test_status_timeout_sees_a_step_that_ran_past_its_timeout(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: flow-timeout}
        spec:
          components: []
          workflow:
            steps:
              - name: wait
                type: wait-for-configmap
                timeout: 1s
                properties: {name: never-created}
              - name: on-timeout
                type: noop
                if: status.wait.timeout
              - name: on-failure-only
                type: noop
                if: status.wait.phase == "failed" && !status.wait.timeout
    """)
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    steps = result.steps
    assert (steps["wait"]["phase"], steps["wait"]["reason"]) == ("failed", "Timeout")
    assert steps["on-timeout"]["phase"] == "succeeded"
    assert (steps["on-failure-only"]["phase"], steps["on-failure-only"]["reason"]) == (
        "skipped",
        "ConditionNotMet",
    )


def test_a_bare_value_from_names_a_field_of_the_step(write_yaml: WriteYaml) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: flow-bare}
        spec:
          components: []
          workflow:
            steps:
              - name: one
                type: echo
                properties: {text: hi}
                outputs: [{name: said, valueFrom: value}]
              - name: two
                type: echo
                inputs: [{from: said, parameterKey: text}]
    """)
    ref = load_app(path, defs=DEFS).plan.steps["two"].use.params.text
    assert (ref.step, ref.field) == ("one", "value")  # a plain reference, as outputs.value is
    path.write_text(path.read_text().replace("valueFrom: value", "valueFrom: valu"))
    with pytest.raises(AppError) as info:
        load_app(path, defs=DEFS)
    assert "value" in (info.value.expected or "")
