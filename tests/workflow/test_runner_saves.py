"""When the runner saves the record: applied objects on record while their step blocks, and
outcomes saved less often where saves are slow, never reported before they are saved."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.engine import FLUSH, FLUSH_MAX, flush_delay
from pyvela._workflow.state import StateStore
from tests.runner_helpers import DEFS, ops_for, sandbox

APPLY_THEN_BLOCK = """
from tests.saves_defs import apply_then_block
from pyvela import Application, Workflow

app = Application("blocks", components=[], workflow=Workflow(steps=[apply_then_block("s")]))
"""


def _stored(root: Path) -> dict[str, Any] | None:
    box = Sandbox(root)
    try:
        record = StateStore(box, "blocks", "default").load()
    finally:
        box.close()
    return None if record is None else record["revisions"][-1]


def test_an_object_applied_by_a_step_that_then_blocks_is_on_record_within_seconds(
    write_app: Any, tmp_path: Path
) -> None:
    path = write_app(APPLY_THEN_BLOCK)
    root = tmp_path / "box"
    box = sandbox(root)
    outcome: list[Any] = []
    run = threading.Thread(
        target=lambda: outcome.append(ops_for(path, box, defs=[*DEFS, "tests.saves_defs"]).deploy())
    )
    run.start()
    try:
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "third" not in seen:
            rev = _stored(root)
            seen = {e["ref"]["name"]: e for e in (rev or {}).get("inventory") or []}
            step = ((rev or {}).get("steps") or {}).get("s") or {}
            time.sleep(0.2)
        # Nothing else happens in the run after the last apply: no outcome, no other step.
        assert "third" in seen, seen
        assert seen["third"]["step"] == "s" and step.get("phase") in ("pending", "running")
    finally:
        box.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}}
        )
        run.join(60)
        box.close()
    assert outcome and outcome[0].ok, outcome


def test_outcomes_wait_longer_to_be_saved_where_saves_are_slow() -> None:
    assert flush_delay(FLUSH, 0.001) == FLUSH  # the sandbox: as often as before
    delay = FLUSH
    for _ in range(10):  # a save of 50 ms (an API server far away): ≈ 1 s, saving ≈ 5 % of the time
        delay = flush_delay(delay, 0.05)
    assert 0.9 < delay <= 1.0
    assert flush_delay(delay, 10.0) == FLUSH_MAX  # never longer
    for _ in range(10):
        delay = flush_delay(delay, 0.001)
    assert delay < 0.21  # back as saves get quick again


def test_now_iso_is_the_utc_time_to_the_microsecond(monkeypatch: Any) -> None:
    import time as clock
    from datetime import UTC, datetime, timedelta

    from pyvela._workflow import state

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for ns in (0, 999, 1_764_637_323_000_001_999, 1_764_637_323_999_999_999, 1_764_637_324_000_000_000):
        monkeypatch.setattr(clock, "time_ns", lambda ns=ns: ns)
        expected = (epoch + timedelta(microseconds=ns // 1000)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert state.now_iso() == expected
