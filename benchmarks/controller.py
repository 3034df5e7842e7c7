"""Benchmark of ``pyvela controller`` (issue 15) on a control plane of its own with kwok nodes.

N Applications (``--apps``, default 1,000) of 3 ``webservice`` components each (a Deployment
and a Service each: 6 objects, 3 Pods made ready by kwok) are created at once in one
namespace; the controller runs as a separate process (``python -m pyvela controller``).
Reported:

- creation: the time until every Application says ``succeeded`` with ``6/6`` ready;
  reconcile time mean/p99 (the controller's ``pyvela_reconcile_duration_seconds``
  histogram, p99 interpolated in its bucket); the controller's CPU seconds and peak RSS
  (``/proc/PID/stat``, ``VmHWM``); its API requests, and per reconcile;
- a no-change resync, twice: the controller restarted (every app's loop starts with a
  reconcile: a full resync with cold caches), then the periodic one ``--resync`` later (warm);
  each with its duration (first to last reconcile of the wave), reconcile mean/p99, CPU, and
  the controller's requests by verb (a write is any ``create``/``update``/``patch``/``delete``).

The requests are counted from the API server's audit log: the benchmark's API server logs
(at the Metadata level) the requests of one user only, the controller's own token
(``bench-controller``); the controller-manager, scheduler and kwok share another token, so
their writes (node leases, Pod status) are not counted. ``apiserver_request_total`` has no
user label, which is why it is not used.

The control plane is started here from the ``scripts/testcluster build`` cache, on free
ports, with an etcd of its own (never the team's shared one), and stopped at the end. Its
controller-manager and scheduler get ``--kube-api-qps 200`` (their default 20 would make
the 3,000 ReplicaSets and Pods, not pyvela, the measure of "all ready").

    python benchmarks/controller.py [--apps 1000] [--workers 16] [--resync 60] [--creation-only]

Results go to docs/performance.md by hand (with the machine's load average, printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "cluster"))

import member as cluster_member  # type: ignore[import-not-found]  # noqa: E402 (tests/cluster)

from pyvela._controller.crd import API_VERSION, crd  # noqa: E402

L = cluster_member.L
NS = "bench"
USER = "bench-controller"
WRITES = ("create", "update", "patch", "delete", "deletecollection")
HIST = "pyvela_reconcile_duration_seconds"
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived", "ResponseStarted"],
    "rules": [{"level": "Metadata", "users": [USER]}, {"level": "None"}],
}


class BenchPlane(L.ControlPlane):  # type: ignore[misc,name-defined]
    """The test control plane, with the controller's own token audited and faster
    controller-manager and scheduler clients."""

    controller_token: str = ""

    def _spawn(self, name: str, args: list[str]) -> Any:
        wd = self.workdir
        if name == "kube-apiserver":
            self.controller_token = secrets.token_hex(24)
            with (wd / "tokens.csv").open("a") as fh:
                fh.write(f'{self.controller_token},{USER},{USER},"system:masters"\n')
            (wd / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY))
            args = [
                *args,
                f"--audit-policy-file={wd / 'audit-policy.yaml'}",
                f"--audit-log-path={wd / 'audit.log'}",
                "--audit-log-format=json",
                "--audit-log-mode=blocking",
            ]
        elif name in ("kube-controller-manager", "kube-scheduler"):
            args = [*args, "--kube-api-qps=200", "--kube-api-burst=400"]
        return super()._spawn(name, args)

    def controller_kubeconfig(self) -> Path:
        path = Path(self.workdir) / "controller-kubeconfig"
        cluster_member.write_kubeconfig(
            path, "bench", self.server, (self.workdir / "pki" / "ca.crt").read_bytes(), self.controller_token
        )
        return path

    @property
    def audit_log(self) -> Path:
        return Path(self.workdir) / "audit.log"


# --------------------------------------------------------------------------- the apps


def application(i: int) -> dict[str, Any]:
    name = f"app{i:04d}"
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "components": [
                {
                    "name": f"{name}-{part}",
                    "type": "webservice",
                    "properties": {
                        "image": f"registry.example/{part}:{i}",
                        "ports": [{"port": 8080, "expose": True}],
                    },
                }
                for part in ("web", "api", "worker")
            ]
        },
    }


def create_all(cp: Any, n: int) -> None:
    path = f"/apis/{API_VERSION}/namespaces/{NS}/applications"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: cp.api("POST", path, application(i)), range(n)))


def apps_status(cp: Any) -> list[dict[str, Any]]:
    """The Applications' statuses; asked again when the loaded API server times out the list."""
    for attempt in range(10):
        try:
            items = cp.api("GET", f"/apis/{API_VERSION}/namespaces/{NS}/applications")["items"]
        except (TimeoutError, OSError):
            if attempt == 9:
                raise
            time.sleep(2.0)
            continue
        return [dict(a.get("status") or {}) for a in items]
    raise AssertionError("unreachable")


