"""Benchmark: the sandbox's own cost per seed-shaped component, in one thread, in-process (run by
hand; results in docs/performance.md, issue 18).

    python benchmarks/sandbox_component.py [--n 1500]

Makes the calls the executor makes for a base-service + ingress component: in one batch (not
durable, as the executor's: committed with a later one), a get then an apply of its
Deployment (2 replicas), Service and Ingress; then the wait for the Deployment (zero delays).
Every 100 components a durable batch, as the state record's saves (``--durable``: every batch).
Prints the CPU time per component, the SQL statements per component, and the CPU of one list
of a workload's Pods by label among all of them (what a wait's Pod check does on every pass).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyvela._backends.readiness import rule_for
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef


def objects(i: int) -> Iterator[dict[str, Any]]:
    name, labels = f"svc-{i}", {"app": f"svc-{i}", "app.oam.dev/component": f"svc-{i}"}
    meta = {"name": name, "namespace": "default", "labels": labels}
    container = {"name": "main", "image": f"registry.example/svc:{i}", "ports": [{"containerPort": 11001}]}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
    spec = {"replicas": 2, "selector": {"matchLabels": labels}, "template": template}
    yield {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}
    yield {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {"selector": labels, "ports": [{"port": 11001}]},
    }
    backend = {"service": {"name": name, "port": {"number": 11001}}}
    path = {"path": "/", "pathType": "Prefix", "backend": backend}
    rules = [{"host": f"{name}.dev.example.com", "http": {"paths": [path]}}]
    yield {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {"rules": rules},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--durable", action="store_true", help="every batch durable (commits each)")
    args = parser.parse_args()
    n = args.n
    rule = rule_for("apps/v1", "Deployment")
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(Path(tmp), settings=SandboxSettings(ready_delay=0))
        statements: list[str] = []
        box._store.conn.set_trace_callback(statements.append)
        start = time.thread_time()
        for i in range(n):
            with box.batch(durable=args.durable or i % 100 == 99):
                for obj in objects(i):
                    box.get(ObjectRef(obj["apiVersion"], obj["kind"], "default", obj["metadata"]["name"]))
                    box.apply(obj)
            box.wait(ObjectRef("apps/v1", "Deployment", "default", f"svc-{i}"), rule, timeout=30)
        per = (time.thread_time() - start) / n
        box._store.conn.set_trace_callback(None)
        start = time.thread_time()
        for i in range(200):
            box.list("v1", "Pod", "default", {"app": f"svc-{i}"})
        listed = (time.thread_time() - start) / 200
        box.close()
    real = [s for s in statements if not s.startswith("--")]  # a table-valued pragma's own
    print(f"{n} components: {1000 * per:.2f} ms CPU and {len(real) / n:.1f} statements a component")
    print(f"a list of one workload's Pods among {2 * n}: {1000 * listed:.2f} ms CPU")


if __name__ == "__main__":
    main()
