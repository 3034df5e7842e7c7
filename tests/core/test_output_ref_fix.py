"""A reference to a step output that does not exist (``s.outputs.cluster``): the error's fix
names the closest output, or one that exists, as a parameter typo's does."""

from __future__ import annotations

import pytest

from platform_defs import apply_base
from pyvela.errors import DefinitionError


def test_a_misspelt_output_suggests_the_right_one() -> None:
    base = apply_base("apply-base-service", component="base-service")
    with pytest.raises(DefinitionError) as info:
        _ = base.outputs.cluster_iq  # type: ignore[attr-defined]
    assert info.value.fix == "did you mean 'cluster_ip'?"
    assert info.value.where is not None and info.value.where.file == __file__


def test_an_unrelated_name_names_an_output_that_exists() -> None:
    base = apply_base("apply-base-service", component="base-service")
    with pytest.raises(DefinitionError) as info:
        _ = base.outputs.zzz  # type: ignore[attr-defined]
    assert info.value.fix is not None and ".outputs.cluster_ip" in info.value.fix