def app_versions(cp: Any) -> dict[str, str]:
    items = cp.api("GET", f"/apis/{API_VERSION}/namespaces/{NS}/applications")["items"]
    return {a["metadata"]["name"]: a["metadata"]["resourceVersion"] for a in items}


def changed(before: dict[str, str], after: dict[str, str]) -> int:
    """How many Applications were written (their resourceVersion moved) in between."""
    return sum(1 for k, v in after.items() if before.get(k) != v)


# --------------------------------------------------------------------------- the controller process


class ControllerProc:
    started_procs: list[ControllerProc] = []  # all stopped at the end, whatever happened

    def __init__(self, cp: BenchPlane, args: argparse.Namespace, log: Path) -> None:
        argv = [sys.executable, "-m", "pyvela", "controller", "--kubeconfig", str(cp.controller_kubeconfig())]
        argv += ["--context", "bench", "--namespace", NS, "--resync", f"{args.resync}s"]
        argv += ["--workers", str(args.workers), "--bind", "127.0.0.1:0", "--debounce", "2s"]
        self.log = log
        self._out = log.open("a")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT)
        self.started = time.monotonic()
        ControllerProc.started_procs.append(self)
        self.url = ""
        deadline = time.monotonic() + 60
        while not self.url:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the controller did not start:\n{log.read_text()[-3000:]}")
            found = re.search(r"metrics on (http://\S+)/metrics", log.read_text())
            self.url = found.group(1) if found else ""
            time.sleep(0.2)

    def metrics(self) -> dict[str, float]:
        """The histogram's buckets (by ``le``), ``sum`` and ``count``, and the queue depth."""
        out: dict[str, float] = {}
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith(f"{HIST}_bucket"):
                le = re.search(r'le="([^"]+)"', line)
                assert le
                out[f"le:{le.group(1)}"] = float(line.rsplit(" ", 1)[1])
            elif line.startswith((f"{HIST}_sum", f"{HIST}_count", "pyvela_queue_depth ")):
                out[line.split(" ")[0].removeprefix(f"{HIST}_")] = float(line.rsplit(" ", 1)[1])
        return out

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._out.closed:
            self._out.close()


# --------------------------------------------------------------------------- figures


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if k != "pyvela_queue_depth"}


def hist_summary(d: dict[str, float]) -> dict[str, float]:
    """mean and p99 (ms) of a histogram delta; p99 linearly interpolated within its bucket."""
    count = d.get("count", 0.0)
    if count <= 0:
        return {"n": 0, "mean_ms": float("nan"), "p99_ms": float("nan")}
    bounds = sorted(
        (float(k[3:]) if k[3:] != "+Inf" else float("inf"), v) for k, v in d.items() if k.startswith("le:")
    )
    rank = 0.99 * count
    lower, below, p99 = 0.0, 0.0, float("inf")
    for bound, cumulative in bounds:
        if cumulative >= rank:
            inside = cumulative - below
            top = bound if bound != float("inf") else lower * 2
            p99 = lower + (top - lower) * ((rank - below) / inside if inside else 1.0)
            break
        lower, below = bound, cumulative
    return {"n": int(count), "mean_ms": 1000 * d["sum"] / count, "p99_ms": 1000 * p99}


