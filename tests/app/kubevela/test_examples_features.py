"""Features KubeVela's published examples use, each in a small app of our own: computed
outputs per step (not per step type), json-merge-patch replacing lists, the request step's
``response`` in ``valueFrom``, inputs into nested parameters of a step."""

from __future__ import annotations

from pathlib import Path

from tests.app.kubevela.conftest import DEFS, WriteYaml
from tests.runner_helpers import ops_for, sandbox


def test_a_step_without_outputs_has_none_of_another_step_of_its_type(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: two-echoes}
        spec:
          components: []
          workflow:
            steps:
              - name: plain
                type: echo
                properties: {text: a}
              - name: computing
                type: echo
                properties: {text: b}
                outputs:
                  - name: shout
                    valueFrom: outputs.value + "!"
              - name: reading
                type: echo
                inputs: [{from: shout, parameterKey: text}]
    """)
    result = ops_for(path, sandbox(tmp_path / "sb"), defs=DEFS).deploy()
    assert result.ok, result.to_dict()
    steps = result.steps
    assert steps["plain"]["outputs"] == {"value": "a"}
    assert steps["computing"]["outputs"]["value"] == "b"
    assert len(steps["computing"]["outputs"]) == 2  # value, and shout's field
    assert steps["reading"]["outputs"] == {"value": "b!"}
