"""``pyvela graph APP``: the workflow as Mermaid or DOT text, or an SVG/PNG drawn by Graphviz.

When the app has been deployed to the target, each step is coloured by its phase in the
last run. Reading that is the only thing the command asks of a cluster, and it never
creates a sandbox that does not exist.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyvela._app.flowgraph import WorkflowGraph, graph_of_plan, phases_of
from pyvela._app.flowtext import to_dot, to_mermaid
from pyvela._app.loader import LoadedApp, load_app
from pyvela.errors import PyvelaError

FORMATS = ("mermaid", "dot", "svg", "png")


def cmd_graph(args: argparse.Namespace) -> int:
    loaded = load_app(args.app, defs=args.defs)
    graph = graph_of_plan(loaded.app.name, loaded.plan)
    if not args.no_phases:
        graph = graph.with_phases(last_phases(args, loaded))
    data = render(graph, args.output)
    if args.file:
        try:
            Path(args.file).write_bytes(data)
        except OSError as exc:
            raise PyvelaError(
                f"cannot write the graph to {args.file}: {exc.strerror or exc}",
                expected="a file path in a directory that exists and is writable",
                got=args.file,
                fix="create the directory first, or give another -f FILE (or leave -f out for stdout)",
            ) from None
        return 0
    if args.output == "png" and sys.stdout.isatty():
        raise PyvelaError(
            "a PNG is not written to a terminal",
            fix="write it to a file: -f workflow.png (or > workflow.png)",
        )
    sys.stdout.buffer.write(data)
    return 0


def render(graph: WorkflowGraph, fmt: str) -> bytes:
    """The graph in ``fmt``; SVG and PNG need Graphviz (the ``graphviz`` package and ``dot``)."""
    if fmt == "mermaid":
        return to_mermaid(graph).encode()
    dot = to_dot(graph)
    if fmt == "dot":
        return dot.encode()
    from pyvela._ui.drawing import draw

    return draw(dot, fmt)


def last_phases(args: argparse.Namespace, loaded: LoadedApp) -> dict[str, str]:
    """Each step's phase in the app's last run on the target; empty if it never ran there."""
    from pyvela._cli.run import open_backend

    explicit = args.context or args.kubeconfig or args.in_cluster
    if not explicit:
        from pyvela._backends.sandbox import default_root
        from pyvela._backends.sandbox.store import DB_FILE

        root = Path(args.sandbox) if args.sandbox else default_root()
        if not (root / DB_FILE).is_file():
            return {}  # nothing was deployed here, and a read must not create a sandbox
    from pyvela._workflow.state import StateStore

    backend = open_backend(args, read=True)
    try:
        store = StateStore(backend, loaded.app.name, args.namespace or loaded.app.namespace)
        record = store.load(revisions="latest")
    finally:
        backend.close()
    if not record or not record["revisions"]:
        return {}
    return phases_of(record["revisions"][-1].get("steps") or {})
