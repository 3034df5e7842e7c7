"""KubeVela types outside pyvela's scope (Terraform cloud resources, FluxCD's kustomize, deprecated
traits and steps) are refused from YAML saying why, at the line of their type; a team's own
definition of such a name still wins."""

from __future__ import annotations

import pytest

from pyvela import load_app
from pyvela.errors import UnknownDefinitionError
from pyvela.stdlib import unsupported
from tests.app.kubevela.conftest import WriteYaml, line_of

HEAD = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: scope
spec:
  components:
"""


@pytest.mark.parametrize(
    ("body", "kind", "name"),
    [
        (
            "    - name: db\n      type: alibaba-rds\n      properties: {instance_name: x}\n",
            "component",
            "alibaba-rds",
        ),
        ("    - name: b\n      type: aws-s3\n", "component", "aws-s3"),
        ("    - name: k\n      type: kustomize\n", "component", "kustomize"),
        (
            "    - name: w\n      type: webservice\n      properties: {image: nginx}\n"
            "      traits:\n        - type: pvc\n          properties: {claimName: c}\n",
            "trait",
            "pvc",
        ),
        (
            "    - name: w\n      type: webservice\n      properties: {image: nginx}\n"
            "      traits:\n        - type: kustomize-json-patch\n",
            "trait",
            "kustomize-json-patch",
        ),
    ],
)
def test_an_out_of_scope_type_says_why_at_its_line(
    write_yaml: WriteYaml, body: str, kind: str, name: str
) -> None:
    path = write_yaml(HEAD + body)
    with pytest.raises(UnknownDefinitionError) as info:
        load_app(path, defs=[])
    err = info.value
    assert err.message.startswith(f"{kind} type {name!r} is not supported, because ")
    assert err.where is not None and (err.where.file, err.where.line) == (
        str(path),
        line_of(path, f"type: {name}"),
    )


def test_a_deprecated_step_says_why(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        HEAD
        + "    - name: w\n      type: webservice\n      properties: {image: nginx}\n"
        + "  workflow:\n    steps:\n      - name: all\n        type: deploy2runtime\n"
    )
    with pytest.raises(UnknownDefinitionError, match="step type 'deploy2runtime' is not supported, because"):
        load_app(path, defs=[])


def test_a_plain_unknown_type_is_still_unknown() -> None:
    assert unsupported.why_component("alibabacloud") is None  # the prefix needs its dash
    assert unsupported.why_component("webservise") is None and unsupported.why_trait("scalr") is None
    assert unsupported.why_component("azure-database-mariadb") is not None


def test_a_team_definition_of_a_refused_name_wins(write_yaml: WriteYaml) -> None:
    # platform_defs defines its own `ingress` trait: the refusal is only for names no module has.
    path = write_yaml(
        HEAD
        + "    - name: w\n      type: webservice\n      properties: {image: nginx, port: 80}\n"
        + "      traits:\n        - type: ingress\n"
        + "          properties: {domain: a.example.com, http: {'/': 80}}\n"
    )
    assert unsupported.why_trait("ingress") is not None
    loaded = load_app(path, defs=["platform_defs"])
    assert [t.definition.name for t in loaded.app.components[0].traits] == ["ingress"]
