"""Shapes KubeVela's published examples use that pyvela's YAML path must accept as KubeVela does
(our own apps in those shapes): collect-service-endpoints' ``value.endpoint.*`` / ``value.url``
outputs; KubeVela's apply-deployment and deprecated apply-application steps; run through the real
runner on the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._core.objects import ObjectRef
from pyvela.errors import AppError, PyvelaError
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


APPLY_STEPS = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: older-steps, namespace: legacy}
spec:
  components:
    - {name: front, type: webservice, properties: {image: nginx:1.27}}
    - {name: back, type: worker, properties: {image: busybox, cmd: [sleep, "3600"]}}
  workflow:
    steps:
      - name: helper
        type: apply-deployment
        properties: {image: busybox, replicas: 2, cmd: [sleep, "60"]}
      - name: everything
        type: apply-application
"""


def test_apply_deployment_and_the_deprecated_apply_application_run(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    box = sandbox(tmp_path / "sb")
    try:
        result = ops_for(write_yaml(APPLY_STEPS), box, defs=[]).deploy()
        assert result.ok, result.steps
        helper = box.get(ObjectRef("apps/v1", "Deployment", "legacy", "helper"))
        assert helper is not None
        step_label = {"workflow.oam.dev/step-name": "older-steps-helper"}
        assert helper["spec"]["selector"]["matchLabels"] == step_label
        assert helper["spec"]["replicas"] == 2
        assert helper["spec"]["template"]["metadata"]["labels"] == step_label
        assert helper["spec"]["template"]["spec"]["containers"] == [
            {"name": "helper", "image": "busybox", "command": ["sleep", "60"]}
        ]
        assert result.steps["helper"]["outputs"]["value"]["status"]["readyReplicas"] == 2
        placed = result.steps["everything"]["outputs"]["placements"]["local"]
        assert set(placed) == {"front", "back"}
        for name in ("front", "back"):
            live = box.get(ObjectRef("apps/v1", "Deployment", "legacy", name))
            assert live is not None and live["status"]["readyReplicas"] == 1
    finally:
        box.close()


def test_apply_deployment_checks_its_parameters(write_yaml: WriteYaml) -> None:
    path = write_yaml(APPLY_STEPS.replace("replicas: 2", "replicas: -1"))
    with pytest.raises(PyvelaError, match="replicas must not be negative"):
        load_app(path, defs=[])
    path = write_yaml(
        APPLY_STEPS.replace("properties: {image: busybox, replicas: 2", "properties: {replicas: 2")
    )
    with pytest.raises(PyvelaError, match="missing required property 'image'"):
        load_app(path, defs=[])
