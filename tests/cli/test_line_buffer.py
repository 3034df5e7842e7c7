"""A run's plain progress lines go out in bursts, never later than ``DELAY`` (linebuffer)."""

from __future__ import annotations

import io
import threading
import time

from pyvela._cli.linebuffer import LineBuffer
from pyvela._cli.run import ReaderGone


class Writes:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self.lock:
            self.calls.append(text)


def test_lines_written_together_go_out_in_one_write_and_in_order() -> None:
    writes = Writes()
    lines = LineBuffer(writes, delay=0.2)
    for i in range(100):
        lines.add(f"line {i}\n")
    lines.flush()
    assert writes.calls == ["".join(f"line {i}\n" for i in range(100))]
    lines.close()


def test_a_run_that_goes_quiet_still_shows_its_last_line_within_the_delay() -> None:
    writes = Writes()
    lines = LineBuffer(writes, delay=0.05)
    try:
        lines.add("waiting for Deployment default/web\n")
        deadline = time.monotonic() + 5.0
        while not writes.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writes.calls == ["waiting for Deployment default/web\n"]
        lines.add("ready\n")  # a second burst, after the first went out
        deadline = time.monotonic() + 5.0
        while len(writes.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writes.calls[1:] == ["ready\n"]
    finally:
        lines.close()


def test_close_writes_what_is_pending_at_once() -> None:
    writes = Writes()
    lines = LineBuffer(writes, delay=60.0)
    lines.add("a\n")
    lines.add("b\n")
    lines.close()
    assert writes.calls == ["a\nb\n"]


def test_a_buffered_stream_keeps_a_closed_pipe_from_stopping_the_run() -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    out = ReaderGone(Closed(), buffered=True)
    out.write("x\n")
    out.close()  # the write fails: the rest is dropped, nothing raised
    assert out.gone
    out.write("more\n")
    out.close()


def test_an_unbuffered_stream_writes_each_line_at_once() -> None:
    stream = io.StringIO()
    out = ReaderGone(stream)
    out.write("x\n")
    assert stream.getvalue() == "x\n"


def test_the_live_table_follows_the_steps_and_plain_lines_need_no_table() -> None:
    from rich.console import Console

    from pyvela._cli.progress import Progress
    from pyvela._workflow.events import Event

    started = Event(kind="step-started", step="web", message="apply-component")
    terminal = Progress(Console(file=io.StringIO(), force_terminal=True), [("web", "apply-component")])
    terminal.emit(started)
    assert terminal.rows["web"]["phase"] == "running"
    stream = io.StringIO()
    plain = Progress(Console(file=stream, color_system=None, width=200), [("web", "apply-component")])
    plain.emit(started)
    assert stream.getvalue().endswith("web: running (apply-component)\n")
    assert plain.rows["web"]["phase"] == "pending"  # kept for a table that is never drawn
