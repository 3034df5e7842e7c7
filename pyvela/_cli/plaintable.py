"""Tables as rich prints them (``box=None``, bold header), written line by line when the
text is certain to be the same.

rich lays a table out cell by cell (measure, wrap, pad, crop: about 1 ms a row), so the
``status`` of an app of 3,000 components (12,000 rows) spent seconds in layout alone. When
every cell is one line of printable ASCII that rich's markup and emoji codes leave as it
is, and the table fits the console's width, rich's layout is only padding: each cell is
written padded to its column's width, with one space either side (tested against rich).
Anything else (a wide table rich would shrink, a newline rich would wrap, a wide
character) is printed by rich. Cells are data, shown as they are: never read as rich
markup or emoji codes (an output holding ``[/]`` made rich raise).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text


def _literal(cell: str) -> bool:
    """True when rich renders ``Text(cell)`` as exactly these characters, in one line."""
    return cell.isascii() and cell.isprintable()


def print_table(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """``console.print(Table(box=None, header_style="bold")
    for header in headers:
        table.add_column(Text(header)))`` with ``rows``."""
    widths = [len(h) for h in headers]
    literal = all(_literal(h) for h in headers)
    for row in rows:
        if not literal:
            break
        for i, cell in enumerate(row):
            if not _literal(cell):
                literal = False
                break
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    if (
        not literal
        or any(len(row) != len(headers) for row in rows)
        or sum(widths) + 2 * len(widths) > console.width
    ):
        table = Table(box=None, header_style="bold")
        for header in headers:
            table.add_column(Text(header))
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return

    def line(cells: Sequence[str]) -> str:
        return "".join(f" {cell.ljust(width)} " for cell, width in zip(cells, widths, strict=True))

    if console.color_system is None:
        console.file.write(line(headers) + "\n")
    else:
        console.print(Text(line(headers), style="bold"), soft_wrap=True)
    out = console.file
    chunk: list[str] = []
    for row in rows:
        chunk.append(line(row))
        if len(chunk) == 1000:  # streamed: a reader sees the first rows without waiting for all
            out.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        out.write("\n".join(chunk) + "\n")
