"""A closed pipe under a rich table is exit 141 (docs/workflows.md), never rich's SystemExit(1)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from rich.table import Table

from pyvela._cli import day2_text
from pyvela._cli.main import main


class _ClosedPipe:
    """stdout whose reader went away: every write raises, as a pipe after `| head` does."""

    def __init__(self) -> None:
        self._fd = os.open(os.devnull, os.O_WRONLY)  # rich dup2s /dev/null onto it: harmless

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    @property
    def encoding(self) -> str:
        return "utf-8"


@pytest.fixture
def closed_pipe() -> Iterator[_ClosedPipe]:
    pipe = _ClosedPipe()
    yield pipe
    os.close(pipe._fd)


def test_the_status_console_raises_broken_pipe_not_system_exit(
    closed_pipe: _ClosedPipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = Table("pod")
    table.add_row("web-0")
    # set in the test body: pytest re-installs its own capture of sys.stdout after fixture setup
    monkeypatch.setattr(sys, "stdout", closed_pipe)
    with pytest.raises(BrokenPipeError):
        day2_text.console().print(table)


def test_main_exits_141_when_a_table_meets_a_closed_pipe(
    closed_pipe: _ClosedPipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyvela._cli import commands

    monkeypatch.setattr(sys, "stdout", closed_pipe)

    def prints_a_table(args: Any) -> int:
        day2_text.console().print(Table("pod"))
        return 0

    monkeypatch.setattr(commands, "dispatch", prints_a_table)
    monkeypatch.setattr("pyvela._cli.main._closed_pipe", lambda: 141)
    assert main(["ls"]) == 141
