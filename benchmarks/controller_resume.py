"""How late a parked run resumes when many first deploys are queued for the controller's workers.

One Application's workflow is a timed ``suspend`` (``--nap`` seconds): its first reconcile
parks it, and its requeue at the suspend's end is a *resume*. Right after it parks, ``--apps``
other Applications (one webservice each) are created at once, so their first deploys queue
for the ``--workers`` workers. Reported: how long after the suspend's end the parked app's
status said ``succeeded`` (its lateness), and when every other app's did (their first runs
park on their Deployments too, and are resumed by requeues), with the controller's queue
first in, first out (as a ``ThreadPoolExecutor``) and with resumes first
(``workqueue.PriorityPool``, what the controller uses), and the process's CPU seconds.

The controller's own app loops (``Controller.app_loop``) and ``Reconciler`` run on a
sandbox, without kopf (nothing here depends on the watch machinery: the wake-up is the
requeue); the status writes are recorded with their time instead of patched.

    python benchmarks/controller_resume.py [--apps 150] [--workers 2] [--nap 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._cli.centres import config_centre_for
from pyvela._controller.operator import Controller
from pyvela._controller.reconciler import Reconciler
from pyvela._controller.workqueue import NORMAL, PriorityPool

NS = "bench"


class Fifo(PriorityPool):
    """The queue before resumes came first: every call in arrival order."""

    def submit_at(self, priority: int, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return super().submit_at(NORMAL, fn, *args, **kwargs)


def _body(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": 1}
    return {"apiVersion": "pyvela.dev/v1alpha1", "kind": "Application", "metadata": meta, "spec": spec}


def _web(name: str) -> dict[str, Any]:
    component = {"name": name, "type": "webservice", "properties": {"image": "nginx:1.14.2"}}
    return _body(name, {"components": [component]})


def _napper(seconds: float) -> dict[str, Any]:
    component = {"name": "napper", "type": "webservice", "properties": {"image": "nginx:1.14.2"}}
    steps = [
        {"name": "nap", "type": "suspend", "properties": {"duration": f"{seconds:g}s"}},
        # Nothing after it waits: the resume is one reconcile (no watch here to wake a second).
        {"name": "say", "type": "print-message-in-status", "properties": {"message": "woke up"}},
    ]
    return _body("napper", {"components": [component], "workflow": {"steps": steps}})


async def _one(queue: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    box = Sandbox(root / queue, settings=SandboxSettings(ready_delay=0.2))
    reconciler = Reconciler(box, centre_for=config_centre_for, workdir=root / f"work-{queue}", park=True)
    c = Controller(reconciler, resync=3600, debounce=0.05, workers=args.workers)
    if queue == "fifo":
        c.pool = Fifo(args.workers, "pyvela-reconcile")
    statuses: dict[str, tuple[float, str]] = {}

    def record(body: Any, status: dict[str, Any], _in_body: Any = None) -> None:
        statuses[body["metadata"]["name"]] = (time.monotonic(), str(status.get("phase")))

    c.write_status = record  # type: ignore[method-assign,assignment]
    stop = asyncio.Event()

    class Stopped:
        def __bool__(self) -> bool:
            return stop.is_set()

    loops = [asyncio.ensure_future(c.app_loop(_napper(args.nap), Stopped()))]
    while statuses.get("napper", (0, ""))[1] != "waiting":
        await asyncio.sleep(0.05)
    nap_end = time.monotonic() + args.nap  # parked at the suspend just now (at most this late)
    began = time.monotonic()
    loops += [asyncio.ensure_future(c.app_loop(_web(f"web-{i}"), Stopped())) for i in range(args.apps)]

    def done() -> bool:
        return len(statuses) == args.apps + 1 and all(p == "succeeded" for _t, p in statuses.values())

    while not done():
        await asyncio.sleep(0.1)
    stop.set()
    for loop in loops:
        loop.cancel()
    c.pool.shutdown(wait=False, cancel_futures=True)
    c.status_pool.shutdown(wait=False)
    box.close()
    firsts = [t for name, (t, _p) in statuses.items() if name != "napper"]
    return {
        "queue": queue,
        "resume_late_s": round(statuses["napper"][0] - nap_end, 2),
        "all_web_succeeded_s": round(max(firsts) - began, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--apps", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nap", type=float, default=0.5)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for queue in ("fifo", "priority"):
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            result = asyncio.run(_one(queue, args, Path(tmp)))
            after = resource.getrusage(resource.RUSAGE_SELF)
            result["cpu_s"] = round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 1)
            results.append(result)
            print(json.dumps(result), flush=True)
    print(json.dumps({"apps": args.apps, "workers": args.workers, "load_1m": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
