"""Benchmark: ``pyvela deploy`` of N seed-shaped components on a fresh sandbox with zero
delays, as a whole process (run by hand; results in docs/performance.md).

    python benchmarks/scale.py [--sizes 300 1000 3000]

Target (issue 18): ≤ 10 s for 3,000 components (base-service + ingress: 9,000 objects), the
cost linear in N. Prints per N the wall time, the CPU time, the time per component, and the
state record as stored: how many objects, the largest, and their total (base64 gzip+JSON).

    python benchmarks/scale.py --status [--sizes 3000]

times ``pyvela status`` (text and ``-o json``) and ``pyvela history`` (wall and CPU seconds) of
the deployed app once its record holds 10
revisions (the deployed one, and 9 more of the same objects, each with manifests of its own):
both must read the latest revision, or only the index, never every revision.
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


def cli(root: Path, n: int, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``pyvela`` command on the app (its output discarded)."""
    env = {**os.environ, "PYVELA_SANDBOX": str(root), "PYVELA_SANDBOX_DELAY": "0", "PYVELA_BENCH_N": str(n)}
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pyvela", *args, "benchmarks/apps/seed_1000.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"pyvela {' '.join(args)} failed:\n{proc.stderr.decode()[-2000:]}")
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def add_history(root: Path, count: int) -> None:
    """Give the deployed record ``count`` more revisions, each as large as the deployed one."""
    import copy

    from pyvela._backends.sandbox import Sandbox
    from pyvela._workflow.state import StateStore

    box = Sandbox(root)
    try:
        store = StateStore(box, APP, "default")
        record = store.load()
        assert record is not None
        deployed = record["revisions"][-1]
        for number in range(deployed["number"] + 1, deployed["number"] + count + 1):
            # Later revisions of the same objects (revision numbers are never reused).
            rev = copy.deepcopy(deployed)
            rev.update(number=number, hash=f"{number:016x}")
            for entry in rev["inventory"]:
                entry["manifest"]["metadata"].setdefault("annotations", {})["bench/revision"] = str(number)
            record["revisions"].append(rev)
        store.save(record)
    finally:
        box.close()


def status(sizes: list[int]) -> None:
    print(f"{'N':>6} {'revisions':>9}  wall / CPU s of: status, status -o json, history")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            deploy(n, Path(tmp))
            add_history(Path(tmp), 9)
            took = [cli(Path(tmp), n, *cmd) for cmd in (("status",), ("status", "-o", "json"), ("history",))]
        shown = " ".join(f"{wall:6.2f} / {cpu:5.2f}" for wall, cpu in took)
        print(f"{n:6d} {10:9d}  {shown}")


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
    parser.add_argument("--status", action="store_true", help="time status and history at 10 revisions")
    args = parser.parse_args()
    if args.status:
        status(args.sizes)
        return
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
