"""Shapes KubeVela's published examples use that pyvela's YAML path must accept as KubeVela does
(our own apps in those shapes): collect-service-endpoints' ``value.endpoint.*`` / ``value.url``
outputs, run through the real runner on the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import AppError
from tests.app.kubevela.conftest import WriteYaml
from tests.runner_helpers import ops_for, sandbox

APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: endpoints-flow}
spec:
  components:
    - name: api
      type: webservice
      properties:
        image: nginx
        ports: [{port: 8080, expose: true}]
  workflow:
    steps:
      - name: apply
        type: apply-component
        properties: {component: api}
      - name: collect
        type: collect-service-endpoints
        outputs:
          - {name: host, valueFrom: value.endpoint.host}
          - {name: link, valueFrom: value.url}
          - {name: port, valueFrom: value.endpoint.port}
      - name: show
        type: print-message-in-status
        inputs: [{from: link, parameterKey: message}]
"""


def test_value_of_collect_service_endpoints_reads_its_outputs(write_yaml: WriteYaml, tmp_path: Path) -> None:
    result = ops_for(write_yaml(APP), sandbox(tmp_path / "sb"), defs=[]).deploy()
    collect = result.steps["collect"]
    assert collect["phase"] == "succeeded", collect
    url = collect["outputs"]["url"]
    assert url.startswith("http://") and url.endswith(":8080")
    assert collect["outputs"]["kv_host"] == collect["outputs"]["endpoint"]["host"]
    assert collect["outputs"]["kv_port"] == 8080
    assert result.steps["show"]["phase"] == "succeeded"


def test_value_of_a_field_no_step_output_has_is_still_refused(write_yaml: WriteYaml) -> None:
    path = write_yaml(APP.replace("value.url", "value.nosuch"))
    with pytest.raises(AppError) as info:
        load_app(path, defs=[])
    assert "value" in info.value.message and "endpoint" in (info.value.expected or "")
