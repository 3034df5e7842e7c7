"""Benchmarks of the runner on the sandbox (issue 3).

- overhead: an app of 500 no-op steps in DAG mode completes in <= 1 s in total;
- readiness: with a 2 s simulated readiness delay, a step continues <= 0.2 s after the
  object turns ready;
- seed: ``deploy apps/lixiang.py`` wall time <= critical path + 0.5 s.

Run: ``python benchmarks/runner.py`` (results go to docs/performance.md by hand).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyvela._workflow.events import Recorder  # noqa: E402
from tests.runner_helpers import ops_for, sandbox  # noqa: E402


def overhead(n: int = 500) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "many.py"
        app.write_text(
            textwrap.dedent(f"""
            from tests.sample_defs import noop
            from pyvela import Application, Workflow
            app = Application("many", components=[], workflow=Workflow(
                steps=[noop(f"s{{i}}") for i in range({n})], mode="DAG"))
        """)
        )
        box = sandbox(Path(tmp) / "sb")
        try:
            start = time.perf_counter()
            result = ops_for(app, box).deploy()
            took = time.perf_counter() - start
        finally:
            box.close()
        assert result.ok, result.message
        return took


def readiness_lag(delay: float = 2.0, runs: int = 3) -> list[float]:
    lags = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            box = sandbox(Path(tmp) / "sb", delay=delay)
            events = Recorder()
            try:
                result = ops_for(ROOT / "apps" / "lixiang.py", box, events=events).deploy()
            finally:
                box.close()
            assert result.ok
            for step in ("apply-base-service", "apply-redis", "apply-proxy-service"):
                applied = [e.at for e in events.events if e.kind == "applied" and e.step == step]
                ready = [e.at for e in events.events if e.kind == "ready" and e.step == step]
                # The workload is applied first; it turns ready `delay` seconds later.
                lags.append(ready[0] - (applied[0] + delay))
    return lags


def seed(delay: float = 1.0) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        box = sandbox(Path(tmp) / "sb", delay=delay)
        try:
            start = time.perf_counter()
            result = ops_for(ROOT / "apps" / "lixiang.py", box).deploy()
            took = time.perf_counter() - start
        finally:
            box.close()
    assert result.ok
    return took, 3 * delay  # StepByStep: base, then redis, then proxy, each `delay` to become ready


def main() -> None:
    runs = [overhead() for _ in range(3)]
    print(
        f"500 no-op steps (DAG) on the sandbox: median {statistics.median(runs):.3f}s, "
        f"min {min(runs):.3f}s (target <= 1 s)"
    )
    lags = readiness_lag()
    print(
        f"readiness lag with a 2 s delay: median {statistics.median(lags) * 1000:.1f} ms, "
        f"max {max(lags) * 1000:.1f} ms over {len(lags)} waits (target <= 200 ms)"
    )
    took, critical = seed()
    print(
        f"seed deploy with 1 s readiness delays: {took:.2f}s wall, critical path {critical:.1f}s, "
        f"overhead {took - critical:.2f}s (target <= 0.5 s)"
    )


if __name__ == "__main__":
    main()
