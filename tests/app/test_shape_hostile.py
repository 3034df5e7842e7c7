"""Malformed Python apps an acceptance suite writes: each one AppError at the app's line (a
wrong mode, a non-condition, a trait or an order that is not one, an empty group), never a
traceback or an app that silently loads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import AppError

WriteApp = Callable[..., Path]

HEAD = """
from pyvela import Application, StepGroup, Workflow
from pyvela.stdlib import apply_component, scaler, webservice
web = webservice("web", image="x:1")
"""


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            'app = Application("a", components=[web], workflow=Workflow(steps=[apply_component("s", '
            'component="web")], mode="Parallel"))',
            "the workflow's mode is not a mode",
        ),
        (
            'app = Application("a", components=[web], workflow=[StepGroup(name="g", mode="Fast", '
            'steps=[apply_component("s", component="web")])])',
            "the mode of step group 'g' is not a mode",
        ),
        (
            'app = Application("a", components=[web], workflow=[apply_component("s", component="web")'
            '.when("sometimes")])',
            "the .when() condition of step 's' is not a condition",
        ),
        ('app = Application("a", components=[web.with_traits("scaler")])', "traits must be made by calling"),
        (
            'app = Application("a", components=[web], workflow=[StepGroup(name="g", steps=[])])',
            "step group 'g' has no steps",
        ),
        (
            'app = Application("a", components=[web], workflow=[apply_component("s", component="web")'
            ".after(5)])",
            "step 's' is ordered after 5 (int)",
        ),
        ('app = Application("a", components=[web.after(3.5)])', "component 'web' is ordered after 3.5"),
    ],
)
def test_a_malformed_app_is_one_error_at_its_line(write_app: WriteApp, line: str, says: str) -> None:
    path = write_app(HEAD + line + "\n")
    with pytest.raises(AppError) as info:
        load_app(path)
    err = info.value
    assert says in err.message, err
    assert err.where is not None and err.where.file == str(path) and err.fix, err
