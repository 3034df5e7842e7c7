"""A workflow graph as text: Mermaid (renders in GitHub and most Markdown viewers) and
Graphviz DOT (``dot -Tsvg``; ``pyvela graph -o svg|png`` and the dashboard use it).

Both are deterministic for a graph, so they can be kept as golden files.
"""

from __future__ import annotations

from pyvela._app.flowgraph import PHASES, GraphStep, WorkflowGraph

#: Fill and border of a step in each phase (no phase: not deployed, or not run yet).
COLOURS: dict[str, tuple[str, str]] = {
    "pending": ("#f5f5f5", "#9e9e9e"),
    "running": ("#bbdefb", "#1565c0"),
    "suspending": ("#fff3c4", "#f9a825"),
    "suspended": ("#fff3c4", "#f9a825"),
    "succeeded": ("#c8e6c9", "#2e7d32"),
    "failed": ("#ffcdd2", "#c62828"),
    "skipped": ("#eeeeee", "#757575"),
    "terminated": ("#ffcdd2", "#c62828"),
}
NO_PHASE = ("#ffffff", "#607d8b")


def colours(phase: str | None) -> tuple[str, str]:
    return COLOURS.get(phase or "", NO_PHASE)


def _lines(s: GraphStep) -> list[str]:
    lines = [s.name, s.type]
    if s.condition:
        lines.append(f"if: {s.condition}")
    if s.phase:
        lines.append(s.phase)
    return lines


# --------------------------------------------------------------------------- Mermaid


def _mermaid_text(text: str) -> str:
    # Mermaid's entity codes: a quote or angle bracket in a label would end or open markup.
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(graph: WorkflowGraph) -> str:
    """A Mermaid flowchart, left to right; a step's id is its position (names may hold any
    character Mermaid reserves), its label its name, type, condition and phase."""
    ids = {s.name: f"s{i}" for i, s in enumerate(graph.steps)}
    out = ["flowchart LR", f"  %% {_mermaid_text(graph.app)}: {graph.mode}"]

    def node(s: GraphStep, indent: str) -> str:
        label = "<br/>".join(_mermaid_text(line) for line in _lines(s))
        return f'{indent}{ids[s.name]}["{label}"]'

    grouped = {m for _, members in graph.groups for m in members}
    for s in graph.steps:
        if s.name not in grouped:
            out.append(node(s, "  "))
    for i, (group, members) in enumerate(graph.groups):
        out.append(f'  subgraph g{i}["{_mermaid_text(group)}"]')
        out += [node(graph.step(m), "    ") for m in members if m in ids]
        out.append("  end")
    for e in graph.edges:
        arrow = f'-- "{_mermaid_text(e.label)}" -->' if e.carries else "-->"
        out.append(f"  {ids[e.upstream]} {arrow} {ids[e.downstream]}")
    for phase in (p for p in PHASES if any(s.phase == p for s in graph.steps)):
        fill, stroke = colours(phase)
        out.append(f"  classDef {phase} fill:{fill},stroke:{stroke},color:#212121")
        out.append(f"  class {','.join(ids[s.name] for s in graph.steps if s.phase == phase)} {phase}")
    conditional = [ids[s.name] for s in graph.steps if s.condition]
    if conditional:
        out.append(f"  style {','.join(conditional)} stroke-dasharray: 5 3")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- DOT


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_id(step: str) -> str:
    """The SVG element id Graphviz gives a step's node (the dashboard recolours it live)."""
    return f"step-{step}"


def to_dot(graph: WorkflowGraph) -> str:
    """A Graphviz digraph, left to right; groups are clusters, data references labelled edges."""
    out = [
        f"digraph {_dot_string(graph.app or 'workflow')} {{",
        "  rankdir=LR;",
        f"  label={_dot_string(f'{graph.app}: {graph.mode}')}; labelloc=t; fontname=Helvetica;",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=11];',
        "  edge [fontname=Helvetica, fontsize=10];",
    ]

    def node(s: GraphStep, indent: str) -> str:
        fill, stroke = colours(s.phase)
        style = "rounded,filled,dashed" if s.condition else "rounded,filled"
        attributes = [
            f"id={_dot_string(dot_id(s.name))}",
            f"label={_dot_string(chr(10).join(_lines(s)))}",
            f"fillcolor={_dot_string(fill)}",
            f"color={_dot_string(stroke)}",
            f"style={_dot_string(style)}",
        ]
        if s.phase:
            attributes.append(f"class={_dot_string(f'phase-{s.phase}')}")
        return f"{indent}{_dot_string(s.name)} [{', '.join(attributes)}];"

    grouped = {m for _, members in graph.groups for m in members}
    names = {s.name for s in graph.steps}
    for s in graph.steps:
        if s.name not in grouped:
            out.append(node(s, "  "))
    for i, (group, members) in enumerate(graph.groups):
        out.append(f"  subgraph cluster_{i} {{")
        out.append(f'    label={_dot_string(group)}; style="rounded,dashed"; color="#607d8b";')
        out += [node(graph.step(m), "    ") for m in members if m in names]
        out.append("  }")
    for e in graph.edges:
        attributes = [f"id={_dot_string(f'edge-{e.upstream}-{e.downstream}')}"]
        if e.carries:
            attributes += [f"label={_dot_string(e.label)}", 'color="#1565c0"', 'fontcolor="#1565c0"']
        out.append(f"  {_dot_string(e.upstream)} -> {_dot_string(e.downstream)} [{', '.join(attributes)}];")
    out.append("}")
    return "\n".join(out) + "\n"
