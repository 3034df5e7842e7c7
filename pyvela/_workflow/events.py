"""Run events: what the runner tells the progress display, ``-o json`` and tests."""

from __future__ import annotations

import threading
import time
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
