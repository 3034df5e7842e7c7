"""`pyvela workflow terminate` of a workflow stopped at a gate: the gate's step says it was
terminated, not still "waiting for `pyvela workflow resume`" beside phase failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

APP = """
from pyvela import Application
from pyvela.stdlib import suspend

app = Application("gated", components=[], workflow=[suspend("gate"), suspend("later")])
"""


def test_a_terminated_gate_says_terminated(
    capsys: pytest.CaptureFixture[str], write_app: Callable[..., Path], sandbox_dir: Path
) -> None:
    assert main(["deploy", str(write_app(APP))]) == 3
    assert main(["workflow", "terminate", "gated"]) == 0
    capsys.readouterr()
    assert main(["status", "gated", "-o", "json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    gate, later = steps["gate"], steps["later"]
    assert (gate["phase"], gate["reason"]) == ("failed", "Terminate")
    assert "resume" not in (gate["message"] or ""), gate
    assert "terminated" in gate["message"], gate
    assert (later["phase"], later["reason"]) == ("skipped", "Terminate")
