"""The rich Console the CLI prints tables with, whose closed pipe is the CLI's, not rich's.

rich answers a ``BrokenPipeError`` by raising ``SystemExit(1)`` from inside ``print``, which
skips the CLI's own handler: ``pyvela status APP --tree | head`` then exited 1 (or 141,
depending on when the reader left). Raising the ``BrokenPipeError`` again lets ``main`` exit
141 quietly, as documented, every time.
"""

from __future__ import annotations

from rich.console import Console


class PipeConsole(Console):
    """A ``rich.console.Console`` that leaves a closed pipe to ``pyvela._cli.main``."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more is written; main points stdout at /dev/null
        raise BrokenPipeError("the reader of the output went away")
