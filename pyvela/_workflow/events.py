"""Run events: what the runner tells the progress display, ``-o json`` and tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import attrs


@attrs.frozen(kw_only=True)
class Event:
    """One thing that happened during a run.

    Attributes:
        kind: ``run-started``, ``step-started``, ``step-finished``, ``applied``, ``waiting``,
            ``ready``, ``log``, ``run-finished``, ``pruned``, ``deleted``.
        step: The step it belongs to, if any.
        message: A one-line human description.
        data: Structured details (phase, reason, object, elapsed seconds...).
        at: ``time.monotonic()`` when it happened.
    """

    kind: str
    step: str | None = None
    message: str = ""
    data: dict[str, Any] = attrs.field(factory=dict)
    at: float = attrs.field(factory=time.monotonic)


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class Recorder:
    """Keeps every event (thread-safe); used by ``-o json`` and by tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.kind == kind]


class Fanout:
    """Sends each event to several sinks."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)


#: How many ``ctx.log`` lines the state record keeps per step (the newest).
LOG_LIMIT = 50


class StepLogs:
    """Keeps each step's ``ctx.log`` lines in the revision record, and notes which step applied what.

    A resumed step replays from its start: the lines it logged before the kill are already
    in the record and were printed then, so the first ``logged`` lines of its replay are
    not shown or kept again. ``save`` persists the record (the caller holds ``lock``);
    the line is saved before it is shown, so what a reader saw, ``status`` shows too.
    """

    def __init__(
        self,
        inner: EventSink,
        steps: dict[str, dict[str, Any]],
        *,
        lock: threading.RLock,
        save: Callable[[Iterable[str]], None],
        applied: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.inner = inner
        self.steps = steps
        self.lock = lock
        self.save = save
        self.applied = applied
        self._replayed: dict[str, int] = {}

    def emit(self, event: Event) -> None:
        step = event.step or ""
        if event.kind == "log" and step in self.steps:
            with self.lock:
                st = self.steps[step]
                seen = self._replayed.get(step, 0)
                self._replayed[step] = seen + 1
                if seen < int(st.get("logged") or 0):
                    return  # a replay of a line the interrupted run already logged and showed
                logs = st.setdefault("logs", [])
                logs.append({"at": _now(), "message": event.message})
                del logs[:-LOG_LIMIT]
                st["logged"] = seen + 1
                self.save((step,))
        elif event.kind == "applied" and step in self.steps and event.data.get("object"):
            self.applied(step, event.data["object"])  # never takes ``lock``: the engine saves it
        self.inner.emit(event)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
