"""Waiting on the sandbox: simulated readiness over time, failures, timeouts, cancellation.

Timings are asserted loosely (ordering, "well before the timeout"): the machine is noisy.
Exact lag numbers live in benchmarks/sandbox.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends import readiness as rules
from pyvela._backends.protocol import Readiness
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef
from pyvela.errors import NotReadyError, StepTimeout, WorkflowError

DELAY = 0.2


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=DELAY)) as sb:
        yield sb


def deployment(name: str = "web", replicas: int = 2, image: str = "nginx:1", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, **extra.pop("metadata", {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **extra,
        },
    }


def test_deployment_becomes_ready_with_progress(sandbox: Sandbox) -> None:
    ref = ObjectRef.of(sandbox.apply(deployment(replicas=2)))
    seen: list[tuple[float, Readiness]] = []
    start = time.monotonic()
    live = sandbox.wait(
        ref, rules.deployment, timeout=30, on_progress=lambda r: seen.append((time.monotonic(), r))
    )
    elapsed = time.monotonic() - start
    assert live["status"]["readyReplicas"] == 2
    messages = [r.message for _, r in seen]
    assert messages[-1] == "2/2 replicas ready" and any(m.startswith("1/2") for m in messages)
    assert messages.index(messages[-1]) == len(messages) - 1  # each message reported once, in order
    assert elapsed < 10  # not stuck (the delay is 0.2 s)


def test_wait_returns_after_the_ready_time(sandbox: Sandbox) -> None:
    applied = sandbox.apply(
        deployment(replicas=1, metadata={"annotations": {"sandbox.pyvela.dev/ready-after": "0.3"}})
    )
    start = time.monotonic()
    sandbox.wait(ObjectRef.of(applied), rules.deployment, timeout=30)
    assert time.monotonic() - start >= 0.25


def test_status_is_persisted_for_other_instances(sandbox: Sandbox, tmp_path: Path) -> None:
    ref = ObjectRef.of(sandbox.apply(deployment(replicas=1)))
    time.sleep(DELAY + 0.05)
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=5.0)) as other:
        live = other.get(ref)  # the delay stored with the object counts, not this instance's settings
    assert live is not None and rules.deployment(live).ready


def test_wait_for_an_object_created_by_another_thread(sandbox: Sandbox) -> None:
    ref = ObjectRef("v1", "ConfigMap", "default", "later")
    timer = threading.Timer(
        0.1, lambda: sandbox.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later"}})
    )
    seen: list[str] = []
    timer.start()
    try:
        live = sandbox.wait(ref, rules.generic, timeout=30, on_progress=lambda r: seen.append(r.message))
    finally:
        timer.join()
    assert live["metadata"]["name"] == "later" and seen == ["not found yet", "exists"]


def test_image_that_never_pulls_fails_fast_at_the_progress_deadline(sandbox: Sandbox) -> None:
    ref = ObjectRef.of(sandbox.apply(deployment(image="app:does-not-exist", progressDeadlineSeconds=1)))
    start = time.monotonic()
    with pytest.raises(NotReadyError, match="progress deadline exceeded") as caught:
        sandbox.wait(ref, rules.deployment, timeout=60)
    assert time.monotonic() - start < 30
    assert caught.value.context["object"] == "Deployment default/web"


def test_failing_job(sandbox: Sandbox) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "annotations": {"sandbox.pyvela.dev/fail": "JobFailed"}},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "m:1"}]}}},
    }
    with pytest.raises(NotReadyError, match="BackoffLimitExceeded"):
        sandbox.wait(ObjectRef.of(sandbox.apply(job)), rules.job, timeout=30)


def test_completing_job(sandbox: Sandbox) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "ok"},
        "spec": {"completions": 2, "template": {"spec": {"containers": [{"name": "m", "image": "m:1"}]}}},
    }
    live = sandbox.wait(ObjectRef.of(sandbox.apply(job)), rules.job, timeout=30)
    assert live["status"]["succeeded"] == 2


def test_timeout(sandbox: Sandbox) -> None:
    slow = deployment(replicas=1, metadata={"annotations": {"sandbox.pyvela.dev/ready-after": "60"}})
    ref = ObjectRef.of(sandbox.apply(slow))
    with pytest.raises(StepTimeout) as caught:
        sandbox.wait(ref, rules.deployment, timeout=0.2)
    error = caught.value
    assert error.context["timeout"] == 0.2 and error.context["last_message"].startswith("0/1 replicas ready")
    assert "0/1 replicas ready" in error.message and error.context["object"] == "Deployment default/web"


def test_cancel(sandbox: Sandbox) -> None:
    slow = deployment(replicas=1, metadata={"annotations": {"sandbox.pyvela.dev/ready-after": "60"}})
    ref = ObjectRef.of(sandbox.apply(slow))
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    start = time.monotonic()
    with pytest.raises(WorkflowError, match="cancelled"):
        sandbox.wait(ref, rules.deployment, timeout=60, cancel=cancel)
    timer.join()
    assert time.monotonic() - start < 30


def test_update_waits_for_the_new_generation(sandbox: Sandbox) -> None:
    ref = ObjectRef.of(sandbox.apply(deployment(replicas=1)))
    sandbox.wait(ref, rules.deployment, timeout=30)
    updated = sandbox.apply(deployment(replicas=1, image="nginx:2"))
    assert updated["metadata"]["generation"] == 2
    assert not rules.deployment(updated).ready  # the stale status still says generation 1
    live = sandbox.wait(ref, rules.deployment, timeout=30)
    assert live["status"]["observedGeneration"] == 2


def test_rollout_helm_ingress_and_lb_service(sandbox: Sandbox) -> None:
    objects = [
        (
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "metadata": {"name": "proxy"},
                "spec": {
                    "replicas": 2,
                    "template": {"spec": {"containers": [{"name": "p", "image": "p:1"}]}},
                },
            },
            rules.rollout,
        ),
        (
            {
                "apiVersion": "pyvela.dev/v1alpha1",
                "kind": "HelmRelease",
                "metadata": {"name": "redis"},
                "spec": {"chart": "redis-cluster", "version": "6.2.7"},
            },
            rules.helm_release,
        ),
        (
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": "web"},
                "spec": {},
            },
            rules.ingress,
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "lb"},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            },
            rules.service,
        ),
    ]
    for obj, rule in objects:
        live = sandbox.wait(ObjectRef.of(sandbox.apply(obj)), rule, timeout=30)
        assert rule(live).ready
    ingress = sandbox.get(ObjectRef("networking.k8s.io/v1", "Ingress", "default", "web"))
    assert ingress is not None and ingress["status"]["loadBalancer"]["ingress"] == [
        {"ip": "127.0.0.1", "ipMode": "VIP"}
    ]
    helm = sandbox.apply(
        {
            "apiVersion": "pyvela.dev/v1alpha1",
            "kind": "HelmRelease",
            "metadata": {"name": "redis"},
            "spec": {"chart": "redis-cluster", "version": "6.2.8"},
        }
    )
    live = sandbox.wait(ObjectRef.of(helm), rules.helm_release, timeout=30)
    assert live["status"]["revision"] == 2


def test_many_threads_waiting_and_writing(sandbox: Sandbox) -> None:
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            ref = ObjectRef.of(sandbox.apply(deployment(f"w{i}", replicas=1)))
            sandbox.wait(ref, rules.deployment, timeout=60)
            for j in range(5):
                sandbox.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}-{j}"}})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(sandbox.list("v1", "ConfigMap")) == 40
