"""Batches that are not durable: their transaction stays open for the batches after them, and is
committed by a durable batch, a write on its own, ``commit``, ``close`` or a timer. This
process sees every write at once; a kill keeps everything up to some point, in order."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.readiness import rule_for
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._backends.sandbox import store as store_module
from pyvela._core.objects import ObjectRef
from pyvela.errors import AlreadyExistsError, StateError

ROOT = Path(__file__).resolve().parent.parent.parent


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}}


def names(box: Sandbox) -> set[str]:
    return {o["metadata"]["name"] for o in box.list("v1", "ConfigMap", "default")}


@pytest.fixture
def slow_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "COMMIT_AFTER", 30.0)  # only what the test does commits


def test_deferred_batches_are_seen_here_at_once_and_elsewhere_once_committed(
    tmp_path: Path, slow_timer: None
) -> None:
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)
    with box.batch(durable=False):
        box.apply(cm("a"))
    with box.batch(durable=False):
        box.apply(cm("b"))
    assert names(box) >= {"a", "b"}  # this process: at once
    assert not names(other) & {"a", "b"}  # another: not yet committed
    with box.batch():  # a durable batch commits the deferred ones with its own
        box.apply(cm("c"))
    assert names(other) >= {"a", "b", "c"}
    with box.batch(durable=False):
        box.apply(cm("d"))
    box.apply(cm("e"))  # a write on its own is kept once answered: it commits what is open
    assert names(other) >= {"d", "e"}
    with box.batch(durable=False):
        box.apply(cm("f"))
    box.apply(cm("g"), dry_run=True)  # a dry run undoes itself alone
    assert "f" in names(box) and "g" not in names(box)
    box.close()
    assert "f" in names(other)  # close commits
    other.close()


def test_a_deferred_batch_is_committed_by_the_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "COMMIT_AFTER", 0.05)
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)
    with box.batch(durable=False):
        box.apply(cm("a"))
    deadline = time.monotonic() + 10
    while "a" not in names(other):
        assert time.monotonic() < deadline, "the deferred batch was never committed"
        time.sleep(0.02)
    box.close()
    other.close()


def test_a_kill_keeps_everything_up_to_the_last_durable_write_in_order(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from pyvela._backends.sandbox import Sandbox, store
        store.COMMIT_AFTER = 60.0
        box = Sandbox(Path({str(tmp_path)!r}))
        with box.batch(durable=False):
            box.apply({cm("first")!r})
        with box.batch():
            box.apply({cm("saved")!r})
        with box.batch(durable=False):
            box.apply({cm("lost-1")!r})
            box.apply({cm("lost-2")!r})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    box = Sandbox(tmp_path)
    assert names(box) == {"first", "saved"}
    box.apply(cm("lost-1"))  # a re-run finishes: the lost ones are written again
    box.close()


def test_inside_a_deferred_batch_a_refused_write_is_undone_alone(tmp_path: Path, slow_timer: None) -> None:
    box = Sandbox(tmp_path)
    with box.batch(durable=False):
        box.apply(cm("kept"))
    with box.batch(durable=False):
        box.create(cm("also-kept"))
        with pytest.raises(AlreadyExistsError):
            box.create(cm("kept"))
    box._store.commit()
    other = Sandbox(tmp_path)
    assert names(other) >= {"kept", "also-kept"}
    box.close()
    other.close()


def test_other_threads_batches_go_on_in_the_open_transaction_and_waits_see_it(
    tmp_path: Path, slow_timer: None
) -> None:
    box = Sandbox(tmp_path, settings=SandboxSettings(ready_delay=0.0))
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}},
        },
    }
    with box.batch(durable=False):
        box.apply(deployment)
    done: list[dict[str, Any]] = []

    def other_thread() -> None:
        with box.batch(durable=False):
            box.apply(cm("from-a-thread"))
        ref = ObjectRef("apps/v1", "Deployment", "default", "web")
        done.append(box.wait(ref, rule_for("apps/v1", "Deployment"), timeout=10))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(30)
    assert done and done[0]["status"]["readyReplicas"] == 2
    assert len(box.list("v1", "Pod", "default", {"app": "web"})) == 2
    versions = [int(o["metadata"]["resourceVersion"]) for o in box.list("v1", "ConfigMap", "default")]
    box.close()
    reopened = Sandbox(tmp_path)  # versions were written back with the commit: they only grow
    assert int(reopened.apply(cm("later"))["metadata"]["resourceVersion"]) > max(versions)
    assert "from-a-thread" in names(reopened)
    reopened.close()


def test_a_failed_deferred_commit_refuses_every_write_after_it(tmp_path: Path, slow_timer: None) -> None:
    box = Sandbox(tmp_path)
    with box.batch(durable=False):
        box.apply(cm("a"))
    real = box._store._conn
    box._store._conn = _FailingCommit(real)  # type: ignore[assignment]
    with pytest.raises(StateError):
        box._store.commit()
    box._store._conn = real
    with pytest.raises(StateError):  # answered writes were lost: nothing after may look kept
        box.apply(cm("b"))
    with pytest.raises(StateError), box.batch():
        pass
    box.close()


class _FailingCommit:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            import sqlite3

            raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __hash__(self) -> int:
        return hash(self._conn)

    def __eq__(self, other: object) -> bool:
        return other is self._conn or other is self


def test_a_database_removed_under_a_deferred_batch_fails_the_next_write(
    tmp_path: Path, slow_timer: None
) -> None:
    box = Sandbox(tmp_path)
    with box.batch(durable=False):
        box.apply(cm("a"))
    (tmp_path / "sandbox.db").unlink()
    with pytest.raises(StateError, match="missing"), box.batch(durable=False):
        box.apply(cm("b"))
    with pytest.raises(StateError, match="missing"):
        box.apply(cm("c"))
