"""`pyvela controller` on the real control plane: a creation run parks at its Deployments'
readiness and the run that resumes it (same revision) neither reads nor applies again the
objects the first run applied, when the watch shows them as that apply left them
(``pyvela._controller.applied``). Counted by the controller's own
``pyvela_api_requests_total`` (every request of its client)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_controller_requests import requests
from test_kube_controller_resync import _metrics, controller, wait_for

from pyvela._backends.kube.backend import KubeBackend
from pyvela._controller.crd import API_VERSION, KIND
from pyvela._core.objects import ObjectRef

kube = support.kube  # fixture
__all__ = ["controller"]  # the fixture, from the resync test

PARTS = ("web", "api", "worker")


def test_a_resumed_run_applies_each_object_no_second_time(
    controller: dict[str, Any], kube: KubeBackend
) -> None:
    namespace, url, log = controller["namespace"], controller["url"], controller["log"]
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "resumed", "namespace": namespace},
            "spec": {
                "components": [
                    {
                        "name": f"resumed-{part}",
                        "type": "webservice",
                        "properties": {"image": "nginx:1.14.2", "ports": [{"port": 80, "expose": True}]},
                    }
                    for part in PARTS
                ]
            },
        }
    )
    ref = ObjectRef(API_VERSION, KIND, namespace, "resumed")

    def ready() -> Any:
        status = (kube.get(ref) or {}).get("status") or {}
        return status if status.get("phase") == "succeeded" and status.get("ready") == "6/6" else None

    wait_for("the app to be ready", ready, 240, log)
    seen = requests(_metrics(url))
    runs = seen.get(("POST", "leases.coordination.k8s.io"), 0.0)  # each deploy run takes the Lease once
    print(f"{runs:.0f} run(s): {sorted(seen.items())}")
    # No Deployment is ready when it is applied: the first run parks, a second one resumes it.
    assert runs >= 2, seen
    # Each object applied once, by the first run: the resume found them unchanged in the watch
    # (before, each run applied all six again, and read each before its apply).
    assert seen.get(("PATCH", "deployments.apps"), 0.0) == len(PARTS), seen
    assert seen.get(("PATCH", "services"), 0.0) == len(PARTS), seen
    assert seen.get(("GET", "services"), 0.0) <= len(PARTS), seen
