"""The fast table writer prints exactly what rich's ``Table(box=None)`` prints, whatever the cells."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pyvela._cli.plaintable import print_table


def _rich(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    console = Console(file=io.StringIO(), width=width, highlight=False)
    table = Table(box=None, header_style="bold")
    for header in headers:
        table.add_column(Text(header))
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    return str(console.file.getvalue())  # type: ignore[attr-defined]


def _fast(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    console = Console(file=io.StringIO(), width=width, highlight=False)
    print_table(console, headers, rows)
    return str(console.file.getvalue())  # type: ignore[attr-defined]


# Mostly plain text (the fast path), with what rich lays out differently mixed in:
# newlines, tabs, control and wide characters; markup and emoji codes (shown as written).
_TOKENS = [*"abz09 -/.=()", "svc-0", "[", "]", ":", "\n", "\t", "\x07", "é", "界", "[b]", "[/]", ":smile:"]
_TEXT = st.lists(st.sampled_from(_TOKENS), max_size=12).map("".join) | st.text(
    alphabet="abcdefgh-/. 0123", max_size=60
)


@settings(max_examples=120, deadline=None)
@given(
    columns=st.integers(min_value=1, max_value=5),
    data=st.data(),
    width=st.integers(min_value=20, max_value=200),
)
def test_same_text_as_rich(columns: int, data: st.DataObject, width: int) -> None:
    headers = tuple(data.draw(st.lists(_TEXT, min_size=columns, max_size=columns)))
    rows = data.draw(st.lists(st.tuples(*[_TEXT] * columns), max_size=8))
    assert _fast(headers, rows, width) == _rich(headers, rows, width)


def test_exactly_the_console_width_is_written_fast_and_the_same() -> None:
    rows = [("x" * 98, "y" * 98)]  # 98 + 98 + one space either side of each: 200 columns
    assert _fast(("a", "b"), rows, 200) == _rich(("a", "b"), rows, 200)
    wider = [("x" * 99, "y" * 98)]  # rich shrinks a column: printed by rich
    assert _fast(("a", "b"), wider, 200) == _rich(("a", "b"), wider, 200)


def test_many_rows_and_no_rows() -> None:
    rows = [(f"Deployment/svc-{i}", f"svc-{i}", "ready (2/2 replicas ready)", "") for i in range(2500)]
    headers = ("object", "component", "health", "details")
    assert _fast(headers, rows, 200) == _rich(headers, rows, 200)
    assert _fast(headers, [], 200) == _rich(headers, [], 200)


def test_a_terminal_gets_a_bold_header_and_the_same_characters() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True, color_system="standard", highlight=False)
    print_table(console, ("step", "phase"), [("svc-0", "succeeded")])
    text = out.getvalue()
    assert "\x1b[1m" in text  # bold
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert stripped == _rich(("step", "phase"), [("svc-0", "succeeded")], 120)


def test_cells_are_shown_as_written_never_as_markup() -> None:
    headers = ("step", "outputs")
    for rows in ([("a", "x=[/]")], [("a", "[bold]x :smile:")], [("a", "[/]\nsecond line")]):
        text = _fast(headers, rows, 80)
        assert text == _rich(headers, rows, 80)
        assert rows[0][1].split("\n")[0] in text
