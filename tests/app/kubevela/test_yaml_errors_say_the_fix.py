"""A KubeVela YAML step timeout that is no duration, and a document that is no mapping, say
what to write instead (the other YAML errors already do)."""

from __future__ import annotations

import pytest

from pyvela import load_app
from pyvela.errors import PyvelaError
from tests.app.kubevela.conftest import DEFS, WriteYaml

TIMEOUT = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: bad
spec:
  components: []
  workflow:
    steps:
      - name: gate
        type: suspend
        timeout: 1min
"""


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        pytest.param(TIMEOUT, "timeout: 1m", id="timeout-not-a-duration"),
        pytest.param("[]\n", "Application", id="document-not-a-mapping"),
    ],
)
def test_the_error_says_the_fix(write_yaml: WriteYaml, text: str, fix: str) -> None:
    with pytest.raises(PyvelaError) as caught:
        load_app(write_yaml(text), defs=DEFS)
    assert caught.value.where is not None
    assert caught.value.fix and fix in caught.value.fix, str(caught.value)
