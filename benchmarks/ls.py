"""Benchmark: ``pyvela ls`` over many apps (issue 14), run by hand; results in docs/performance.md.

    python benchmarks/ls.py [--apps 50 200] [--kubeconfig FILE --context C]

Deploys N small apps (three Deployments each, with 5 revisions of history) on a fresh
sandbox (or into a fresh namespace of a real cluster), then times the listing two ways, in
CPU seconds of this process (user+sys: the machine is shared) and wall seconds:

- ``list_apps``: what ``pyvela ls`` does (the records' indexes, one list per kind);
- per app, what reading the status of each would cost (its latest revision's parts, and
  each object read): the way a listing without the index summary would go.

The target: ``ls`` costs a few list calls whatever N, and grows with N only by decoding
indexes; its cost per app is a small fraction of a per-app status read.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = """
from pyvela import Application
from tests.cli.day2_defs import service

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[service(f"{name}-{{c}}", image="nginx:{tag}") for c in ("web", "api", "worker")],
)
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def deploy_all(backend: Any, n: int, namespace: str, workdir: Path, revisions: int) -> None:
    from pyvela._app.loader import load_app
    from pyvela._cli.centres import config_centre_for
    from pyvela._workflow.events import Recorder
    from pyvela._workflow.lifecycle import AppOps

    for i in range(n):
        for rev in range(revisions):
            path = workdir / f"app{i}.py"
            path.write_text(APP.format(name=f"app{i}", namespace=namespace, tag=f"1.{rev}"))
            loaded = load_app(path, defs=["tests.cli.day2_defs"])
            centre, config = config_centre_for(backend, loaded)
            result = AppOps(backend, loaded, events=Recorder(), config_centre=centre, config=config).deploy()
            assert result.ok, result.message


def measure(backend: Any, namespace: str) -> tuple[int, float, float, float, float]:
    from pyvela._workflow.listing import list_apps, state_indexes
    from pyvela._workflow.state import StateStore
    from pyvela._workflow.view import AppView

    t0, c0 = time.perf_counter(), cpu()
    rows = list_apps(backend, namespace)
    ls_wall, ls_cpu = time.perf_counter() - t0, cpu() - c0
    t0, c0 = time.perf_counter(), cpu()
    for app, ns, _ in state_indexes(backend, namespace):
        AppView(backend, StateStore(backend, app, ns)).status()
    each_wall, each_cpu = time.perf_counter() - t0, cpu() - c0
    return len(rows), ls_wall, ls_cpu, each_wall, each_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--revisions", type=int, default=5)
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context")
    args = parser.parse_args()
    os.environ.setdefault("PYVELA_SANDBOX_DELAY", "0")
    print(f"{'apps':>5} {'ls wall':>8} {'ls cpu':>7} {'per-app status wall':>20} {'cpu':>6}  ratio (cpu)")
    for n in args.apps:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if args.kubeconfig:
                from pyvela._backends.kube.backend import KubeBackend

                backend: Any = KubeBackend.connect(kubeconfig=args.kubeconfig, context=args.context)
                namespace = f"bench-ls-{uuid.uuid4().hex[:6]}"
            else:
                from pyvela._backends.sandbox import Sandbox

                backend = Sandbox(work / "sandbox")
                namespace = "default"
            try:
                deploy_all(backend, n, namespace, work, args.revisions)
                count, ls_wall, ls_cpu, each_wall, each_cpu = measure(backend, namespace)
                assert count == n
                print(
                    f"{n:>5} {ls_wall:>7.2f}s {ls_cpu:>6.2f}s {each_wall:>19.2f}s {each_cpu:>5.2f}s"
                    f"  {each_cpu / max(ls_cpu, 1e-9):.1f}x"
                )
            finally:
                if args.kubeconfig:
                    from pyvela._core.objects import ObjectRef

                    backend.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)
                backend.close()


if __name__ == "__main__":
    main()
