"""A workflow graph drawn for a reader: SVG by Graphviz when it is installed, else a layered
HTML drawing (a column per depth) that the dashboard colours the same way.

Every step's element has the id ``step-<name>`` and the class ``phase-<phase>``, so a page
recolours it live without drawing the graph again.
"""

from __future__ import annotations

import functools
import html
import re
import shutil

from pyvela._app.flowgraph import WorkflowGraph, depths
from pyvela._app.flowtext import to_dot
from pyvela.errors import PyvelaError

_FIX = (
    "install Graphviz (Debian: apt-get install graphviz; and pip install graphviz), "
    "or print the graph as text: -o mermaid or -o dot"
)


def graphviz_available() -> bool:
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def draw(dot: str, fmt: str) -> bytes:
    """DOT drawn by Graphviz's ``dot`` into ``fmt`` (svg, png).

    Raises:
        PyvelaError: Graphviz (the package or its ``dot`` program) is missing, or failed.
    """
    try:
        import graphviz
    except ImportError:
        raise PyvelaError(f"drawing a graph as {fmt} needs the graphviz package", fix=_FIX) from None
    try:
        data: bytes = graphviz.Source(dot).pipe(format=fmt, engine="dot")
    except graphviz.ExecutableNotFound:
        raise PyvelaError(f"drawing a graph as {fmt} needs Graphviz's `dot` program", fix=_FIX) from None
    except graphviz.CalledProcessError as exc:
        raise PyvelaError("Graphviz could not draw the graph", got=str(exc.stderr or exc)[-500:]) from None
    return data


def inline_svg(graph: WorkflowGraph) -> str:
    """The graph as an ``<svg>`` element to put in a page (no XML prolog, no doctype)."""
    return _svg_of(to_dot(graph))


@functools.lru_cache(maxsize=32)
def _svg_of(dot: str) -> str:
    # Graphviz's layout is most of a page's cost (about 2 s of CPU for a chain of 1,000 steps
    # with references); a finished revision's page is the same drawing each time it is opened.
    svg = draw(dot, "svg").decode()
    start = svg.find("<svg")
    return re.sub(r"<!--.*?-->", "", svg[start:], flags=re.S).strip()


def layered_html(graph: WorkflowGraph) -> str:
    """The graph without Graphviz: a column per depth, each step a box, and the edges below
    in words (with what each reference carries)."""
    columns: dict[int, list[str]] = {}
    depth = depths(graph)
    for s in graph.steps:
        lines = [
            f'<span class="name">{html.escape(s.name)}</span>',
            f'<span class="type">{html.escape(s.type)}</span>',
        ]
        if s.group:
            lines.append(f'<span class="group">group {html.escape(s.group)}</span>')
        if s.condition:
            lines.append(f'<span class="condition">if: {html.escape(s.condition)}</span>')
        lines.append(f'<span class="phase">{html.escape(s.phase or "")}</span>')
        columns.setdefault(depth[s.name], []).append(
            f'<div class="box node phase-{html.escape(s.phase or "none")}" id="step-{html.escape(s.name)}">'
            + "".join(lines)
            + "</div>"
        )
    out = ['<div class="layers">']
    for d in sorted(columns):
        out.append('<div class="layer">' + "".join(columns[d]) + "</div>")
    out.append("</div>")
    if graph.edges:
        out.append('<ul class="edges">')
        for e in graph.edges:
            carried = f' <span class="carries">carries {html.escape(e.label)}</span>' if e.carries else ""
            out.append(f"<li>{html.escape(e.upstream)} → {html.escape(e.downstream)}{carried}</li>")
        out.append("</ul>")
    return "\n".join(out)


def drawing(graph: WorkflowGraph) -> str:
    """SVG when Graphviz is there, else the layered HTML."""
    if graphviz_available():
        return inline_svg(graph)
    return layered_html(graph)
