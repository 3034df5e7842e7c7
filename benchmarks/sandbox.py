"""Sandbox benchmarks: replace throughput and readiness-detection lag.

Run: ``python benchmarks/sandbox.py [--replaces 500] [--size 50000] [--waits 20] [--delay 0.3]``

- replace: ``replace`` of a Secret of ``--size`` bytes (the runner's state record), one
  after another, each with the resourceVersion the previous one returned;
- get: ``get`` of that Secret;
- readiness lag: a Deployment that becomes ready ``--delay`` seconds after it is applied;
  the lag is how long after that moment ``wait`` returns (median / p95 over ``--waits``).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyvela._backends import readiness as rules
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef

INSTANT = SandboxSettings(ready_delay=0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_replace(sandbox: Sandbox, count: int, size: int) -> None:
    payload = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    secret = sandbox.apply(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "state"}, "data": {"state": payload}}
    )
    timings = []
    start = time.perf_counter()
    for i in range(count):
        secret["data"]["state"] = payload[:-8] + f"{i:08d}"[-8:].replace("-", "A")
        t = time.perf_counter()
        secret = sandbox.replace(secret)
        timings.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    median, p95 = statistics.median(timings) * 1e3, percentile(timings, 0.95) * 1e3
    print(
        f"replace x{count} of a {size // 1000} KB Secret: {total:.3f} s, "
        f"{median:.3f} ms median, {p95:.3f} ms p95"
    )
    ref = ObjectRef.of(secret)
    gets = []
    for _ in range(count):
        t = time.perf_counter()
        sandbox.get(ref)
        gets.append(time.perf_counter() - t)
    print(f"get x{count}: {sum(gets):.3f} s total, {statistics.median(gets) * 1e3:.3f} ms median")


def bench_lag(sandbox: Sandbox, waits: int, delay: float) -> None:
    lags = []
    for i in range(waits):
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"lag-{i}", "annotations": {"sandbox.pyvela.dev/ready-after": str(delay)}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": f"lag-{i}"}},
                "template": {
                    "metadata": {"labels": {"app": f"lag-{i}"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
        before = time.time()
        applied = sandbox.apply(deployment)
        after = time.time()
        sandbox.wait(ObjectRef.of(applied), rules.deployment, timeout=30)
        returned = time.time()
        # ready at applied_at + delay; applied_at lies between `before` and `after` (~0.3 ms apart)
        lags.append(returned - ((before + after) / 2 + delay))
    median, p95, worst = statistics.median(lags) * 1e3, percentile(lags, 0.95) * 1e3, max(lags) * 1e3
    print(
        f"readiness lag over {waits} waits ({delay} s delay): "
        f"median {median:.2f} ms, p95 {p95:.2f} ms, max {worst:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replaces", type=int, default=500)
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--waits", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(Path(tmp), settings=SandboxSettings(ready_delay=0)) as sb,
    ):
        bench_replace(sb, args.replaces, args.size)
        bench_lag(sb, args.waits, args.delay)


if __name__ == "__main__":
    main()
