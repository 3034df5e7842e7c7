"""A step output too long to read in a line (the deploy step's placements: every workload's
status) is cut in the text summary and status table, whole in -o json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

APP = """
from pyvela import Application
from pyvela.stdlib import deploy, webservice

app = Application("wide", components=[webservice("web", image="nginx:1.27")], workflow=[deploy("everything")])
"""


def test_long_outputs_are_cut_in_text_and_whole_in_json(
    write_app: Callable[..., Path], sandbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write_app(APP))
    assert main(["deploy", path]) == 0
    summary = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("  everything: succeeded")
    ]
    assert summary and len(summary[0]) < 200, summary
    assert "-o json" in summary[0]
    assert main(["status", path]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "placements=" in line]
    assert len(rows) == 1 and len(rows[0]) < 250, rows  # one row, not a wrapped page of status
    assert main(["status", path, "-o", "json"]) == 0
    placements = json.loads(capsys.readouterr().out)["steps"]["everything"]["outputs"]["placements"]
    assert placements["local"]["web"]["status"]["readyReplicas"] == 1