def audit(path: Path, since: float, until: float) -> Counter[str]:
    """The controller's requests received in [since, until] (epoch seconds), by verb and resource."""
    verbs: Counter[str] = Counter()
    if not path.exists():
        return verbs
    with path.open() as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (entry.get("user") or {}).get("username") != USER:
                continue
            at = datetime.fromisoformat(entry["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()
            if since <= at <= until:
                ref = entry.get("objectRef") or {}
                sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
                verbs[f"{entry.get('verb', '?')} {ref.get('resource', '?')}{sub}"] += 1
    return verbs


def by_verb(requests: Counter[str]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for key, n in requests.items():
        out[key.split(" ")[0]] += n
    return dict(out)


def writes_of(path: Path, since: float, until: float) -> list[str]:
    """What the controller wrote in the window (verb resource/name), for the report."""
    out = []
    with path.open() as fh:
        for line in fh:
            entry = json.loads(line)
            if (entry.get("user") or {}).get("username") != USER or entry.get("verb") not in WRITES:
                continue
            at = datetime.fromisoformat(entry["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()
            if since <= at <= until:
                ref = entry.get("objectRef") or {}
                sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
                out.append(f"{entry['verb']} {ref.get('resource')}{sub}/{ref.get('name', '')}")
    return out


def quiet(ctl: ControllerProc, settle: float, timeout: float) -> dict[str, float]:
    """Wait until no reconcile ran for ``settle`` seconds; the metrics then."""
    last = ctl.metrics()
    still = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = ctl.metrics()
        if now.get("count") != last.get("count") or now.get("pyvela_queue_depth", 0) > 0:
            last, still = now, time.monotonic()
        elif time.monotonic() - still >= settle:
            return now
    return last


def wave(ctl: ControllerProc, before: dict[str, float], n: int, timeout: float) -> tuple[float, float, float]:
    """Wait for ``n`` more reconciles than ``before``: (first seen, last seen) monotonic
    times of the wave, and the epoch time at its end."""
    first = 0.0
    deadline = time.monotonic() + timeout
    base = before.get("count", 0.0)
    while time.monotonic() < deadline:
        if ctl.proc.poll() is not None:
            raise SystemExit(f"the controller exited ({ctl.proc.returncode}): see {ctl.log}")
        done = ctl.metrics().get("count", 0.0) - base
        if done > 0 and not first:
            first = time.monotonic()
        if done >= n:
            return first, time.monotonic(), time.time()
        time.sleep(0.25)
    raise SystemExit(f"timed out: {ctl.metrics().get('count', 0) - base:.0f} of {n} reconciles in the wave")


def line(name: str, h: dict[str, float], extra: str = "") -> None:
    print(f"  {name}: {h['n']} reconciles, mean {h['mean_ms']:.1f} ms, p99 {h['p99_ms']:.0f} ms{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16, help="the controller's --workers")
    parser.add_argument("--resync", type=int, default=60, help="the controller's --resync, seconds")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for all apps to be ready")
    parser.add_argument(
        "--creation-only", action="store_true", help="stop after creation (for a --workers sweep)"
    )
    args = parser.parse_args()
    n = args.apps
    print(f"load average before: {os.getloadavg()}", flush=True)
    logdir = Path(tempfile.mkdtemp(prefix="pyvela-bench-controller-"))
    plane = BenchPlane.from_cache(nodes=2)
    with plane as cp:
        cp.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd())
        cp._wait("the CRD", lambda: cp._crd_established("applications.pyvela.dev"), time.monotonic() + 60)
        cp.api(
            "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
        )
        ctl = ControllerProc(cp, args, logdir / "controller.log")
        print(f"controller log: {ctl.log}", flush=True)
        try:
            results = run(cp, ctl, args, n, logdir)
        finally:
            for proc in ControllerProc.started_procs:
                proc.stop()
    print(f"load average after: {os.getloadavg()}")
    print(json.dumps(results, indent=2, default=str))
    return 0


def run(
    cp: BenchPlane, ctl: ControllerProc, args: argparse.Namespace, n: int, logdir: Path
) -> dict[str, Any]:
    results: dict[str, Any] = {"apps": n, "workers": args.workers, "resync_s": args.resync}
    loads: list[tuple[float, float, float]] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(10):
            loads.append(os.getloadavg())

    threading.Thread(target=sample, daemon=True).start()

    # ---------------------------------------------------------------- creation
    t0, epoch0, cpu0 = time.monotonic(), time.time(), ctl.cpu()
    create_all(cp, n)
    created = time.monotonic() - t0
    print(f"created {n} Applications in {created:.1f}s", flush=True)
    deadline = t0 + args.timeout
    while True:
        statuses = apps_status(cp)
        ready = sum(1 for s in statuses if s.get("phase") == "succeeded" and s.get("ready") == "6/6")
        if ready == n:
            break
        if time.monotonic() > deadline:
            cpu, rss, done = ctl.cpu() - cpu0, ctl.peak_rss_mib(), hist_summary(ctl.metrics())
            raise SystemExit(
                f"timed out: {ready} of {n} ready after {time.monotonic() - t0:.0f}s; controller CPU "
                f"{cpu:.1f}s, peak RSS {rss:.0f} MiB, {done['n']} reconciles (mean {done['mean_ms']:.0f} ms)"
            )
        if ctl.proc.poll() is not None:
            raise SystemExit(f"the controller exited ({ctl.proc.returncode}): see {ctl.log}")
        time.sleep(max(2.0, n / 100))  # a listing of 1,000 statuses is work for the API server too
    all_ready = time.monotonic() - t0
    print(f"all {n} ready after {all_ready:.1f}s", flush=True)
    settled = quiet(ctl, settle=8.0, timeout=600)
    epoch1 = time.time()
    creation = hist_summary(settled)
    verbs = audit(cp.audit_log, epoch0, epoch1)
    results["creation"] = {
        "all_ready_s": round(all_ready, 1),
        "create_requests_s": round(created, 1),
        **creation,
        "cpu_s": round(ctl.cpu() - cpu0, 1),
        "peak_rss_mib": round(ctl.peak_rss_mib(), 1),
        "requests": by_verb(verbs),
        "requests_by_resource": dict(verbs.most_common(24)),
        "requests_per_reconcile": round(sum(verbs.values()) / max(1, creation["n"]), 1),
    }
    line("creation", creation, f" (all ready {all_ready:.1f}s)")
    if args.creation_only:
        sampling.set()
        results["load_average_1m"] = {"min": min((x[0] for x in loads), default=None),
                                      "max": max((x[0] for x in loads), default=None)}
        return results

    # ---------------------------------------------------------------- resync after a restart (cold)
    versions = app_versions(cp)
    ctl.stop()
    epoch2 = time.time()
    ctl2 = ControllerProc(cp, args, logdir / "controller-restarted.log")
    cpu2 = ctl2.cpu()
    start = ctl2.started
    first, last, epoch3 = wave(ctl2, {}, n, timeout=900)
    cold = hist_summary(ctl2.metrics())
    verbs = audit(cp.audit_log, epoch2, epoch3)
    results["resync_restart"] = {
        "from_start_s": round(last - start, 1),
        "wave_s": round(last - first, 1),
        **cold,
        "cpu_s": round(ctl2.cpu() - cpu2, 1),
        "requests": by_verb(verbs),
        "requests_by_resource": dict(verbs.most_common(24)),
        "requests_per_reconcile": round(sum(verbs.values()) / max(1, cold["n"]), 1),
        "writes": writes_of(cp.audit_log, epoch2, epoch3)[:20],
        "applications_changed": changed(versions, versions := app_versions(cp)),
    }
    line("resync after restart", cold, f" ({last - start:.1f}s from start, wave {last - first:.1f}s)")

    # ---------------------------------------------------------------- periodic resync (warm)
    before = quiet(ctl2, settle=3.0, timeout=120)
    epoch4, cpu4 = time.time(), ctl2.cpu()
    first, last, epoch5 = wave(ctl2, before, n, timeout=args.resync + 900)
    warm = hist_summary(delta(ctl2.metrics(), before))
    verbs = audit(cp.audit_log, epoch4, epoch5)
    results["resync_periodic"] = {
        "wave_s": round(last - first, 1),
        **warm,
        "cpu_s": round(ctl2.cpu() - cpu4, 1),
        "requests": by_verb(verbs),
        "requests_by_resource": dict(verbs.most_common(24)),
        "requests_per_reconcile": round(sum(verbs.values()) / max(1, warm["n"]), 1),
        "writes": writes_of(cp.audit_log, epoch4, epoch5)[:20],
        "applications_changed": changed(versions, app_versions(cp)),
    }
    line("periodic resync", warm, f" (wave {last - first:.1f}s)")
    results["peak_rss_mib_restarted"] = round(ctl2.peak_rss_mib(), 1)
    sampling.set()
    results["load_average_1m"] = {
        "min": min((x[0] for x in loads), default=None),
        "max": max((x[0] for x in loads), default=None),
    }
    ctl2.stop()
    return results


if __name__ == "__main__":
    sys.exit(main())
