"""`pyvela delete app.py` says it deletes the app *from* the target ("deleting shop to sandbox"
read as if it were deploying there)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

APP = """
from pyvela import Application
from pyvela.stdlib import k8s_objects

app = Application("gone", components=[k8s_objects("cfg", objects=(
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}},
))])
"""


def test_the_delete_header_says_from(
    write_app: Callable[..., Path], sandbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write_app(APP))
    assert main(["deploy", path]) == 0
    capsys.readouterr()
    assert main(["delete", path]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("deleting gone (revision ") and ") from sandbox (" in first, first
