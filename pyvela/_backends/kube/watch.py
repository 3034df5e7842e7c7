"""Following objects through Kubernetes watches (no ``kubernetes`` import here).

:func:`follow` keeps a view of a set of objects (one collection, narrowed by field and
label selectors) up to date from a watch and calls ``evaluate`` on every change until it
returns something. It lists once for a resourceVersion (or starts from a known object),
re-watches when the server ends a watch, re-lists when the resourceVersion expired
(410 Gone), reconnects with backoff when the connection breaks, and honours a deadline
and a cancel event precisely: the watch is read on a helper thread, so the caller only
ever blocks on a local queue.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import attrs

from pyvela._core.objects import Obj
from pyvela.errors import PyvelaError, TransientError

__all__ = ["Backoff", "Gone", "Stream", "follow", "key_of", "lines"]

T = TypeVar("T")
#: Longest a caller waits on the queue before looking at the cancel event again.
CANCEL_CHECK = 0.05
#: Longest one watch request lasts (the server ends it; we re-watch from the last version).
WATCH_SECONDS = 240


class Gone(Exception):
    """The resourceVersion is too old (410): list again."""


class Stream(Protocol):
    """An open watch: raw bytes as they arrive, and a way to stop it from another thread."""

    def chunks(self) -> Iterable[bytes]: ...

    def stop(self) -> None: ...


@attrs.define
class Backoff:
    """Exponential backoff between tries, giving up after ``budget`` seconds of failures."""

    budget: float = 30.0
    first: float = 0.1
    cap: float = 2.0
    _failing_since: float | None = None
    _delay: float = 0.0

    def ok(self) -> None:
        self._failing_since, self._delay = None, 0.0

    def failed(self, exc: PyvelaError, deadline: float | None = None) -> float:
        """Seconds to sleep before the next try; re-raises ``exc`` once the budget is spent.

        The re-raised error is marked ``retried``: the runner does not retry it again (one
        retry policy, never nested).
        """
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since >= self.budget:
            exc.retried = True
            raise exc
        self._delay = min(self.cap, self._delay * 2 if self._delay else self.first)
        delay = self._delay
        if deadline is not None:
            delay = min(delay, max(0.0, deadline - now))
        return delay


def key_of(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Newline-delimited records from a byte stream, whatever the chunk boundaries."""
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        pending += chunk
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                break
            line, pending = pending[:cut], pending[cut + 1 :]
            if line.strip():
                yield line
    if pending.strip():
        yield pending


_END = object()


def _reader(stream: Stream, out: queue.Queue[Any]) -> None:
    try:
        for line in lines(stream.chunks()):
            out.put(json.loads(line))
        out.put(_END)
    except BaseException as exc:  # handed to the caller's thread, which decides
        out.put(exc)


