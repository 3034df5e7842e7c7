"""Benchmark: the workflow graph and the dashboard's page (run by hand; results in
docs/performance.md).

    python benchmarks/graph.py [--steps 100,300,1000]

For StepByStep chains of N steps with a data reference every fifth step: building the graph
model and its Mermaid/DOT text (process CPU), and Graphviz's ``dot -Tsvg`` layout (its CPU,
as a child process). Then the seed deployed to a fresh sandbox and its dashboard pages
fetched over loopback: the first app page (Graphviz runs), the same page again (the drawing
is cached), and the live view's snapshot.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from pyvela._app.flowgraph import WorkflowGraph, graph_of_spec  # noqa: E402
from pyvela._app.flowtext import to_dot, to_mermaid  # noqa: E402
from pyvela._ui.drawing import draw  # noqa: E402


def chain(n: int) -> WorkflowGraph:
    steps = [
        {
            "name": f"s{i}",
            "type": "t",
            "dependsOn": [f"s{i - 1}"] if i else [],
            "properties": {"p": {"$ref": f"s{i - 3}.outputs.o"}} if i >= 3 and i % 5 == 0 else {},
        }
        for i in range(n)
    ]
    return graph_of_spec({"name": "chain", "workflow": {"steps": steps}})


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="100,300,1000")
    args = parser.parse_args()
    for n in (int(x) for x in args.steps.split(",")):
        start = time.process_time()
        graph = chain(n)
        text = to_mermaid(graph), to_dot(graph)
        model = time.process_time() - start
        before = children_cpu()
        svg = draw(text[1], "svg")
        print(
            f"{n} steps, {len(graph.edges)} edges: model + text {model * 1000:.1f} ms CPU, "
            f"dot -Tsvg {children_cpu() - before:.2f} s CPU, SVG {len(svg) // 1024} KiB"
        )

    from tests.runner_helpers import ops_for, sandbox
    from tests.ui.browser import dashboard

    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox(Path(tmp) / "sb")
        assert ops_for(ROOT / "apps" / "lixiang.py", backend).deploy().ok
        with dashboard(backend) as url, httpx.Client(base_url=url, timeout=60) as client:
            for what, path in (
                ("apps page", "/"),
                ("app page, first", "/apps/default/lixiang-app"),
                ("app page, again", "/apps/default/lixiang-app"),
                ("live snapshot", "/apps/default/lixiang-app/state.json"),
            ):
                start = time.perf_counter()
                assert client.get(path).status_code == 200
                print(f"seed {what}: {(time.perf_counter() - start) * 1000:.0f} ms")
        backend.close()


if __name__ == "__main__":
    main()
