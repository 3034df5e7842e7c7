"""`pyvela diff` of a KubeVela YAML app whose step inputs set a component's properties from
another step's outputs: the live revision's recorded outputs are replayed (as a Python app's
workload patches are), so a deploy's own values are no change, and an edit is exactly itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyvela._cli.main import main

#: The worker's image comes from the web's workload (a component's own outputs and inputs).
COMPONENT_IO = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: io
spec:
  components:
    - name: web
      type: webservice
      properties: {image: "nginx:1", ports: [{port: 80, expose: true}]}
      outputs:
        - name: img
          valueFrom: output.spec.template.spec.containers[0].image
    - name: worker
      type: worker
      dependsOn: [web]
      properties: {image: busybox}
      inputs:
        - {from: img, parameterKey: properties.image}
"""

#: The same chain through workflow steps, the consumer in a step group, by a bare property key.
STEP_IO = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: steps-io
spec:
  components:
    - {name: web, type: webservice, properties: {image: "nginx:1"}}
    - {name: worker, type: worker, properties: {image: busybox}}
  workflow:
    steps:
      - name: apply-web
        type: apply-component
        properties: {component: web}
        outputs:
          - {name: img, valueFrom: 'output.spec.template.spec.containers[0].image'}
      - name: later
        type: step-group
        subSteps:
          - name: apply-worker
            type: apply-component
            properties: {component: worker}
            inputs:
              - {from: img, parameterKey: image}
"""


def _diff(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[dict[str, str]], str]:
    code = main(["diff", str(path), "-o", "json"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    items = json.loads(out.out)
    assert main(["diff", str(path)]) == code
    return code, items, capsys.readouterr().out


@pytest.mark.parametrize("source", [COMPONENT_IO, STEP_IO], ids=["component-io", "step-io"])
def test_diff_replays_the_live_revisions_outputs_into_the_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sandbox_dir: Path, source: str
) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(source)
    assert main(["deploy", str(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    code, items, text = _diff(capsys, path)
    assert code == 0, text
    assert {i["change"] for i in items} == {"unchanged"}, text
    worker = next(i for i in items if i["object"] == "Deployment default/worker")
    assert "live revision's outputs" in worker["note"]

    # A property the input does not set: exactly that line changes, the image stays the output's.
    path.write_text(source.replace("{image: busybox}", '{image: busybox, cmd: ["sleep", "60"]}'))
    code, items, text = _diff(capsys, path)
    assert code == 1
    changed = {i["object"]: i for i in items if i["change"] != "unchanged"}
    assert list(changed) == ["Deployment default/worker"], text
    body = changed["Deployment default/worker"]["diff"].splitlines()
    edits = [line for line in body if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    # The container's lines move (YAML puts command first); its image stays the output's.
    assert {"+        - sleep", "+        - '60'"} <= set(edits), edits
    assert not [line for line in edits if "busybox" in line], edits
    assert [line.split()[-1] for line in edits if "image:" in line] == ["nginx:1", "nginx:1"], edits


def test_before_any_deploy_the_properties_are_those_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sandbox_dir: Path
) -> None:
    """No live revision, no outputs: nothing to replay (the worker is created as written)."""
    path = tmp_path / "app.yaml"
    path.write_text(COMPONENT_IO)
    code, items, _ = _diff(capsys, path)
    assert code == 1
    worker = next(i for i in items if i["object"] == "Deployment default/worker")
    assert worker["change"] == "create" and "note" not in worker


#: COMPONENT_IO as a Python module (what `pyvela convert` writes): the same replay.
PYTHON_IO = """\
from pyvela import Application, Workflow, kubevela_step
from pyvela.stdlib import Port, apply_component, webservice, worker

web = webservice("web", image="nginx:1", ports=(Port(port=80, expose=True),))
worker_component = worker("worker", image="busybox")
web_step = kubevela_step(
    "web", apply_component, component="web", outputs={"img": "output.spec.template.spec.containers[0].image"}
)
worker_step = kubevela_step(
    "worker",
    apply_component,
    component="worker",
    inputs={"properties.image": web_step.outputs.kv_img},
    applies=worker_component,
).after("web")
app = Application("io", components=[web, worker_component], workflow=Workflow(steps=[web_step, worker_step]))
"""


def test_a_python_apps_kubevela_step_inputs_are_replayed_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sandbox_dir: Path
) -> None:
    path = tmp_path / "io_app.py"
    path.write_text(PYTHON_IO)
    assert main(["deploy", str(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    code, items, text = _diff(capsys, path)
    assert code == 0 and {i["change"] for i in items} == {"unchanged"}, text
