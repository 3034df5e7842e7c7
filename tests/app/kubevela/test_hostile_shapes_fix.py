"""A KubeVela document of the wrong shape (a string where a list or mapping belongs, a number
for a name, an unknown mode) is one error that says the fix, not only what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import AppError

WriteApp = Callable[..., Path]


@pytest.mark.parametrize(
    ("spec", "fix"),
    [
        ("{components: web}", "write spec.components as a list"),
        ("{components: [web]}", "write a component as `key: value` lines"),
        ("{components: [{name: 123, type: webservice}]}", "write a component's name as a string"),
        (
            '{components: [{name: web, type: webservice, properties: {image: "x:1"}, '
            "traits: {type: scaler}}]}",
            "write traits as a list",
        ),
        (
            "{components: [], workflow: {mode: {steps: Parallel}, steps: []}}",
            "DAG (only dependsOn orders the steps) or StepByStep",
        ),
    ],
)
def test_a_wrong_shape_says_the_fix(write_app: WriteApp, spec: str, fix: str) -> None:
    path = write_app(
        f"apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {{name: y}}\nspec: {spec}\n",
        "y.yaml",
    )
    with pytest.raises(AppError) as info:
        load_app(path)
    assert info.value.fix is not None and fix in info.value.fix, info.value


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(AppError) as info:
        load_app(path)
    assert info.value.fix is not None and "UTF-8" in info.value.fix
