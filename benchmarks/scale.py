"""Benchmark: ``pyvela deploy`` of N seed-shaped components on a fresh sandbox with zero
delays, as a whole process (run by hand; results in docs/performance.md).

    python benchmarks/scale.py [--sizes 300 1000 3000]

Target (issue 18): ≤ 10 s for 3,000 components (base-service + ingress: 9,000 objects), the
cost linear in N. Prints per N the wall time, the CPU time, the time per component, and the
state record as stored: how many objects, the largest, and their total (base64 gzip+JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = "seed-scale"


def deploy(n: int, root: Path) -> float:
    """Wall seconds of one ``pyvela deploy``."""
    env = {**os.environ, "PYVELA_SANDBOX": str(root), "PYVELA_SANDBOX_DELAY": "0", "PYVELA_BENCH_N": str(n)}
    cmd = [sys.executable, "-m", "pyvela", "deploy", "benchmarks/apps/seed_1000.py"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"deploy of {n} components failed:\n{err.decode()[-2000:]}")
    return wall


def record_size(root: Path) -> tuple[int, int, int]:
    """(objects, largest, total bytes) of the app's state record, each object as JSON."""
    from pyvela._backends.sandbox import Sandbox

    box = Sandbox(root)
    try:
        index = f"pyvela-app.{APP}"  # and its parts, pyvela-app.<app>.<revision>.<key>.<i>
        found = [
            o
            for o in box.list("v1", "Secret", "default")
            if o["metadata"]["name"] == index or o["metadata"]["name"].startswith(index + ".")
        ]
    finally:
        box.close()
    sizes = [len(json.dumps(o)) for o in found]
    return len(sizes), max(sizes), sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 3000])
    args = parser.parse_args()
    print(f"{'N':>6} {'wall s':>8} {'cpu s':>7} {'ms/comp':>8} {'objects':>8} {'largest':>9} {'total':>10}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            before = os.times()
            wall = deploy(n, Path(tmp))
            after = os.times()
            cpu = (after.children_user - before.children_user) + (
                after.children_system - before.children_system
            )
            count, largest, total = record_size(Path(tmp))
        print(f"{n:6d} {wall:8.2f} {cpu:7.2f} {1000 * wall / n:8.2f} {count:8d} {largest:9d} {total:10d}")


if __name__ == "__main__":
    main()
