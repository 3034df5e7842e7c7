"""Step threads are reused once their body returned, never while it still runs (abandoned)."""

from __future__ import annotations

import contextvars
import threading

import pytest

from pyvela._workflow import watchdog
from pyvela._workflow.watchdog import Attempt, start

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


@pytest.fixture(autouse=True)
def no_idle_threads() -> None:
    """Each test starts with no idle thread: one left by an earlier test (the blocked step's,
    released) may become idle after this test's own and be handed the next body instead."""
    with watchdog._IDLE_LOCK:
        watchdog._IDLE.clear()  # those threads end by themselves after watchdog.IDLE


def _run(name: str, body: object) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def wrapped() -> None:
        try:
            body()  # type: ignore[operator]
        finally:
            done.set()

    return start(Attempt.begin(name, 5), wrapped), done


def _returned(thread: threading.Thread) -> None:
    """Wait until the thread's body returned and it is idle (named so)."""
    for _ in range(500):
        if thread in watchdog._IDLE:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{thread.name} did not become idle")


def test_a_thread_whose_body_returned_runs_the_next_step_under_its_name() -> None:
    seen: list[str] = []
    first, done = _run("one", lambda: seen.append(threading.current_thread().name))
    assert done.wait(5)
    _returned(first)
    second, done = _run("two", lambda: seen.append(threading.current_thread().name))
    assert done.wait(5)
    assert second is first and second.daemon
    assert seen == ["pyvela-step-one", "pyvela-step-two"]


def test_a_blocked_step_keeps_its_thread_and_the_next_step_gets_another() -> None:
    release = threading.Event()
    blocked, _ = _run("blocked", release.wait)
    try:
        other, done = _run("other", lambda: None)
        assert done.wait(5)
        assert other is not blocked
        assert blocked.is_alive() and blocked.name == "pyvela-step-blocked"
    finally:
        release.set()
        _returned(blocked)  # idle before the next test clears the idle ones (it must not be handed theirs)


def test_each_body_starts_with_an_empty_context_as_on_a_new_thread() -> None:
    values: list[str] = []

    def body() -> None:
        values.append(VAR.get())
        VAR.set("left by the first step")

    first, done = _run("a", body)
    assert done.wait(5)
    _returned(first)
    second, done = _run("b", body)
    assert done.wait(5)
    assert second is first
    assert values == ["unset", "unset"]
