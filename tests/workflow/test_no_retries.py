"""`.with_retries(0)` means no retry: one attempt, as written (it meant the runner's default of
5 retries, since 0 also stood for "not set")."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: connections to it are refused at once


@pytest.mark.parametrize(("suffix", "attempts"), [(".with_retries(0)", 1), (".with_retries(1)", 2)])
def test_a_step_is_attempted_as_often_as_it_says(
    write_app: Callable[..., Path],
    sandbox_dir: Path,
    capsys: pytest.CaptureFixture[str],
    suffix: str,
    attempts: int,
) -> None:
    path = write_app(
        f"""
        from pyvela import Application
        from pyvela.stdlib import request

        app = Application("once", components=[], workflow=[
            request("ask", url="http://127.0.0.1:{_closed_port()}/x"){suffix},
        ])
        """
    )
    assert main(["deploy", str(path), "-o", "json"]) == 1
    step = json.loads(capsys.readouterr().out)["steps"]["ask"]
    assert step["phase"] == "failed"
    assert f"after {attempts} attempt(s)" in step["message"], step["message"]
