"""Every mistake in a KubeVela YAML app is one error naming the file and line, the component,
trait or step, expected vs got, and the fix (and one message on the command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import (
    AppError,
    AppLoadError,
    DanglingReferenceError,
    DefinitionError,
    Location,
    ParameterError,
    PyvelaError,
    UnknownDefinitionError,
)
from tests.app.kubevela.conftest import DEFS, WriteYaml, line_of
from tests.conftest import ROOT

HEAD = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: bad
spec:
"""


def _error(path: Path, kind: type[PyvelaError] = PyvelaError, defs: list[str] | None = None) -> PyvelaError:
    with pytest.raises(kind) as info:
        load_app(path, defs=defs or DEFS)
    err = info.value
    assert err.where is not None and err.where.file == str(path), str(err)
    return err


def test_an_unknown_component_type_lists_the_known_ones(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: base-servise
          properties: {image: nginx, cluster: default}
    """
    )
    err = _error(path, UnknownDefinitionError)
    assert err.where is not None and err.where.line == line_of(path, "type: base-servise")
    assert err.context["component"] == "web"
    assert "base-service" in (err.expected or "") and "proxy-service" in (err.expected or "")
    assert "did you mean 'base-service'" in (err.fix or "")


def test_an_unknown_trait_and_step_type_name_their_line(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: base-service
          properties: {image: nginx, cluster: default}
          traits:
            - type: ingres
              properties: {domain: x, http: {"/": 80}}
    """
    )
    err = _error(path, UnknownDefinitionError)
    assert (err.where.line, err.context["component"]) == (line_of(path, "type: ingres"), "web")  # type: ignore[union-attr]
    assert "ingress" in (err.expected or "")
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: s
            type: no-such-step
    """
    )
    err = _error(path, UnknownDefinitionError)
    assert (err.where.line, err.context["step"]) == (line_of(path, "type: no-such-step"), "s")  # type: ignore[union-attr]
    assert "echo" in (err.expected or "")


def test_an_unknown_property_suggests_the_camel_case_name(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: redis
          type: helm
          properties:
            chart: redis
            version: "1"
            repoURl: https://example.com
    """
    )
    err = _error(path, ParameterError)
    assert err.where.line == line_of(path, "repoURl")  # type: ignore[union-attr]
    assert err.context["parameter"] == "repoURl" and err.context["component"] == "redis"
    assert "repoUrl" in (err.expected or "") and "did you mean 'repoUrl'" in (err.fix or "")


def test_a_missing_property_names_it_as_yaml_writes_it(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: redis
          type: helm
          properties:
            chart: redis
            version: "1"
    """
    )
    err = _error(path, ParameterError)
    assert "missing required property 'repoUrl'" in err.message
    assert err.where.line == line_of(path, "chart: redis")  # type: ignore[union-attr]
    assert err.got == "nothing" and "repoUrl:" in (err.fix or "")


def test_a_wrong_type_points_at_the_value(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: base-service
          properties:
            image: nginx
            cluster: 7
    """
    )
    err = _error(path, ParameterError)
    assert err.where.line == line_of(path, "cluster: 7")  # type: ignore[union-attr]
    assert (err.expected, err.got) == ("str", "7 (int)")
    path = write_yaml(
        HEAD
        + """
      components:
        - name: redis
          type: helm
          properties: {chart: c, version: "1", repoUrl: u, repoType: git}
    """
    )
    err = _error(path, ParameterError)
    assert err.context["parameter"] == "repoType" and "'helm'" in (err.fix or "")


def test_nested_properties_are_camel_case_and_checked_with_their_path(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: webservice
          properties:
            image: nginx
            ports:
              - port: 80
                containerPort: 8080
                expose: true
              - port: 81
                contanerPort: 8081
    """
    )
    err = _error(path, ParameterError)
    assert err.where.line == line_of(path, "contanerPort")  # type: ignore[union-attr]
    assert err.context["parameter"] == "ports[1].contanerPort"
    assert "did you mean 'containerPort'" in (err.fix or "")
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: webservice
          properties:
            image: nginx
            ports:
              - port: "80"
    """
    )
    err = _error(path, ParameterError)
    assert err.context["parameter"] == "ports[0].port" and err.where.line == line_of(path, 'port: "80"')  # type: ignore[union-attr]


def test_a_from_that_no_output_provides(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: echo
            properties: {text: hi}
            outputs:
              - name: greeting
                valueFrom: outputs.value
          - name: two
            type: echo
            inputs:
              - from: greting
                parameterKey: text
    """
    )
    err = _error(path, DanglingReferenceError)
    assert err.where.line == line_of(path, "from: greting")  # type: ignore[union-attr]
    assert err.context["step"] == "two" and "greeting" in (err.expected or "")


def test_an_output_the_step_does_not_have(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: echo
            properties: {text: hi}
            outputs:
              - name: ip
                exportKey: clusterIP
    """
    )
    err = _error(path, AppError)
    assert err.where.line == line_of(path, "exportKey: clusterIP")  # type: ignore[union-attr]
    assert "value" in (err.expected or "")


