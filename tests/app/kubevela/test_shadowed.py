"""A KubeVela property the standard definition has, refused by a team's definition of the
same name that replaces it (the seed's ``helm``): the fix says so and how to reach the standard one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import ParameterError

WriteApp = Callable[..., Path]

HELM = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: helm-shop}
spec:
  components:
    - name: redis
      type: helm
      properties: {repoType: helm, %s: "https://charts.example.com", chart: redis, version: 17.0.0}
"""


def test_a_property_of_the_standard_definition_names_the_one_that_replaced_it(write_app: WriteApp) -> None:
    path = write_app(HELM % "url", "app.yaml")
    with pytest.raises(ParameterError) as info:
        load_app(path, defs=["platform_defs"])
    fix = info.value.fix or ""
    assert "platform_defs/components.py" in fix and "replaces the standard library's" in fix
    assert "--defs pyvela.stdlib" in fix
    assert load_app(path, defs=["pyvela.stdlib"]).app.components[0].definition.name == "helm"


def test_a_property_no_definition_has_keeps_its_own_fix(write_app: WriteApp) -> None:
    path = write_app(HELM % "ulr", "app.yaml")
    with pytest.raises(ParameterError) as info:
        load_app(path, defs=["platform_defs"])
    assert "standard library" not in (info.value.fix or "")


def test_a_mapping_given_a_number_reads_as_english(write_app: WriteApp) -> None:
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: hpa}
        spec:
          components:
            - name: web
              type: webservice
              properties: {image: "nginx:1.27"}
              traits: [{type: hpa, properties: {cpu: 60}}]
        """,
        "hpa.yaml",
    )
    with pytest.raises(ParameterError) as info:
        load_app(path)
    assert info.value.fix == "give cpu a mapping of type, value"


def test_a_list_property_given_a_string_says_a_list(write_app: WriteApp) -> None:
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: topo}
        spec:
          components: [{name: web, type: webservice, properties: {image: "nginx:1.27"}}]
          policies: [{name: p, type: topology, properties: {clusters: local}}]
        """,
        "topo.yaml",
    )
    with pytest.raises(ParameterError) as info:
        load_app(path)
    assert info.value.expected == "a list of str" and info.value.fix == "give clusters a list of str"
