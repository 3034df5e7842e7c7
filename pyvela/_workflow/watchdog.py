"""Step deadlines that hold whatever a step's code does.

Python cannot interrupt a thread, so a step body that blocks (a plain ``time.sleep``, a hung
call) is abandoned at its deadline instead: the engine fails the step as Timeout, frees its
slot, and nothing the thread does afterwards is reported or written to the state record.
Step bodies therefore run on their own daemon threads, not on a pool: a pool would keep the
slot and be joined when the run (and the interpreter) ends, so one blocked step would hang
both.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from pyvela._app.application import DEFAULT_STEP_TIMEOUT
from pyvela._core.actions import Action, Log
from pyvela.errors import StepTimeout

#: How long past its deadline a step may take to report its own timeout. A step that honours
#: its deadline (a wait bounded by it) says what it was waiting for, which beats the
#: watchdog's "abandoned"; a blocked step is abandoned this much later.
GRACE = 2.0

RUNNING, REPORTED, ABANDONED = "running", "reported", "abandoned"


def step_timeout(timeout: float | None) -> float:
    """The timeout a step runs under: its own, the workflow's, never unbounded."""
    if timeout is None or not math.isfinite(timeout):
        return DEFAULT_STEP_TIMEOUT
    return float(timeout)


@attrs.define(eq=False)
class Attempt:
    """One run of one step on its own thread, and who gets to report its outcome."""

    name: str
    timeout: float
    deadline: float
    #: When the step first started (epoch seconds): this attempt's, or before the parks it resumes.
    since: float = 0.0
    last_action: str = ""
    _state: str = RUNNING
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    @classmethod
    def begin(cls, name: str, timeout: float | None, since: float | None = None) -> Attempt:
        """``since``: when a step that parked first started; its deadline counts from there."""
        seconds, now = step_timeout(timeout), time.time()
        began = now if since is None else min(since, now)
        return cls(
            name=name, timeout=seconds, deadline=time.monotonic() + seconds - (now - began), since=began
        )

    @property
    def expires(self) -> float:
        """When the watchdog abandons the step if it has not reported by then."""
        return self.deadline + GRACE

    def observe(self, action: Action[Any]) -> None:
        text = action.describe()
        self.last_action = f"log {text[:80]!r}" if isinstance(action, Log) else text

    def report(self) -> bool:
        """Claim the outcome for the step's thread; False once the watchdog abandoned it."""
        with self._lock:
            if self._state != RUNNING:
                return False
            self._state = REPORTED
            return True

    def abandon(self) -> bool:
        """Claim the outcome for the watchdog; False if the step's thread reported first."""
        with self._lock:
            if self._state != RUNNING:
                return False
            self._state = ABANDONED
            return True

    @property
    def abandoned(self) -> bool:
        return self._state == ABANDONED

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held while the step's thread writes state, so an abandoned thread never does."""
        with self._lock:
            if self._state == ABANDONED:
                raise StepTimeout(self.message(), step=self.name, reason="Timeout")
            yield

    def _last(self) -> str:
        return f" (last action: {self.last_action})" if self.last_action else " (before its first action)"

    def message(self) -> str:
        return (
            f"step did not finish in time: its code was still running at the deadline{self._last()}; "
            f"its thread was abandoned (timeout {self.timeout:g}s)"
        )

    def terminated(self) -> str:
        return (
            f"the workflow was terminated while the step's code was still running{self._last()}; "
            "its thread was abandoned"
        )


#: How long a step thread whose body returned waits for the next one before it ends.
IDLE = 2.0
_IDLE: list[_StepThread] = []  # threads whose body returned, newest last
_IDLE_LOCK = threading.Lock()


class _StepThread(threading.Thread):
    """A daemon thread that runs step bodies one after another.

    A thread whose body returned takes the next step's (starting a thread for each of
    3,000 steps cost more than some steps' work); one whose body is still running (a
    blocked step, abandoned) is never handed another, so it holds nothing but itself.
    """

    def __init__(self, name: str, body: Callable[[], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._body: Callable[[], None] | None = body
        self._wake = threading.Condition(threading.Lock())

    @classmethod
    def hand(cls, name: str, body: Callable[[], None]) -> _StepThread:
        with _IDLE_LOCK:
            while _IDLE:
                thread = _IDLE.pop()
                with thread._wake:
                    if thread._body is None and thread.is_alive():
                        thread.name, thread._body = name, body
                        thread._wake.notify()
                        return thread
        thread = cls(name, body)
        thread.start()
        return thread

    def run(self) -> None:
        while True:
            body = self._body
            assert body is not None
            contextvars.Context().run(body)  # an empty context, as a new thread's
            body = None  # its closure (the step's state) is not kept while idle
            with self._wake:
                self._body = None
                self.name = f"pyvela-step-idle-{self.ident}"
            with _IDLE_LOCK:
                _IDLE.append(self)
            with self._wake:
                if self._body is None:
                    self._wake.wait(IDLE)
                if self._body is None:
                    self._body = _GONE  # never handed a body again (``hand`` skips it)
                    return


def _gone() -> None:
    raise AssertionError("an ended step thread was handed a body")


_GONE: Callable[[], None] = _gone


def start(attempt: Attempt, body: Callable[[], None]) -> threading.Thread:
    """Run a step body on a daemon thread (an idle one when there is one): an abandoned one
    never keeps the process alive."""
    return _StepThread.hand(f"pyvela-step-{attempt.name}", body)
