"""Golden files: the objects each standard definition renders, derived from KubeVela v1.10.1's CUE."""

from __future__ import annotations

import pytest
from stdlib_support import APPS, DEFS, GOLDEN

from pyvela import load_app
from pyvela.testing import assert_golden

GOLDEN_APPS = [
    "components",
    "stateful_and_charts",
    "container_traits",
    "object_traits",
    "pod_traits",
    "placement_traits",
]


@pytest.mark.parametrize("name", GOLDEN_APPS)
def test_golden(name: str) -> None:
    assert_golden(load_app(APPS / f"{name}.py", defs=DEFS), GOLDEN / f"{name}.yaml")
