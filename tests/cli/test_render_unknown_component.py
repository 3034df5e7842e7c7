"""`render --component NAME` naming no component of the app says the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

APP = """
from pyvela import Application
from pyvela.stdlib import webservice

app = Application("one", components=[webservice("web", image="nginx:1.27")])
"""


def test_an_unknown_component_says_which_exist_and_the_fix(
    write_app: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", str(write_app(APP)), "--component", "wbe"]) == 1
    err = capsys.readouterr().err
    assert "no component named wbe in 'one'" in err and "one of web" in err
    assert "fix:      --component web" in err, err
