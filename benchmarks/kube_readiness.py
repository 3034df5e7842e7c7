"""Benchmarks of the Kubernetes backend on the test control plane (issue 6).

- readiness lag (controlled): a ConfigMap is made "ready" by a write at a known moment; the
  lag is the time from the write's response to ``wait`` returning (target: median <= 0.5 s);
- readiness lag (real controllers): Deployments made ready by the real controllers and kwok;
  the lag is the time from an independent watcher seeing the ready status to ``wait``
  returning;
- requests per applied object (runner pattern: read for ownership, apply, wait): target
  <= 2 plus the watch;
- the seed app (``apps/lixiang.py`` with the loopback chart repository and Apollo): deploy
  wall time against its critical path (the waits on the cluster, helm and Apollo).

Run: ``python benchmarks/kube_readiness.py`` (starts a control plane from the
``scripts/testcluster build`` cache), or ``--kubeconfig K --context C`` for a running one.
Results go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pyvela._backends import readiness as rules  # noqa: E402
from pyvela._backends.kube.backend import KubeBackend  # noqa: E402
from pyvela._backends.protocol import Readiness  # noqa: E402
from pyvela._core.objects import Obj, ObjectRef  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"median {statistics.median(ms):.1f} ms, p95 {pct(ms, 0.95):.1f} ms, max {max(ms):.1f} ms "
        f"(n={len(ms)})"
    )


@contextmanager
def cluster(args: argparse.Namespace) -> Iterator[tuple[str, str, str | None]]:
    """(kubeconfig, context, helm) of the cluster to measure."""
    if args.kubeconfig:
        yield args.kubeconfig, args.context, os.environ.get("PYVELA_HELM")
        return
    spec = importlib.util.spec_from_file_location(
        "pyvela_testcluster_launcher", ROOT / "tests/cluster/launcher.py"
    )
    assert spec and spec.loader
    launcher = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = launcher
    spec.loader.exec_module(launcher)
    plane = (
        launcher.ControlPlane(build_dir=Path(args.build_dir), nodes=2)
        if args.build_dir
        else launcher.ControlPlane.from_cache(nodes=2)
    )
    with plane as cp:
        yield str(cp.kubeconfig), cp.context, str(cp.helm)


def namespace(kube: KubeBackend) -> str:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def controlled_lag(kube: KubeBackend, ns: str, runs: int) -> list[float]:
    lags = []
    for i in range(runs):
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"lag-{i}", "namespace": ns},
            "data": {"ready": "false"},
        }
        ref = ObjectRef.of(kube.apply(obj))
        returned: list[float] = []

        def rule(live: Obj | None) -> Readiness:
            return Readiness(bool(live and (live.get("data") or {}).get("ready") == "true"), "waiting")

        def waiting(ref: ObjectRef = ref, returned: list[float] = returned) -> None:
            kube.wait(ref, rule, timeout=30)
            returned.append(time.perf_counter())

        waiter = threading.Thread(target=waiting)
        waiter.start()
        time.sleep(0.3)  # the wait is watching by now
        kube.apply({**obj, "data": {"ready": "true"}})
        committed = time.perf_counter()
        waiter.join(30)
        lags.append(max(0.0, returned[0] - committed))
    return lags


def controller_lag(kube: KubeBackend, observer: KubeBackend, ns: str, runs: int) -> list[float]:
    lags = []
    for i in range(runs):
        name = f"web-{i}"
        labels = {"app": name}
        obj = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
        ref = ObjectRef.of(obj)
        seen: list[float] = []

        def watch_ready(live: Obj | None, seen: list[float] = seen) -> Readiness:
            verdict = rules.deployment(live)
            if verdict.ready and not seen:
                seen.append(time.perf_counter())
            return verdict

        observing = threading.Thread(target=observer.wait, args=(ref, watch_ready), kwargs={"timeout": 60})
        observing.start()
        time.sleep(0.2)
        kube.apply(obj)
        kube.wait(ref, rules.deployment, timeout=60)
        returned = time.perf_counter()
        observing.join(60)
        lags.append(max(0.0, returned - seen[0]))
    return lags


def requests_per_object(kube: KubeBackend, ns: str, count: int) -> tuple[Counter[str], Counter[str]]:
    writes: Counter[str] = Counter()
    waits: Counter[str] = Counter()
    for i in range(count):
        obj = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"svc-{i}", "namespace": ns},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}},
        }
        ref = ObjectRef.of(obj)
        kube.requests.clear()
        kube.get(ref)  # the runner's ownership check
        kube.apply(obj)
        writes.update(kube.requests)
        kube.requests.clear()
        kube.wait(ref, rules.service, timeout=30)
        waits.update(kube.requests)
    return writes, waits


def seed_deploy(kubeconfig: str, context: str, helm: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pyvela-bench-") as tmp:
        return _seed_deploy(kubeconfig, context, helm, Path(tmp))


def _seed_deploy(kubeconfig: str, context: str, helm: str | None, home: Path) -> dict[str, Any]:
    from apollo_server import DEFAULT_TOKEN, start_apollo_server
    from chartrepo import CHARTS_DIR, ChartRepo

    from pyvela._app.loader import load_app
    from pyvela._cli.run import config_centre_for
    from pyvela._workflow.lifecycle import AppOps

    assert helm, "no helm: pass --helm or set PYVELA_HELM"
    os.environ.update(
        PYVELA_HELM=helm,
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )
    with ChartRepo(helm, [CHARTS_DIR / "redis-cluster"]) as repo:
        apollo = start_apollo_server(app_ids=["lixiang-app"])
        try:
            os.environ.update(
                PYVELA_APOLLO_PORTAL_URL=apollo.url,
                PYVELA_APOLLO_CONFIG_URL=apollo.url,
                PYVELA_APOLLO_TOKEN=DEFAULT_TOKEN,
            )
            kube = KubeBackend.connect(kubeconfig=kubeconfig, context=context)
            ns = namespace(kube)
            src = (
                (ROOT / "apps/lixiang.py").read_text().replace("https://charts.bitnami.com/bitnami", repo.url)
            )
            src = src.replace('    "lixiang-app",\n', f'    "lixiang-app",\n    namespace="{ns}",\n')
            app = home / "lixiang_bench.py"
            home.mkdir(parents=True, exist_ok=True)
            app.write_text(src)
            loaded = load_app(app)
            centre, config = config_centre_for(kube, loaded)
            timeline: list[tuple[float, str, str | None]] = []

            class Sink:
                def emit(self, event: Any) -> None:
                    timeline.append((time.perf_counter(), event.kind, event.step))

            ops = AppOps(kube, loaded, events=Sink(), config_centre=centre, config=config)
            kube.requests.clear()
            start = time.perf_counter()
            result = ops.deploy()
            wall = time.perf_counter() - start
            assert result.ok, result.message
            requests = dict(kube.requests)
            # the critical path: per step, from its first wait (or helm apply) to readiness, plus
            # the config centre's round trips; the rest is pyvela's own work and its API writes
            critical = 0.0
            for step in ("apply-base-service", "apply-redis", "apply-proxy-service"):
                marks = [(t, k) for t, k, s in timeline if s == step]
                started = next(t for t, k in marks if k == "step-started")
                waiting = next((t for t, k in marks if k == "waiting"), started)
                ready = max(t for t, k in marks if k == "ready")
                critical += ready - waiting
                if step == "apply-redis":  # helm upgrade --install is outside pyvela
                    applied = next(t for t, k in marks if k == "applied")
                    critical += applied - started
            kube.close()
            return {"wall": wall, "critical": critical, "requests": requests}
        finally:
            apollo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context")
    parser.add_argument(
        "--build-dir", help="a `scripts/testcluster build` output to start (default: the cache's)"
    )
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with cluster(args) as (kubeconfig, context, helm):
        kube = KubeBackend.connect(kubeconfig=kubeconfig, context=context)
        observer = KubeBackend.connect(kubeconfig=kubeconfig, context=context)
        ns = namespace(kube)
        controlled = controlled_lag(kube, ns, args.runs)
        print(f"readiness lag, controlled write -> wait returns: {summary(controlled)}")
        real = controller_lag(kube, observer, ns, max(5, args.runs // 3))
        print(f"readiness lag, real controllers (observer -> wait): {summary(real)}")
        writes, waits = requests_per_object(kube, ns, 20)
        print(
            f"requests per applied object (20 Services): ownership read + apply {dict(writes)} / 20; "
            f"wait {dict(waits)} / 20"
        )
        kube.delete(ObjectRef("v1", "Namespace", "", ns), wait=False)
        kube.close()
        observer.close()
        for run in range(3):
            seed = seed_deploy(kubeconfig, context, helm)
            print(
                f"seed deploy #{run + 1}: wall {seed['wall']:.2f} s, critical path {seed['critical']:.2f} s, "
                f"overhead {seed['wall'] - seed['critical']:.2f} s; API requests {seed['requests']}"
            )


if __name__ == "__main__":
    main()
