"""A wait's progress line says something for a workload whose health rule gives no message
(KubeVela's cron-task has no customStatus): `nightly: ready`, not `nightly: `."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

APP = """
from pyvela import Application
from pyvela.stdlib import cron_task

app = Application("nightly", components=[cron_task("nightly", image="busybox:1.36", schedule="0 3 * * *")])
"""


def test_no_progress_line_ends_with_an_empty_message(
    write_app: Callable[..., Path], sandbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", str(write_app(APP))]) == 0
    out = capsys.readouterr().out
    assert "nightly: ready" in out, out
    assert not [line for line in out.splitlines() if line.rstrip().endswith(":")], out
