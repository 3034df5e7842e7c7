"""A rollback re-applies what a succeeded revision applied: one to a revision that failed is
refused, naming the revisions that did succeed (it was recorded as a succeeded rollback)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela.errors import StateError
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]

APP = """
from pyvela import Application
from tests.sample_defs import {step}

app = Application("rb", components=[], workflow=[{step}("only")])
"""


def test_a_rollback_to_a_failed_revision_is_refused(write_app: WriteApp, tmp_path: Path) -> None:
    box = sandbox(tmp_path / "sb")
    try:
        good = write_app(APP.format(step="noop"), "rb.py")
        assert ops_for(good, box).deploy().ok
        bad = write_app(APP.format(step="explode"), "rb.py")
        assert not ops_for(bad, box, retries=0).deploy().ok
        with pytest.raises(StateError) as info:
            ops_for(bad, box).rollback(2)
        err = info.value
        assert "revision 2 did not succeed (failed)" in err.message
        assert err.expected == "a succeeded revision: 1" and err.fix == "pyvela rollback APP 1"
        assert [r["phase"] for r in ops_for(bad, box).history()] == [
            "succeeded",
            "failed",
        ]  # nothing recorded
        assert ops_for(bad, box).rollback(1).phase == "succeeded"  # a succeeded one still rolls back
    finally:
        box.close()
