"""A step's outputs are type-checked when it returns them, field by field (an attrs class does
not check its own types): `Out(count="many")` for `count: int` fails the step there, at the
definition's line, rather than succeed and fail (or not) in whichever step reads it."""

from __future__ import annotations

import attrs
import pytest

from pyvela import StepContext, step
from pyvela._workflow.stepio import outputs_of
from pyvela.errors import StepError


@attrs.frozen(kw_only=True)
class NoParams:
    pass


@attrs.frozen(kw_only=True)
class Counted:
    count: int
    names: tuple[str, ...] = ()


@step(name="counts", params=NoParams)
async def counts(p: NoParams, ctx: StepContext) -> Counted:
    """Counts."""
    return Counted(count=1)


def test_outputs_of_the_declared_types_are_kept() -> None:
    use = counts("c")
    assert outputs_of("c", use, Counted(count=2, names=("a",))) == {"count": 2, "names": ("a",)}


@pytest.mark.parametrize(
    ("result", "field"),
    [
        (Counted(count="many"), "count"),  # type: ignore[arg-type]
        (Counted(count=1, names=("a", 2)), "names"),  # type: ignore[arg-type]
    ],
)
def test_an_output_of_the_wrong_type_fails_the_step(result: Counted, field: str) -> None:
    with pytest.raises(StepError) as caught:
        outputs_of("c", counts("c"), result)
    err = caught.value
    assert f"output {field!r} of the wrong type" in str(err)
    assert err.where == counts.where and err.fix
