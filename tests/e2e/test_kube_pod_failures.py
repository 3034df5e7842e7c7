"""A workload whose Pods are stuck fails its wait with the Pods' reason, on the real control plane.

kwok puts Pods into the waiting states a kubelet reports (tests/cluster/stages/pod-waiting.yaml);
Unschedulable comes from the real scheduler (a node selector no node has).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_failures import deployment

from pyvela._backends import readiness as rules
from pyvela._backends.kube.backend import KubeBackend
from pyvela._backends.pods import ANNOTATION_GRACE
from pyvela._backends.protocol import Readiness
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import NotReadyError, StepTimeout

kube, namespace = support.kube, support.namespace  # fixtures


def stuck(ns: str, name: str, reason: str, *, restarts: int = 0, grace: str | None = "2") -> Obj:
    obj = deployment(ns, name)
    pod = obj["spec"]["template"]["metadata"]
    pod["labels"]["pyvela-test.dev/waiting"] = "true"
    pod["annotations"] = {
        "pyvela-test.dev/waiting-reason": reason,
        "pyvela-test.dev/waiting-message": f"simulated {reason}",
        "pyvela-test.dev/restarts": str(restarts),
    }
    if grace is not None:
        obj["metadata"]["annotations"] = {ANNOTATION_GRACE: grace}
    return obj


def wait_failing(kube: KubeBackend, obj: Obj, **kwargs: Any) -> tuple[NotReadyError, float, list[str]]:
    ref = ObjectRef.of(kube.apply(obj))
    seen: list[str] = []

    def progress(r: Readiness) -> None:
        seen.append(r.message)

    started = time.monotonic()
    with pytest.raises(NotReadyError) as caught:
        kube.wait(ref, rules.deployment, timeout=120, on_progress=progress, **kwargs)
    return caught.value, time.monotonic() - started, seen


@pytest.mark.parametrize(
    "reason", ["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"]
)
def test_a_stuck_pod_fails_the_wait_with_its_reason(kube: KubeBackend, namespace: str, reason: str) -> None:
    error, took, seen = wait_failing(kube, stuck(namespace, "stuck", reason))
    assert reason in error.message and "pod stuck-" in error.message and "(for 2s)" in error.message
    assert error.got == reason and error.fix
    assert took < 60, f"failed only after {took:.0f}s: the grace is 2s, the timeout 120s"
    assert any(reason in m for m in seen), seen  # shown while waiting, before the failure


def test_crash_loop_counts_only_past_some_restarts(kube: KubeBackend, namespace: str) -> None:
    error, _, _ = wait_failing(kube, stuck(namespace, "crashing", "CrashLoopBackOff", restarts=5))
    assert "CrashLoopBackOff" in error.message and "restarted 5 times" in error.message
    ref = ObjectRef.of(kube.apply(stuck(namespace, "young", "CrashLoopBackOff", restarts=1)))
    with pytest.raises(StepTimeout):  # one restart is not yet a crash loop
        kube.wait(ref, rules.deployment, timeout=8)


def test_unschedulable_pods_fail_the_wait(kube: KubeBackend, namespace: str) -> None:
    obj = deployment(namespace, "nowhere")
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"pyvela-test.dev/no-such-node": "true"}
    obj["metadata"]["annotations"] = {ANNOTATION_GRACE: "1"}
    error, took, _ = wait_failing(kube, obj)
    assert "Unschedulable" in error.message and "node" in error.message, error.message
    assert took < 60


def test_the_step_grace_applies_when_the_object_has_none(kube: KubeBackend, namespace: str) -> None:
    error, took, _ = wait_failing(
        kube, stuck(namespace, "graced", "ImagePullBackOff", grace=None), failure_grace=1
    )
    assert "(for 1s)" in error.message and took < 60