def test_a_parameter_key_the_step_does_not_take(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: echo
            properties: {text: hi}
            outputs: [{name: v, valueFrom: outputs.value}]
          - name: two
            type: echo
            inputs: [{from: v, parameterKey: txt}]
    """
    )
    err = _error(path, ParameterError)
    assert err.where.line == line_of(path, "parameterKey: txt")  # type: ignore[union-attr]
    assert "text" in (err.expected or "")


def test_an_expression_outside_the_subset_is_quoted(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: noop
          - name: two
            type: noop
            if: len(status.one.phase) > 0
    """
    )
    err = _error(path, AppError)
    assert err.where.line == line_of(path, "if: len")  # type: ignore[union-attr]
    assert "'len(status.one.phase) > 0'" in err.message and "status.<step>.phase" in (err.expected or "")


def test_an_if_about_an_unknown_step_or_field(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: noop
          - name: two
            type: noop
            if: status.onne.phase == "failed"
    """
    )
    err = _error(path, DanglingReferenceError)
    assert "'onne'" in err.message and "one" in (err.expected or "")
    path.write_text(path.read_text().replace("status.onne.phase", "status.one.reason"))
    err = _error(path, AppError)
    assert ".succeeded or .timeout" in (err.expected or "")
    path.write_text(path.read_text().replace("status.one.reason", "inputs.x"))
    err = _error(path, AppError)
    assert "inputs.<name>" in (err.expected or "")


def test_a_timeout_that_is_not_a_duration(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: noop
            timeout: ten minutes
    """
    )
    err = _error(path, AppError)
    assert err.where.line == line_of(path, "timeout:")  # type: ignore[union-attr]
    assert "10m" in (err.expected or "")


def test_unknown_fields_of_components_and_steps(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: base-service
          propertes: {image: nginx}
    """
    )
    err = _error(path, AppError)
    assert err.where.line == line_of(path, "propertes") and "did you mean 'properties'" in (err.fix or "")  # type: ignore[union-attr]
    path = write_yaml(
        HEAD
        + """
      components: []
      workflow:
        steps:
          - name: one
            type: noop
            dependOn: [x]
    """
    )
    err = _error(path, AppError)
    assert err.context["step"] == "one" and "did you mean 'dependsOn'" in (err.fix or "")


def test_yaml_syntax_errors_and_duplicate_keys_name_the_line(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: [base-service
    """
    )
    err = _error(path, AppLoadError)
    assert "not valid YAML" in err.message
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: base-service
          name: web2
    """
    )
    err = _error(path, AppLoadError)
    assert err.where.line == line_of(path, "name: web2") and "given twice" in err.message  # type: ignore[union-attr]


def test_documents_pyvela_does_not_run(write_yaml: WriteYaml) -> None:
    path = write_yaml("apiVersion: core.oam.dev/v1alpha2\nkind: Application\nmetadata: {name: x}\nspec: {}\n")
    err = _error(path, AppLoadError)
    assert err.expected == "core.oam.dev/v1beta1" and err.where.line == 1  # type: ignore[union-attr]
    path = write_yaml("apiVersion: core.oam.dev/v1beta1\nkind: TraitDefinition\nmetadata: {name: t}\n")
    err = _error(path, AppLoadError)
    assert "TraitDefinition" in err.message and "Python" in (err.fix or "")
    path = write_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    err = _error(path, AppLoadError)
    assert err.where.line == 1  # type: ignore[union-attr]


def test_a_cue_component_definition_in_defs_is_refused(write_yaml: WriteYaml, tmp_path: Path) -> None:
    defs = write_yaml(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: ComponentDefinition
        metadata: {name: cue-thing}
        spec:
          schematic:
            cue: {template: "output: {}"}
        """,
        name="defs.yaml",
    )
    path = write_yaml(HEAD + "  components: []\n")
    with pytest.raises(DefinitionError) as info:
        load_app(path, defs=["platform_defs", str(defs)])
    err = info.value
    assert err.where == Location(str(defs), line_of(defs, "cue:")) and "Python" in (err.fix or "")


def test_the_command_line_prints_one_message_and_no_traceback(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """
      components:
        - name: web
          type: base-service
          properties: {image: nginx, cluster: 7}
    """
    )
    out = subprocess.run(
        [sys.executable, "-m", "pyvela", "render", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"error: {path}:{line_of(path, 'cluster: 7')}: component 'web'"), out.stderr
    assert "expected: str" in out.stderr
