"""A kube parameter's fields are KubeVela's (name, type, required, fieldPaths, description): a
typo is refused at its line with the closest field, since ``requried: true`` ignored would leave
a required property optional; every malformed parameter's message carries a fix."""

from __future__ import annotations

import pytest

from pyvela import load_app
from pyvela.errors import DefinitionError
from tests.app.kubevela.conftest import WriteYaml, line_of

DOC = """
apiVersion: core.oam.dev/v1beta1
kind: ComponentDefinition
metadata: {name: box}
spec:
  schematic:
    kube:
      template:
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              containers: [{name: box, image: busybox}]
      parameters:
        - name: image
          %s
          fieldPaths: ["spec.template.spec.containers[0].image"]
          description: the image
---
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: boxes}
spec:
  components:
    - name: box
      type: box
      properties: {image: busybox:1.36}
"""


@pytest.mark.parametrize(
    ("line", "field", "fix"),
    [
        ("requried: true", "requried", "did you mean 'required'?"),
        ("fieldPath: [spec.x]", "fieldPath", "did you mean 'fieldPaths'?"),
        ("default: x", "default", "remove it"),
    ],
)
def test_an_unknown_field_of_a_kube_parameter_is_refused_at_its_line(
    write_yaml: WriteYaml, line: str, field: str, fix: str
) -> None:
    path = write_yaml(DOC % line)
    with pytest.raises(DefinitionError) as info:
        load_app(path, defs=["platform_defs"])
    err = info.value
    assert f"unknown field {field!r}" in err.message and err.fix == fix
    assert err.where is not None and err.where.line == line_of(path, line)


def test_the_documented_fields_load(write_yaml: WriteYaml) -> None:
    loaded = load_app(write_yaml(DOC % "required: true\n          type: string"), defs=["platform_defs"])
    assert loaded.catalogue.get("component", "box") is not None


@pytest.mark.parametrize(
    ("line", "fix"),
    [("type: integer", "use type: string, number or boolean"), ("type: strin", "did you mean 'string'?")],
)
def test_an_unknown_type_says_the_fix(write_yaml: WriteYaml, line: str, fix: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_app(write_yaml(DOC % line), defs=["platform_defs"])
    assert info.value.fix == fix


def test_a_parameter_without_a_name_says_the_fix(write_yaml: WriteYaml) -> None:
    path = write_yaml((DOC % "x: 1").replace("- name: image", "- required: true", 1))
    with pytest.raises(DefinitionError) as info:
        load_app(path, defs=["platform_defs"])
    assert "unknown field 'x'" in info.value.message
    path = write_yaml((DOC % "type: string").replace("- name: image", "- name: ''", 1))
    with pytest.raises(DefinitionError) as info:
        load_app(path, defs=["platform_defs"])
    assert "needs a name" in info.value.message
    assert info.value.fix == "add `name: <property>` to the parameter"
