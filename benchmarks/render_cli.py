"""Benchmark: ``pyvela render`` as a whole process, with cdk8s side by side (run by hand;
results in docs/performance.md).

    python benchmarks/render_cli.py [--runs 5] [--cdk8s-python PATH] [--app seed|stdlib]

Two apps of 1,000 components and 3,000 objects each:

- ``seed``: the seed's own shape (base-service's Jinja template + the ingress trait), next to
  cdk8s building the same objects (``benchmarks/cdk8s_seed.py``). Target (issue 10): ≤ 0.5 s.
- ``stdlib``: the standard ``webservice`` with ``gateway`` and ``scaler`` (issue 11's app).
  Target: ≤ 0.5 s and ≤ 150 MB peak RSS.

The commands run in turn, A B A B ..., so a noisy machine slows all alike; compare ratios.
cdk8s needs ``pip install cdk8s jinja2 pyyaml`` in the interpreter given by ``--cdk8s-python``
(default: this one); without it only pyvela runs. Both seed outputs are checked to hold the
same objects before anything is timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYVELA = [sys.executable, "-m", "pyvela", "render", "benchmarks/apps/seed_1000.py"]
STDLIB = [sys.executable, "-m", "pyvela", "render", "benchmarks/apps/stdlib_1000.py"]
ENV = {**os.environ, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}


def run(cmd: list[str]) -> tuple[float, float, bytes]:
    """(wall seconds, peak RSS MiB, stdout) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cdk8s-python", default=sys.executable)
    parser.add_argument("--app", choices=("seed", "stdlib"), action="append", help="default: both")
    parser.add_argument("--check", metavar="CDK8S_PYTHON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        outputs = [
            list(yaml.safe_load_all(run(c)[2])) for c in (PYVELA, [args.check, "benchmarks/cdk8s_seed.py"])
        ]
        sys.exit(0 if outputs[0] == outputs[1] and len(outputs[0]) == 3000 else 1)
    cdk8s = [args.cdk8s_python, "benchmarks/cdk8s_seed.py"]
    apps = args.app or ["seed", "stdlib"]
    commands: dict[str, list[str]] = {}
    if "seed" in apps:
        commands["pyvela"] = PYVELA
    if "stdlib" in apps:
        commands["stdlib"] = STDLIB
    probe = subprocess.run([args.cdk8s_python, "-c", "import cdk8s, jinja2, yaml"], capture_output=True)
    if "seed" in apps and probe.returncode == 0:
        commands["cdk8s"] = cdk8s
        # In a child process: a big parent would count in every forked child's peak RSS.
        check = subprocess.run([sys.executable, __file__, "--check", args.cdk8s_python], cwd=ROOT)
        if check.returncode != 0:
            sys.exit("pyvela and cdk8s do not render the same objects")
    elif "seed" in apps:
        print("cdk8s is not installed for", args.cdk8s_python, "- timing pyvela alone")
    for cmd in commands.values():
        run(cmd)  # warm-up: page cache, byte-compiled modules
    times: dict[str, list[float]] = {k: [] for k in commands}
    peaks: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            wall, peak, _ = run(cmd)
            times[name].append(wall)
            peaks[name].append(peak)
    for name in commands:
        t = times[name]
        print(f"{name:7s} wall median {statistics.median(t):.3f} s (min {min(t):.3f}, max {max(t):.3f}), "
              f"peak RSS {max(peaks[name]):.0f} MiB")  # fmt: skip
    if "cdk8s" in commands:
        ratios = [c / p for p, c in zip(times["pyvela"], times["cdk8s"], strict=True)]
        print(f"cdk8s / pyvela wall, pair by pair: median {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
