"""Hostile and unusual YAML on the KubeVela path: each is rendered as YAML means it, or refused
with one error naming the file and line, never a hang or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._app.kubevela.marked import MAX_DEPTH, load_documents
from pyvela._app.render import render_app
from pyvela.errors import AppError, AppLoadError, ParameterError, RenderError
from tests.app.kubevela.conftest import WriteYaml, line_of

HEAD = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: odd
spec:
"""


def _load_error(path: Path) -> AppLoadError:
    with pytest.raises(AppLoadError) as info:
        load_documents(path)
    err = info.value
    assert err.where is not None and err.where.file == str(path)
    return err


def test_a_key_written_next_to_a_merge_key_overrides_the_merged_one(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """\
  components:
    - name: one
      type: webservice
      properties: &base
        image: nginx:1
        port: 80
    - name: two
      type: webservice
      properties:
        <<: *base
        port: 81
    - name: three
      type: webservice
      properties: *base
"""
    )
    (doc,) = load_documents(path)
    comps = doc.value["spec"]["components"]
    assert [c["properties"] for c in comps] == [
        {"image": "nginx:1", "port": 80},
        {"image": "nginx:1", "port": 81},
        {"image": "nginx:1", "port": 80},
    ]
    app = load_app(path).app
    assert [c.params.port for c in app.components] == [80, 81, 80]


def test_two_merged_anchors_keep_yaml_precedence_and_written_twice_is_still_refused(
    write_yaml: WriteYaml,
) -> None:
    path = write_yaml("a: &a {x: 1, y: 1}\nb: &b {x: 2}\nc:\n  <<: [*b, *a]\n")
    (doc,) = load_documents(path)
    assert doc.value["c"] == {"x": 2, "y": 1}  # the first mapping of the list wins, as in PyYAML
    path = write_yaml("a: &a {x: 1}\nc:\n  <<: *a\n  y: 1\n  y: 2\n")
    err = _load_error(path)
    assert "given twice" in err.message and err.where is not None and err.where.line == 5


def test_an_alias_bomb_is_refused_quickly(write_yaml: WriteYaml) -> None:
    lines = ["l0: &l0 [x]"] + [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write_yaml("\n".join(lines) + "\n")
    err = _load_error(path)
    assert "aliases expand to too many values" in err.message


def test_an_alias_inside_its_own_anchor_is_refused(write_yaml: WriteYaml) -> None:
    for text, needle in (("a: &a [1, *a]\n", "a:"), ("top:\n  m: &m\n    inner: {again: *m}\n", "m:")):
        path = write_yaml(text)
        err = _load_error(path)
        assert "refers to the value that contains it" in err.message
        assert err.where is not None and err.where.line == line_of(path, needle)


def test_nesting_deeper_than_any_object_is_refused(write_yaml: WriteYaml) -> None:
    path = write_yaml("data: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert "nested more than" in _load_error(path).message
    ok = write_yaml("data: " + "[" * 50 + "]" * 50 + "\n", name="ok.yaml")
    assert load_documents(ok)[0].value["data"] is not None


def test_a_definitions_own_render_error_names_the_trait_line(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """\
  components:
    - name: one
      type: webservice
      properties: {image: nginx}
      traits:
        - type: json-patch
          properties:
            operations: [{op: remove, path: /spec/absent/x}]
"""
    )
    loaded = load_app(path, defs=[])
    with pytest.raises(RenderError) as info:
        render_app(loaded.app)
    err = info.value
    assert "does not exist in the workload" in err.message
    assert err.where is not None and (err.where.file, err.where.line) == (
        str(path),
        line_of(path, "type: json-patch"),
    )


def test_a_property_in_camel_and_snake_case_at_once_is_refused(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """\
  components:
    - name: one
      type: webservice
      properties:
        image: nginx
        imagePullPolicy: Always
        image_pull_policy: Never
"""
    )
    with pytest.raises(ParameterError) as info:
        load_app(path, defs=[])
    err = info.value
    assert "same property ('imagePullPolicy') given twice" in err.message
    assert err.where is not None and err.where.line == line_of(path, "image_pull_policy:")
    assert f"line {line_of(path, 'imagePullPolicy:')}" in (err.got or "")


def test_two_workflow_steps_of_one_name_are_refused(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + """\
  components:
    - {name: one, type: webservice, properties: {image: nginx}}
  workflow:
    steps:
      - {name: go, type: apply-component, properties: {component: one}}
      - {name: go, type: suspend, properties: {duration: 1s}}
"""
    )
    with pytest.raises(AppError) as info:
        load_app(path, defs=[])
    err = info.value
    assert err.message == "two workflow steps are named 'go'"
    assert err.where is not None and err.where.line == line_of(path, "type: suspend")


def test_a_tab_in_the_indentation_says_so(write_yaml: WriteYaml) -> None:
    path = write_yaml(HEAD + "  components:\n    - name: one\n      type: webservice\n\tproperties: {}\n")
    err = _load_error(path)
    assert "not valid YAML" in err.message and "tabs" in (err.fix or "")
    assert err.where is not None and err.where.line == line_of(path, "\tproperties")
    path = write_yaml(HEAD + "  components: [\n")
    assert "tabs" not in (_load_error(path).fix or "")
