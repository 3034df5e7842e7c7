"""A run's plain progress lines written in bursts, not one system call each.

A deploy of thousands of components prints ≈ 9 lines a component; with ``PYTHONUNBUFFERED``
(common in CI and containers) every line was a ``write`` of its own, with the GIL released
and taken again around it. Lines are kept at most ``DELAY`` seconds: a background thread
writes whatever is pending that long, so a run that goes quiet (a long wait) still shows
its last lines at once, as a reader of the log expects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: The longest a line waits before it is written.
DELAY = 0.1


class LineBuffer:
    """Collects text for ``write`` (the underlying stream's); ``flush`` writes it now.

    Thread-safe. ``write`` is called with the pending text in order, from one thread at a
    time; its exceptions propagate to whoever flushed (a closed pipe: the caller's to handle).
    """

    def __init__(self, write: Callable[[str], None], *, delay: float = DELAY) -> None:
        self._write = write
        self._delay = delay
        self._pending: list[str] = []
        self._lock = threading.Lock()  # guards _pending
        self._out = threading.Lock()  # one writer at a time, in order
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, text: str) -> None:
        with self._lock:
            pending = self._pending
            pending.append(text)
            if len(pending) > 1:
                return  # the writer was woken by the first of them (and started, if not closed)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="pyvela-lines", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self) -> None:
        with self._out:
            with self._lock:
                text, self._pending = "".join(self._pending), []
            if text:
                self._write(text)

    def close(self) -> None:
        """Write what is pending and stop the background writer."""
        self._closed = True
        self._wake.set()
        self.flush()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            time.sleep(self._delay)  # what comes meanwhile goes out with it
            try:
                self.flush()
            except Exception:
                # The stream failed (a closed pipe is the caller's ``write``'s to handle): lines
                # now wait for the owner's flush, where the failure is raised again.
                self._closed = True
                return
