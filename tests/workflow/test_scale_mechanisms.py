"""What keeps a wide app's run linear, and still honest: outcomes saved together but never
reported (or built on) before they are saved, each component rendered once per run, and
status/history reading only the revisions they show."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._workflow import executor as executor_module
from pyvela._workflow.events import Event, Recorder
from pyvela._workflow.state import StateStore
from pyvela._workflow.view import AppView
from pyvela.errors import StateError
from tests.runner_helpers import ops_for, sandbox
from tests.state_records import APP, SEED_BENCH, seed_record

HEADER = """
from tests.sample_defs import echo
from pyvela import Application, Workflow
"""


class StoredOnReport(Recorder):
    """Checks, as each event comes, what another reader of the record sees at that moment."""

    def __init__(self, root: Path, app: str) -> None:
        super().__init__()
        self.root = root
        self.app = app
        self.problems: list[str] = []

    def stored(self) -> dict[str, Any]:
        box = Sandbox(self.root)
        try:
            record = StateStore(box, self.app, "default").load()
        finally:
            box.close()
        assert record is not None
        steps: dict[str, Any] = record["revisions"][-1]["steps"]
        return steps

    def emit(self, event: Event) -> None:
        if event.kind == "step-finished" and event.step:
            phase = self.stored()[event.step]["phase"]
            if phase != event.data["phase"]:
                self.problems.append(f"{event.step} reported {event.data['phase']}, stored {phase}")
        if event.kind == "step-started" and event.step == "c":
            phase = self.stored()["a"]["phase"]
            if phase != "succeeded":
                self.problems.append(f"c started while the record had a {phase}")
        super().emit(event)


def test_an_outcome_is_reported_and_built_on_only_once_it_is_saved(write_app: Any, tmp_path: Path) -> None:
    path = write_app(
        HEADER
        + """
a = echo("a", text="x")
b = echo("b", text="y")
c = echo("c", text=a.outputs.value).after(a)
app = Application("saved-first", components=[], workflow=Workflow(steps=[a, b, c], mode="DAG"))
"""
    )
    root = tmp_path / "box"
    box = sandbox(root)
    try:
        events = StoredOnReport(root, "saved-first")
        result = ops_for(path, box, events=events).deploy()
    finally:
        box.close()
    assert result.ok, result.message
    assert events.problems == []
    assert {e.step for e in events.of("step-finished")} == {"a", "b", "c"}


def _seed_ops(box: Sandbox, n: int, **kw: Any) -> Any:
    before = os.environ.get("PYVELA_BENCH_N")
    os.environ["PYVELA_BENCH_N"] = str(n)
    try:
        return ops_for(SEED_BENCH, box, defs=["platform_defs"], **kw)
    finally:
        if before is None:
            del os.environ["PYVELA_BENCH_N"]
        else:
            os.environ["PYVELA_BENCH_N"] = before


def test_a_new_revision_renders_each_component_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = executor_module.render_component

    def counting(app: Any, use: Any, **kw: Any) -> Any:
        calls.append(use.name)
        return real(app, use, **kw)

    monkeypatch.setattr(executor_module, "render_component", counting)
    box = sandbox(tmp_path, delay=0.0)
    try:
        result = _seed_ops(box, 6).deploy()
        assert result.ok, result.message
        assert calls == []  # every step applied the render its revision planned with
        objects = box.list("apps/v1", "Deployment", "default")
        assert sorted(o["metadata"]["name"] for o in objects) == [f"svc-{i}" for i in range(6)]
        # A restart of the same revision plans nothing new: its steps render for themselves.
        again = _seed_ops(box, 6).restart()
        assert again.ok and sorted(calls) == sorted(f"svc-{i}" for i in range(6))
    finally:
        box.close()


def test_status_and_history_read_only_what_they_show(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    try:
        record = seed_record(30, 4)
        StateStore(box, APP, "default").save(record)
        whole = StateStore(box, APP, "default").load()
        assert whole == record
        index_only = StateStore(box, APP, "default").load(revisions="none")
        assert index_only is not None
        fields = ("number", "hash", "kind", "phase", "started", "finished", "message")
        assert [{k: r.get(k) for k in fields} for r in index_only["revisions"]] == [
            {k: r.get(k) for k in fields} for r in record["revisions"]
        ]
        assert all("inventory" not in r and "steps" not in r for r in index_only["revisions"])
        store = StateStore(box, APP, "default")
        latest = store.load(revisions="latest")
        assert latest is not None
        assert latest["revisions"][-1] == record["revisions"][-1]
        assert all("inventory" not in r for r in latest["revisions"][:-1])
        # A record read in part would lose the other revisions' parts if saved: refused.
        with pytest.raises(StateError, match="loaded in part"):
            store.save(latest)
        assert store.load() == record  # a whole load makes the store writable again
        store.save(record)
        view = AppView(box, StateStore(box, APP, "default"))
        assert [h["number"] for h in view.history()] == [1, 2, 3, 4]
        status = view.status()
        assert status["revision"] == 4 and len(status["objects"]) == len(record["revisions"][-1]["inventory"])
        assert {o["message"] for o in status["objects"]} == {"missing"}  # nothing was applied here
    finally:
        box.close()


def test_status_lists_many_objects_of_a_kind_and_still_finds_the_unlabelled(tmp_path: Path) -> None:
    box = sandbox(tmp_path, delay=0.0)
    try:
        assert _seed_ops(box, 25).deploy().ok
        # An object that lost the app's label is not in the list by label: read on its own.
        live = box.get(executor_module.ObjectRef("apps/v1", "Deployment", "default", "svc-3"))
        assert live is not None
        del live["metadata"]["labels"]["app.oam.dev/name"]
        box.apply(live)
        status = AppView(box, StateStore(box, APP, "default")).status()
        deployments = [o for o in status["objects"] if o["object"]["kind"] == "Deployment"]
        assert len(deployments) == 25 and all(o["message"] != "missing" for o in deployments)
    finally:
        box.close()
