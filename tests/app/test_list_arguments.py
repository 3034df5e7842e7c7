"""One value where a list belongs (``components=web``, ``policies=p``, ``workflow=step``,
``steps=step``) is one AppError at the app's line saying to wrap it in a list, never
Python's "'ComponentUse' object is not iterable" from inside pyvela."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import AppError
from tests.conftest import ROOT

WriteApp = Callable[..., Path]
DEFS = ["platform_defs", "tests.sample_defs"]
HEAD = """\
from pyvela import Application, StepGroup, Workflow
from pyvela.stdlib import webservice
from tests.sample_defs import noop

web = webservice("web", image="nginx:1.27")
"""


@pytest.mark.parametrize(
    ("call", "argument", "example"),
    [
        ('Application("a", components=web)', "components=", "components=[web]"),
        ('Application("a", components="web")', "components=", "components=[web]"),
        ('Application("a", components=[web], policies=web)', "policies=", "policies=["),
        ('Application("a", components=[web], workflow=noop("one"))', "workflow=", "workflow=["),
        ('Application("a", components=[web], workflow=Workflow(steps=noop("one")))', "steps=", "steps=["),
        (
            'Application("a", components=[web], workflow=[StepGroup(name="g", steps=noop("one"))])',
            "steps=",
            "steps=[",
        ),
    ],
)
def test_one_value_where_a_list_belongs_is_one_error_at_the_apps_line(
    write_app: WriteApp, call: str, argument: str, example: str
) -> None:
    path = write_app(HEAD + "app = " + call + "\n")
    with pytest.raises(AppError) as info:
        load_app(path, defs=DEFS)
    err = info.value
    assert err.where is not None and err.where.file == str(path) and err.where.line == 6, str(err)
    assert f"{argument} must be a list" in err.message
    assert err.fix is not None and example in err.fix
    assert "not iterable" not in str(err)


def test_a_generator_is_still_a_list_of_components(write_app: WriteApp) -> None:
    path = write_app(HEAD + 'app = Application("a", components=(c for c in [web]))\n')
    assert [c.name for c in load_app(path, defs=DEFS).app.components] == ["web"]


def test_the_cli_says_it_in_one_message_and_exits_non_zero(write_app: WriteApp) -> None:
    path = write_app(HEAD + 'app = Application("a", components=web)\n')
    done = subprocess.run(
        [sys.executable, "-m", "pyvela", "render", str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "not iterable" not in done.stderr
    assert f"{path}:6: the Application's components= must be a list" in done.stderr
    assert "components=[web]" in done.stderr
