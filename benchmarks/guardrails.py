"""Benchmark: the standard guardrails over a large render (run by hand; results in
docs/performance.md).

    python benchmarks/guardrails.py [--runs 5]

The stdlib app of 1,000 components (3,000 objects: Deployments, Services, Ingresses) is
loaded with ``pyvela.stdlib.guardrails`` on and rendered once; then the six checks are
evaluated ``--runs`` times. CPU time (process time), so a busy machine inflates it little;
compare with the render's own time printed next to it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyvela._app.guardrails import evaluate  # noqa: E402
from pyvela._app.loader import load_app  # noqa: E402
from pyvela._app.render import render_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    loaded = load_app(
        ROOT / "benchmarks/apps/stdlib_1000.py", defs=["platform_defs", "pyvela.stdlib.guardrails"]
    )
    start = time.process_time()
    rendered = render_app(loaded.app, revision=loaded.revision)
    render = time.process_time() - start
    times = []
    for _ in range(args.runs):
        start = time.process_time()
        report = evaluate(loaded.app, loaded.catalogue, rendered)
        times.append(time.process_time() - start)
    objects = sum(len(rc.objects) for rc in rendered)
    print(
        f"render {render:.3f} s CPU; {len(report.checks)} checks over {objects} objects "
        f"({len(report.cases)} cases, {len(report.violations)} findings): "
        f"median {statistics.median(times):.3f} s, min {min(times):.3f} s CPU"
    )


if __name__ == "__main__":
    main()