def follow(
    *,
    relist: Callable[[], tuple[dict[str, Obj], str]],
    open_watch: Callable[[str, int], Stream],
    evaluate: Callable[[Mapping[str, Obj]], T | None],
    deadline: float,
    cancel: threading.Event | None,
    on_timeout: Callable[[], PyvelaError],
    on_cancel: Callable[[], PyvelaError],
    status_error: Callable[[Mapping[str, Any]], PyvelaError],
    start: tuple[dict[str, Obj], str] | None = None,
    backoff: Backoff | None = None,
    tick: Callable[[], None] | None = None,
) -> T:
    """Evaluate the followed objects at once and after every change, until ``evaluate`` returns.

    Args:
        relist: Lists the objects: ``({namespace/name: object}, resourceVersion)``.
        open_watch: Opens a watch from a resourceVersion for up to some seconds; raises
            TransientError (connection) or :class:`Gone`.
        evaluate: Sees the current objects; returns a non-None result to stop, may raise.
        on_timeout, on_cancel: Build the error raised at the deadline / on cancel.
        status_error: Turns an ERROR event's Status into an exception.
        start: A known state to begin with instead of listing (e.g. an object just applied).
        tick: Called at least every :data:`CANCEL_CHECK` seconds while waiting, changes or
            not; it may raise to end the wait (time-based verdicts, such as a grace that ran out).
    """
    backoff = backoff or Backoff()
    state = _State(relist, backoff, deadline, cancel, on_cancel)
    if start is not None:
        state.objects, state.version = start
    else:
        state.relist()
    result = evaluate(state.objects)
    if result is not None:
        return result
    while True:
        _check(deadline, cancel, on_timeout, on_cancel, tick)
        seconds = int(min(WATCH_SECONDS, max(1.0, deadline - time.monotonic() + 1)))
        try:
            stream = open_watch(state.version, seconds)
        except Gone:
            state.relist()
            result = evaluate(state.objects)
            if result is not None:
                return result
            continue
        except TransientError as exc:
            _sleep(backoff.failed(exc, deadline), cancel)
            continue
        backoff.ok()
        events: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=_reader, args=(stream, events), name="pyvela-watch", daemon=True).start()
        try:
            while True:
                _check(deadline, cancel, on_timeout, on_cancel, tick)
                try:
                    item = events.get(timeout=max(0.0, min(CANCEL_CHECK, deadline - time.monotonic())))
                except queue.Empty:
                    continue
                if item is _END:  # the server ended the watch: resume from where we are
                    break
                if isinstance(item, BaseException):
                    if isinstance(item, PyvelaError) and not isinstance(item, TransientError):
                        raise item
                    error = (
                        item
                        if isinstance(item, TransientError)
                        else TransientError(f"the watch connection broke: {type(item).__name__}")
                    )
                    _sleep(backoff.failed(error, deadline), cancel)
                    break
                try:
                    changed = state.apply(item, status_error)
                except TransientError as exc:
                    _sleep(backoff.failed(exc, deadline), cancel)
                    break
                if not changed:
                    continue
                result = evaluate(state.objects)
                if result is not None:
                    return result
        finally:
            stream.stop()


@attrs.define
class _State:
    """The followed objects and the resourceVersion they are current at."""

    _relist: Callable[[], tuple[dict[str, Obj], str]]
    backoff: Backoff
    deadline: float
    cancel: threading.Event | None
    on_cancel: Callable[[], PyvelaError]
    objects: dict[str, Obj] = attrs.field(factory=dict)
    version: str = ""

    def relist(self) -> None:
        while True:
            if self.cancel is not None and self.cancel.is_set():
                raise self.on_cancel()
            try:
                self.objects, self.version = self._relist()
            except TransientError as exc:
                _sleep(self.backoff.failed(exc, self.deadline), self.cancel)
                continue
            self.backoff.ok()
            return

    def apply(
        self, event: Mapping[str, Any], status_error: Callable[[Mapping[str, Any]], PyvelaError]
    ) -> bool:
        """Take one watch event in; True when the objects changed (re-listing counts)."""
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410 or obj.get("reason") in ("Expired", "Gone"):
                self.relist()
                return True
            raise status_error(obj)
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if version:
            self.version = version
        if kind == "BOOKMARK" or not version:
            return False
        if kind == "DELETED":
            self.objects.pop(key_of(obj), None)
        else:
            self.objects[key_of(obj)] = obj
        return True


def _check(
    deadline: float,
    cancel: threading.Event | None,
    on_timeout: Callable[[], PyvelaError],
    on_cancel: Callable[[], PyvelaError],
    tick: Callable[[], None] | None = None,
) -> None:
    if cancel is not None and cancel.is_set():
        raise on_cancel()
    if tick is not None:
        tick()
    if time.monotonic() >= deadline:
        raise on_timeout()


def _sleep(seconds: float, cancel: threading.Event | None) -> None:
    if cancel is not None:
        cancel.wait(seconds)
    else:
        time.sleep(seconds)
