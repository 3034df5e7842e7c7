"""step() resolves only the return annotation: the context's may exist for type checkers alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import attrs
import pytest

from pyvela import step
from pyvela.errors import DefinitionError

if TYPE_CHECKING:
    from pyvela import StepContext


@attrs.frozen(kw_only=True)
class P:
    name: str


@attrs.frozen(kw_only=True)
class Out:
    value: str


def test_a_context_imported_for_type_checkers_only_still_defines_the_step() -> None:
    async def fn(p: P, ctx: StepContext) -> Out:
        return Out(value=p.name)

    assert step(name="typed-only", params=P)(fn).outputs_type is Out


def test_the_return_annotation_keeps_get_type_hints_rules() -> None:
    async def annotated(p: P, ctx: StepContext) -> Annotated[Out, "doc"]:
        return Out(value=p.name)

    async def nothing(p: P, ctx: StepContext) -> None:
        return None

    assert step(name="annotated", params=P)(annotated).outputs_type is Out
    assert step(name="nothing", params=P)(nothing).outputs_type is None


def test_an_unresolvable_return_annotation_is_still_refused() -> None:
    async def fn(p: P, ctx: StepContext) -> Missing:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(DefinitionError, match="cannot resolve the return annotation"):
        step(name="missing", params=P)(fn)
