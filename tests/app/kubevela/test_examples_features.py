"""Features KubeVela's published examples use, each in a small app of our own: computed
outputs per step (not per step type), json-merge-patch replacing lists, the request step's
``response`` in ``valueFrom``, inputs into nested parameters of a step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyvela import errors, load_app
from tests.app.kubevela.conftest import DEFS, WriteYaml
from tests.runner_helpers import ops_for, sandbox
from tests.stdlib.outbound_servers import running_hooks


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


REQUEST_APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: stars}
spec:
  components: []
  workflow:
    steps:
      - name: ask
        type: request
        properties: {url: BASE/api/repo}
        outputs:
          - name: count
            valueFrom: |
              import "strconv"
              "stars: " + strconv.FormatInt(response["stargazers_count"], 10)
      - name: tell
        type: notification
        inputs:
          - from: count
            parameterKey: slack.message.text
        properties:
          slack:
            url: {value: SLACK}
      - name: on-failure
        type: notification
        if: status.ask.failed
        properties:
          slack:
            url: {value: SLACK}
            message: {text: asking failed}
"""


def test_request_response_strconv_and_an_input_into_a_nested_parameter(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    with running_hooks() as hooks:
        text = REQUEST_APP.replace("BASE", hooks.base).replace("SLACK", hooks.slack_url())
        result = ops_for(write_yaml(text), sandbox(tmp_path / "sb"), defs=DEFS).deploy()
        assert result.ok, result.to_dict()
        (sent,) = hooks.to("/services/")
    assert sent.body["text"] == "stars: 42"
    assert result.steps["on-failure"]["phase"] == "skipped"


def test_a_call_without_its_import_or_of_another_function_is_refused(write_yaml: WriteYaml) -> None:
    for value_from, words in [
        ('"n" + strconv.FormatInt(response.x, 10)', 'needs import "strconv"'),
        ('import "strings"\nstrings.ToUpper(body)', "strings.ToUpper is not supported"),
    ]:
        text = REQUEST_APP.replace("BASE", "http://127.0.0.1:9").replace("SLACK", "http://127.0.0.1:9")
        start = text.index("valueFrom: |") + len("valueFrom: ")
        text = text[:start] + json.dumps(value_from) + text[text.index("      - name: tell") - 1 :]
        path = write_yaml(text)
        with pytest.raises(errors.AppError, match=words) as info:
            load_app(path, defs=DEFS)
        assert f"{path}:" in str(info.value)


