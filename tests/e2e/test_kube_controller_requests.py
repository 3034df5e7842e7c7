"""`pyvela controller` on the real control plane: how many requests a creation reconcile
makes. On a loaded API server a creation's reconcile time is its requests' time, so what
the controller already knows is not asked again (``pyvela._controller.deploys``): the state
record once the deploy wrote it (the Events on it, the status after the deploy), the
Application's Namespace after its first read, a Deployment the watch shows ready at the
applied generation. Counted by the controller's own ``pyvela_api_requests_total`` (every
request of its client; kopf's own are not in it)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_controller_resync import _metrics, controller, wait_for

from pyvela._backends.kube.backend import KubeBackend
from pyvela._controller.crd import API_VERSION, KIND
from pyvela._core.objects import ObjectRef

kube = support.kube  # fixture
__all__ = ["controller"]  # the fixture, from the resync test

COUNT = "pyvela_reconcile_duration_seconds_count"


def requests(metrics: dict[str, float]) -> dict[tuple[str, str], float]:
    """(verb, resource) -> requests, whatever the answer's code."""
    out: dict[tuple[str, str], float] = {}
    for key, value in metrics.items():
        if not key.startswith("pyvela_api_requests_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', key))
        k = (labels["verb"], labels["resource"])
        out[k] = out.get(k, 0.0) + value
    return out


def test_a_creation_reconcile_asks_nothing_it_already_knows(
    controller: dict[str, Any], kube: KubeBackend
) -> None:
    namespace, url, log = controller["namespace"], controller["url"], controller["log"]
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "counted", "namespace": namespace},
            "spec": {
                "components": [
                    {
                        "name": f"counted-{part}",
                        "type": "webservice",
                        "properties": {"image": "nginx:1.14.2", "ports": [{"port": 80, "expose": True}]},
                    }
                    for part in ("web", "api", "worker")
                ]
            },
        }
    )
    ref = ObjectRef(API_VERSION, KIND, namespace, "counted")

    def ready() -> Any:
        status = (kube.get(ref) or {}).get("status") or {}
        return status if status.get("phase") == "succeeded" and status.get("ready") == "6/6" else None

    wait_for("the app to be ready", ready, 240, log)
    metrics = _metrics(url)
    seen = requests(metrics)
    reconciles = metrics.get(COUNT, 0.0)
    runs = seen.get(("POST", "leases.coordination.k8s.io"), 0.0)  # each deploy run takes the Lease once
    assert runs >= 1 and reconciles >= runs, seen
    noops = reconciles - runs  # each reads the record's index, nothing else
    print(f"{runs:.0f} run(s), {reconciles:.0f} reconciles: {sorted(seen.items())}")

    # The Namespace: read once by the process, not twice per run.
    assert seen.get(("GET", "namespaces"), 0.0) <= 1, seen
    # The record: read before the Lease and under it, listed once for a new one; a resumed
    # run (a park) reads it whole under the Lease. Not again for its Events or the status
    # (that was 10 requests per creation run).
    secrets = seen.get(("GET", "secrets"), 0.0)
    assert secrets <= 3 + 6 * (runs - 1) + noops, seen
    # Each Deployment read before its apply, and looked at once unless the watch showed it
    # ready at the applied generation.
    assert seen.get(("GET", "deployments.apps"), 0.0) <= 6 * runs, seen
    # The whole creation run, its status write included (discovery, watches and the Lease's
    # renewals, which a slow server makes more of, aside): 36, and the controller's start-up
    # reads of its CRD and the Namespace; 47 before.
    status_writes = seen.get(("PATCH", "applications.pyvela.dev/status"), 0.0)
    renewals = ("PUT", "leases.coordination.k8s.io")
    total = sum(
        v
        for (verb, resource), v in seen.items()
        if verb != "WATCH" and resource != "discovery" and (verb, resource) != renewals
    )
    if runs == 1:
        assert total <= 42 + noops + (status_writes - 1), seen
