"""Checks made when the app loads, never silently at run time: conditions that name unknown
steps, step outputs of the wrong type for their parameter, components ordered in vain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._core.assignable import may_assign
from pyvela._core.params import ComponentName
from pyvela.errors import AppError, DanglingReferenceError, ParameterError

WriteApp = Callable[..., Path]
DEFS = ["platform_defs", "tests.sample_defs"]


def test_a_condition_naming_an_unknown_step_is_refused_at_its_line(write_app: WriteApp) -> None:
    path = write_app(
        """
        from pyvela import Application
        from tests.sample_defs import noop

        first = noop("first")
        alert = noop("alert").after(first).when(
            lambda wf: wf.phase("frist") == "failed"
        )
        app = Application("a", components=[], workflow=[first, alert])
        """
    )
    with pytest.raises(DanglingReferenceError, match="unknown step 'frist'") as info:
        load_app(path, defs=DEFS)
    assert info.value.where is not None and info.value.where.line == 6  # the lambda's line
    assert "first" in (info.value.expected or "") and info.value.context["step"] == "alert"


def test_conditions_that_only_fail_on_fake_data_are_left_to_run_time(write_app: WriteApp) -> None:
    path = write_app(
        """
        from pyvela import Application
        from tests.sample_defs import echo, noop

        first = echo("first", text="x")
        later = noop("later").when(lambda wf: wf.output(first.outputs.value).startswith("x"))
        app = Application("a", components=[], workflow=[first, later])
        """
    )
    load_app(path, defs=DEFS)  # the output is None in the probe: not an error at load


def test_an_output_of_the_wrong_type_is_refused_at_the_call_site(write_app: WriteApp) -> None:
    path = write_app(
        """
        import attrs
        from pyvela import Application, StepContext, step

        @attrs.frozen(kw_only=True)
        class Count:
            replicas: int

        @attrs.frozen(kw_only=True)
        class Host:
            host: str

        @step(name="count", params=Host)
        async def count(p: Host, ctx: StepContext) -> Count:
            return Count(replicas=1)

        first = count("first", host="h")
        second = count("second", host=first.outputs.replicas)  # type: ignore[arg-type]
        app = Application("a", components=[], workflow=[first, second])
        """
    )
    wrong = r"step output first\.outputs\.replicas of the wrong type"
    with pytest.raises(ParameterError, match=wrong) as info:
        load_app(path, defs=DEFS)
    assert info.value.where is not None and info.value.where.line == 17
    assert info.value.expected == "str" and "int" in (info.value.got or "")


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        (str, str, True),
        (int, float, True),
        (bool, int, True),
        (int, str, False),
        (str | None, str, True),  # may be a str: the run-time check decides
        (int | None, str, False),
        (str, ComponentName, True),
        (int, ComponentName, False),
        (str, "Literal", True),
        (list[str], tuple[str, ...], False),
        (list[str], list[int], True),  # type arguments are checked with the value
        (dict[str, int], dict[str, str] | None, True),
    ],
)
def test_may_assign(source: object, target: object, ok: bool) -> None:
    from typing import Any, Literal

    if target == "Literal":
        target = Literal["a", "b"]
    assert may_assign(source if source is not Any else Any, target) is ok


def test_component_order_in_an_app_with_a_workflow_is_refused(write_app: WriteApp) -> None:
    path = write_app(
        """
        from platform_defs import apply_base, base_service
        from pyvela import Application

        db = base_service("db", image="postgres:16", cluster="c")
        web = base_service("web", image="nginx:1.27", cluster="c").after(db)
        app = Application(
            "a",
            components=[db, web],
            workflow=[apply_base("web", component="web"), apply_base("db", component="db")],
        )
        """
    )
    with pytest.raises(AppError, match=r"component 'web' is ordered with \.after\('db'\)") as info:
        load_app(path)
    assert info.value.where is not None and info.value.where.line == 5
    assert "apply_x.after(apply_y)" in (info.value.fix or "")
