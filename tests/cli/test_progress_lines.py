"""The plain progress lines (a deploy's output off a terminal): the text rich would print for
each event, control codes in messages stripped as rich strips them."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.text import Text

from pyvela._cli.progress import Progress
from pyvela._workflow.events import Event

HOSTILE = "Deployment default/x \x1b[2Jconfigured\x07 \r\x08done [bold]not markup[/]"


def test_plain_lines_are_the_text_rich_would_show_with_control_codes_stripped() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, color_system=None)
    progress = Progress(console, [("web", "apply-component")])
    with progress:
        progress.emit(Event(kind="step-started", step="web", message="apply-component"))
        progress.emit(Event(kind="applied", step="web", message=HOSTILE))
        progress.emit(Event(kind="log", step="web", message="a\x1bline"))
        progress.emit(Event(kind="step-finished", step="web", data={"phase": "succeeded"}))
    lines = [re.sub(r"^\s*\d+\.\d\ds ", "", line) for line in out.getvalue().splitlines()]
    assert lines == [
        "web: running (apply-component)",
        "web: " + Text(HOSTILE).plain,
        "web: " + Text("a\x1bline").plain,
        "web: succeeded",
    ]
    assert not any(c in out.getvalue() for c in "\x07\r\x08")
