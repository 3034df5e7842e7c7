"""Benchmark: render an app of 1,000 components with 2 traits each to YAML; CLI start-up.

Targets (issue 2): render ≤ 0.3 s and ≤ 150 MB peak RSS; ``python -m pyvela --help`` ≤ 0.25 s.
Run: ``python benchmarks/render.py`` (results go to docs/performance.md by hand).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._defs import env, expose, web
from pyvela import Application
from pyvela._app.output import to_yaml
from pyvela._app.render import render_app

N = 1000


def build() -> Application:
    comps = [
        web(f"web-{i}", image=f"registry/web:{i}").with_traits(
            expose(port=80), env(env={"INDEX": str(i), "TIER": "web"})
        )
        for i in range(N)
    ]
    return Application("bench", components=comps)


def once() -> tuple[float, int, float]:
    start = time.perf_counter()
    app = build()
    built = time.perf_counter() - start
    start = time.perf_counter()
    rendered = render_app(app, revision="bench")
    text = to_yaml(o.object for rc in rendered for o in rc.objects)
    return time.perf_counter() - start, text.count("\n---\n") + 1, built


def main() -> None:
    times, builds = [], []
    size = 0
    for _ in range(5):
        took, size, built = once()
        times.append(took)
        builds.append(built)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helps = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pyvela", "--help"], check=True, capture_output=True)
        helps.append(time.perf_counter() - start)
    base = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        base.append(time.perf_counter() - start)
    print(
        f"render {N} components x 2 traits ({size} objects): "
        f"median {statistics.median(times):.3f}s, min {min(times):.3f}s (target <= 0.3s)"
    )
    print(f"building the app (1,000 checked call sites): median {statistics.median(builds):.3f}s")
    print(f"peak RSS of this process: {rss_mb:.0f} MB (target <= 150 MB)")
    print(
        f"python -m pyvela --help: median {statistics.median(helps):.3f}s "
        f"(bare interpreter start: {statistics.median(base):.3f}s; target <= 0.25s)"
    )


if __name__ == "__main__":
    main()
