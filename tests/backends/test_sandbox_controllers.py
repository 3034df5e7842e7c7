"""The simulated controllers, as pure functions of (object, prior status, applied_at, now)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._backends import readiness as rules
from pyvela._backends.sandbox.controllers import CONTROLLERS, controller_for
from pyvela._backends.sandbox.settings import SandboxSettings, Sim, sim_for
from pyvela._backends.sandbox.simutil import ramp

T0 = 1_000_000.0
OK = Sim(delay=2.0)


def obj(api: str, kind: str, spec: dict[str, Any], generation: int = 1, **meta: Any) -> dict[str, Any]:
    metadata = {"name": "x", "namespace": "default", "uid": "u-1", "generation": generation, **meta}
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}


def deployment(replicas: int = 2, generation: int = 1, image: str = "nginx", **spec: Any) -> dict[str, Any]:
    template = {"spec": {"containers": [{"name": "c", "image": image}]}}
    return obj("apps/v1", "Deployment", {"replicas": replicas, "template": template, **spec}, generation)


def run(o: dict[str, Any], now: float, sim: Sim = OK, prior: dict[str, Any] | None = None) -> tuple[Any, Any]:
    group = o["apiVersion"].rpartition("/")[0]
    controller = controller_for(group, o["kind"])
    assert controller is not None
    return controller(o, prior or {}, T0, now, sim)


def with_status(o: dict[str, Any], status: Any) -> dict[str, Any]:
    return {**o, "status": status}


def test_ramp_is_exact() -> None:
    assert ramp(2, T0, 2.0, T0) == (0, T0 + 1.0)
    assert ramp(2, T0, 2.0, T0 + 0.999) == (0, T0 + 1.0)
    assert ramp(2, T0, 2.0, T0 + 1.0) == (1, T0 + 2.0)
    assert ramp(2, T0, 2.0, T0 + 2.0) == (2, None)
    assert ramp(3, T0, 0.3, T0 + 0.3) == (3, None)
    assert ramp(0, T0, 1.0, T0) == (0, None)
    assert ramp(5, T0, 0.0, T0) == (5, None)


def test_deployment_becomes_ready_one_replica_at_a_time() -> None:
    d = deployment(2)
    seen = []
    for now in (T0, T0 + 1.0, T0 + 2.0):
        status, nxt = run(d, now)
        seen.append((status.get("readyReplicas", 0), nxt))
        assert "readyReplicas" not in status or status["readyReplicas"] > 0  # zeros are omitted
    assert seen == [(0, T0 + 1.0), (1, T0 + 2.0), (2, None)]
    status, _ = run(d, T0 + 2.0)
    assert rules.deployment(with_status(d, status)).ready
    assert not rules.deployment(with_status(d, run(d, T0 + 1.0)[0])).ready


def test_deployment_status_is_piecewise_constant() -> None:
    d = deployment(3)
    assert run(d, T0 + 0.1) == run(d, T0 + 0.6)


def test_deployment_rolling_update_keeps_old_replicas_serving() -> None:
    prior, _ = run(deployment(2), T0 + 10)
    updated = deployment(2, generation=2, image="nginx:2")
    status, _ = run(updated, T0 + 0.5, prior=prior)
    assert status["readyReplicas"] == 2 and status["observedGeneration"] == 2
    verdict = rules.deployment(with_status(updated, status))
    assert not verdict.ready and not verdict.failed
    final, nxt = run(updated, T0 + 2.0, prior=prior)
    assert nxt is None and rules.deployment(with_status(updated, final)).ready


def test_deployment_image_that_never_pulls() -> None:
    d = deployment(2, progressDeadlineSeconds=5)
    fail = Sim(delay=1.0, fail="ImagePullBackOff")
    status, nxt = run(d, T0 + 4.9, fail)
    assert nxt == T0 + 5 and "readyReplicas" not in status
    assert not rules.deployment(with_status(d, status)).failed
    status, nxt = run(d, T0 + 5, fail)
    assert nxt is None
    verdict = rules.deployment(with_status(d, status))
    assert verdict.failed and "0/2 replicas ready" in verdict.message


def test_fail_images_and_annotations_select_the_failure() -> None:
    settings_ = SandboxSettings(fail_images=("*:does-not-exist",), ready_delay=3.0)
    assert sim_for(deployment(image="app:does-not-exist"), settings_).fail == "ImagePullBackOff"
    assert sim_for(deployment(image="app:1"), settings_) == Sim(delay=3.0)
    annotated = deployment()
    annotated["metadata"]["annotations"] = {
        "sandbox.pyvela.dev/ready-after": "0.5",
        "sandbox.pyvela.dev/fail": "JobFailed",
    }
    assert sim_for(annotated, settings_) == Sim(delay=0.5, fail="JobFailed")


def test_job_completes_or_fails() -> None:
    job = obj("batch/v1", "Job", {"completions": 2, "template": {}})
    status, nxt = run(job, T0 + 1.0)
    assert status["succeeded"] == 1 and nxt == T0 + 2.0
    assert rules.job(with_status(job, status)).message == "1/2 completions, 1 active"
    status, nxt = run(job, T0 + 2.0)
    assert nxt is None and rules.job(with_status(job, status)).ready
    failed, _ = run(job, T0 + 2.0, Sim(delay=2.0, fail="JobFailed"))
    verdict = rules.job(with_status(job, failed))
    assert verdict.failed and "BackoffLimitExceeded" in verdict.message and failed["failed"] == 7


def test_job_with_a_bad_image_hits_its_active_deadline() -> None:
    job = obj("batch/v1", "Job", {"activeDeadlineSeconds": 30})
    status, nxt = run(job, T0 + 29, Sim(delay=1.0, fail="ImagePullBackOff"))
    assert nxt == T0 + 30 and not rules.job(with_status(job, status)).failed
    status, _ = run(job, T0 + 30, Sim(delay=1.0, fail="ImagePullBackOff"))
    assert "DeadlineExceeded" in rules.job(with_status(job, status)).message


def rollout(generation: int = 1, image: str = "app:1", pause: bool = False) -> dict[str, Any]:
    steps = [{"setWeight": 20}, {"pause": {}}] if pause else [{"setWeight": 50}]
    spec = {
        "replicas": 2,
        "strategy": {"canary": {"steps": steps}},
        "template": {"spec": {"containers": [{"name": "c", "image": image}]}},
    }
    return obj("argoproj.io/v1alpha1", "Rollout", spec, generation)


def test_rollout_goes_healthy_with_string_observed_generation() -> None:
    ro = rollout()
    status, _ = run(ro, T0)
    assert status["phase"] == "Progressing" and status["observedGeneration"] == "1"
    status, nxt = run(ro, T0 + 2.0)
    assert nxt is None and status["phase"] == "Healthy"
    assert rules.rollout(with_status(ro, status)).ready


def test_rollout_update_pauses_only_when_asked() -> None:
    prior, _ = run(rollout(pause=True), T0 + 5)
    update = rollout(generation=2, image="app:2", pause=True)
    status, _ = run(update, T0 + 2.0, prior=prior)
    assert status["phase"] == "Healthy"
    honour = Sim(delay=2.0, honour_pauses=True)
    status, nxt = run(update, T0 + 2.0, honour, prior=prior)
    assert status["phase"] == "Paused" and status["message"] == "CanaryPauseStep" and nxt is None
    verdict = rules.rollout(with_status(update, status))
    assert not verdict.ready and not verdict.failed
    assert verdict.message.startswith("paused: CanaryPauseStep: promote it")
    first, _ = run(rollout(pause=True), T0 + 2.0, honour)  # the initial deploy skips steps
    assert first["phase"] == "Healthy"


def test_rollout_degrades() -> None:
    status, _ = run(rollout(), T0 + 2.0, Sim(delay=2.0, fail="Degraded"))
    verdict = rules.rollout(with_status(rollout(), status))
    assert status["phase"] == "Degraded" and verdict.failed


def test_helm_release_revisions() -> None:
    helm = obj("pyvela.dev/v1alpha1", "HelmRelease", {"chart": "redis-cluster", "version": "6.2.7"})
    status, nxt = run(helm, T0)
    assert status["phase"] == "pending-install" and status["revision"] == 1 and nxt == T0 + 2.0
    assert not rules.helm_release(with_status(helm, status)).ready
    deployed, _ = run(helm, T0 + 2.0)
    assert deployed["phase"] == "deployed" and rules.helm_release(with_status(helm, deployed)).ready
    upgrade = obj(
        "pyvela.dev/v1alpha1", "HelmRelease", {"chart": "redis-cluster", "version": "6.2.8"}, generation=2
    )
    status, _ = run(upgrade, T0, prior=deployed)
    assert (
        status["phase"] == "pending-upgrade" and status["revision"] == 2 and status["observedGeneration"] == 1
    )
    failed, _ = run(upgrade, T0 + 2.0, Sim(delay=2.0, fail="Failed"), prior=deployed)
    assert failed["phase"] == "failed" and rules.helm_release(with_status(upgrade, failed)).failed


@pytest.mark.parametrize(
    ("api", "kind", "spec", "rule"),
    [
        ("apps/v1", "StatefulSet", {"replicas": 3, "template": {}}, rules.stateful_set),
        ("apps/v1", "DaemonSet", {"template": {}}, rules.daemon_set),
        ("apps/v1", "ReplicaSet", {"replicas": 2}, rules.replica_set),
        ("v1", "Pod", {"containers": [{"name": "c", "image": "x"}]}, rules.pod),
        (
            "v1",
            "PersistentVolumeClaim",
            {"resources": {"requests": {"storage": "1Gi"}}},
            rules.persistent_volume_claim,
        ),
        ("v1", "Service", {"type": "LoadBalancer"}, rules.service),
    ],
)
def test_workloads_become_ready_after_the_delay(api: str, kind: str, spec: dict[str, Any], rule: Any) -> None:
    o = obj(api, kind, spec)
    early, nxt = run(o, T0)
    assert nxt is not None and not rule(with_status(o, early)).ready
    late, nxt = run(o, T0 + 2.0)
    assert nxt is None and rule(with_status(o, late)).ready


def test_failing_pod() -> None:
    pod = obj("v1", "Pod", {"containers": [{"name": "c", "image": "x"}]})
    status, nxt = run(pod, T0 + 100, Sim(delay=1.0, fail="ImagePullBackOff"))
    verdict = rules.pod(with_status(pod, status))
    assert nxt is None and not verdict.failed and "ImagePullBackOff" in verdict.message
    status, _ = run(pod, T0 + 1.0, Sim(delay=1.0, fail="Failed"))
    assert rules.pod(with_status(pod, status)).failed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "spec",
                    "template",
                    "replicas",
                    "containers",
                    "image",
                    "strategy",
                    "canary",
                    "steps",
                    "pause",
                    "completions",
                    "type",
                    "chart",
                    "versions",
                    "names",
                    "metadata",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(spec=json_values, prior=json_values, fail=st.sampled_from([None, "ImagePullBackOff", "Failed"]))
def test_controllers_never_raise(spec: Any, prior: Any, fail: str | None) -> None:
    for (group, kind), controller in CONTROLLERS.items():
        o = {
            "apiVersion": f"{group}/v1" if group else "v1",
            "kind": kind,
            "metadata": {"name": "x"},
            "spec": spec,
        }
        status, _ = controller(
            o, prior if isinstance(prior, dict) else {}, T0, T0 + 1, Sim(delay=1.0, fail=fail)
        )
        assert status is None or isinstance(status, dict)
