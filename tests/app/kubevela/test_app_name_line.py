"""A KubeVela Application's invalid name is reported at its `name:` line, not the document's
first line."""

from __future__ import annotations

import pytest

from pyvela import load_app
from pyvela.errors import AppError
from tests.app.kubevela.conftest import DEFS, WriteYaml, line_of


def test_an_invalid_app_name_is_reported_at_its_line(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata:
          namespace: default
          name: My_App
        spec:
          components: []
        """
    )
    with pytest.raises(AppError) as caught:
        load_app(path, defs=DEFS)
    assert "not a valid Kubernetes name" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line == line_of(path, "name: My_App")
