"""Readiness rules: one observation of an object -> ready / not ready / failed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._backends import readiness as r
from pyvela._backends.protocol import Readiness


def obj(
    kind: str, *, generation: int = 1, spec: Any = None, status: Any = None, api: str = "v1"
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "x", "generation": generation},
    }
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


AVAILABLE = cond("Available", "True", "MinimumReplicasAvailable")
COMPLETE = cond("Progressing", "True", "NewReplicaSetAvailable")


def deploy(want: int | None = 2, **status: Any) -> dict[str, Any]:
    spec = {} if want is None else {"replicas": want}
    return obj("Deployment", api="apps/v1", spec=spec, status=status)


# ----------------------------------------------------------------------------- absent
@pytest.mark.parametrize("rule", [getattr(r, name) for name in r.__all__ if name != "rule_for"])
def test_absent_object_is_not_ready(rule: Any) -> None:
    assert rule(None) == Readiness(False, "not found yet")


# ----------------------------------------------------------------------------- Deployment
def test_deployment_ready() -> None:
    d = deploy(
        2,
        observedGeneration=1,
        replicas=2,
        updatedReplicas=2,
        readyReplicas=2,
        availableReplicas=2,
        conditions=[AVAILABLE, COMPLETE],
    )
    assert r.deployment(d) == Readiness(True, "2/2 replicas ready")


def test_deployment_missing_ready_replicas_reads_as_zero() -> None:
    d = deploy(2, observedGeneration=1, replicas=2, updatedReplicas=2, conditions=[COMPLETE])
    verdict = r.deployment(d)
    assert not verdict.ready and not verdict.failed
    assert verdict.message.startswith("0/2 replicas ready")


def test_deployment_partial_message() -> None:
    d = deploy(2, observedGeneration=1, replicas=2, updatedReplicas=2, readyReplicas=1, availableReplicas=1)
    assert r.deployment(d).message == "1/2 replicas ready, 1/2 available"


def test_deployment_default_replicas_is_one() -> None:
    d = deploy(
        None,
        observedGeneration=1,
        replicas=1,
        updatedReplicas=1,
        readyReplicas=1,
        availableReplicas=1,
        conditions=[AVAILABLE, COMPLETE],
    )
    assert r.deployment(d) == Readiness(True, "1/1 replicas ready")


def test_deployment_zero_replicas_ready_without_counts() -> None:
    assert r.deployment(deploy(0, observedGeneration=1, conditions=[AVAILABLE])).ready


def test_deployment_stale_generation_waits() -> None:
    d = deploy(
        1,
        observedGeneration=1,
        replicas=1,
        updatedReplicas=1,
        readyReplicas=1,
        availableReplicas=1,
        conditions=[AVAILABLE, COMPLETE],
    )
    d["metadata"]["generation"] = 2
    verdict = r.deployment(d)
    assert not verdict.ready and "generation 2" in verdict.message


def test_deployment_progress_deadline_exceeded_fails() -> None:
    dead = cond(
        "Progressing", "False", "ProgressDeadlineExceeded", 'ReplicaSet "x-1" has timed out progressing.'
    )
    d = deploy(2, observedGeneration=1, replicas=2, updatedReplicas=2, conditions=[dead])
    verdict = r.deployment(d)
    assert verdict.failed and not verdict.ready
    assert "0/2 replicas ready" in verdict.message and "progress deadline exceeded" in verdict.message


def test_deployment_needs_available_condition_and_complete_progress() -> None:
    counts = {
        "observedGeneration": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
    }
    assert "condition Available" in r.deployment(deploy(1, **counts)).message
    updating = cond("Progressing", "True", "ReplicaSetUpdated")
    verdict = r.deployment(deploy(1, **counts, conditions=[AVAILABLE, updating]))
    assert not verdict.ready and "ReplicaSetUpdated" in verdict.message
    # no Progressing condition at all: the counts decide
    assert r.deployment(deploy(1, **counts, conditions=[AVAILABLE])).ready


def test_deployment_old_replicas_pending() -> None:
    d = deploy(2, observedGeneration=1, replicas=3, updatedReplicas=2, readyReplicas=2, availableReplicas=2)
    assert "1 old replicas pending termination" in r.deployment(d).message


# ----------------------------------------------------------------------------- other workloads
def test_stateful_set() -> None:
    sts = obj(
        "StatefulSet",
        api="apps/v1",
        spec={"replicas": 2},
        status={
            "observedGeneration": 1,
            "readyReplicas": 2,
            "updatedReplicas": 2,
            "currentRevision": "a",
            "updateRevision": "a",
        },
    )
    assert r.stateful_set(sts).ready
    sts["status"]["updateRevision"] = "b"
    assert "waiting for revision b" in r.stateful_set(sts).message
    sts["spec"]["updateStrategy"] = {"rollingUpdate": {"partition": 1}}
    assert r.stateful_set(sts).ready
    del sts["status"]["readyReplicas"]
    assert r.stateful_set(sts).message == "0/2 replicas ready"


def test_daemon_set() -> None:
    ds = obj(
        "DaemonSet",
        api="apps/v1",
        status={
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
            "numberReady": 2,
        },
    )
    assert r.daemon_set(ds) == Readiness(False, "2/3 pods ready, 2/3 available")
    ds["status"]["numberAvailable"] = ds["status"]["numberReady"] = 3
    assert r.daemon_set(ds).ready


def test_replica_set() -> None:
    rs = obj(
        "ReplicaSet",
        api="apps/v1",
        spec={"replicas": 2},
        status={"observedGeneration": 1, "readyReplicas": 2},
    )
    assert not r.replica_set(rs).ready
    rs["status"]["availableReplicas"] = 2
    assert r.replica_set(rs).ready


def test_job() -> None:
    job = obj("Job", api="batch/v1", spec={"completions": 2}, status={"succeeded": 1, "active": 1})
    assert r.job(job) == Readiness(False, "1/2 completions, 1 active")
    job["status"]["conditions"] = [cond("Complete", "True")]
    assert r.job(job).ready


def test_job_failed() -> None:
    failed = cond("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    verdict = r.job(obj("Job", api="batch/v1", status={"failed": 7, "conditions": [failed]}))
    assert verdict.failed and "BackoffLimitExceeded" in verdict.message


def test_pod() -> None:
    pod = obj("Pod", status={"phase": "Running", "conditions": [cond("Ready", "True")]})
    assert r.pod(pod).ready
    assert r.pod(obj("Pod", status={"phase": "Succeeded"})).ready
    assert r.pod(obj("Pod", status={"phase": "Failed", "reason": "Evicted"})).failed
    waiting = {
        "phase": "Pending",
        "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
    }
    verdict = r.pod(obj("Pod", status=waiting))
    assert not verdict.ready and not verdict.failed and "app: ImagePullBackOff" in verdict.message


def test_service() -> None:
    assert r.service(obj("Service", spec={"clusterIP": "10.96.0.5"})) == Readiness(
        True, "cluster IP 10.96.0.5"
    )
    lb = obj("Service", spec={"type": "LoadBalancer"}, status={"loadBalancer": {}})
    assert not r.service(lb).ready
    lb["status"]["loadBalancer"]["ingress"] = [{"ip": "1.2.3.4"}]
    assert r.service(lb) == Readiness(True, "load balancer 1.2.3.4")


def test_ingress() -> None:
    ing = obj("Ingress", api="networking.k8s.io/v1")
    assert r.ingress(ing).ready
    ing["status"] = {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}}
    assert r.ingress(ing) == Readiness(True, "address lb.example")


def test_pvc() -> None:
    assert not r.persistent_volume_claim(obj("PersistentVolumeClaim", status={"phase": "Pending"})).ready
    assert r.persistent_volume_claim(obj("PersistentVolumeClaim", status={"phase": "Bound"})).ready
    assert r.persistent_volume_claim(obj("PersistentVolumeClaim", status={"phase": "Lost"})).failed


# ----------------------------------------------------------------------------- Rollout / Helm
def rollout(generation: int, **status: Any) -> dict[str, Any]:
    return obj(
        "Rollout", api="argoproj.io/v1alpha1", generation=generation, spec={"replicas": 1}, status=status
    )


def test_rollout_string_observed_generation() -> None:
    assert r.rollout(rollout(3, phase="Healthy", observedGeneration="3")) == Readiness(True, "healthy")
    # the copied Deployment wait never matches: a string is not the integer generation
    assert not r.deployment(rollout(3, phase="Healthy", observedGeneration="3")).ready


def test_rollout_stale_or_progressing() -> None:
    assert not r.rollout(rollout(3, phase="Healthy", observedGeneration="2")).ready
    verdict = r.rollout(
        rollout(1, phase="Progressing", observedGeneration="1", message="more replicas need to be updated")
    )
    assert not verdict.ready and not verdict.failed and "more replicas" in verdict.message


def test_rollout_degraded_and_paused() -> None:
    degraded = r.rollout(
        rollout(1, phase="Degraded", observedGeneration="1", message="ProgressDeadlineExceeded")
    )
    assert degraded.failed and "ProgressDeadlineExceeded" in degraded.message
    paused = r.rollout(rollout(2, phase="Paused", observedGeneration="2", message="CanaryPauseStep"))
    assert not paused.ready and not paused.failed
    assert paused.message.startswith("paused: CanaryPauseStep: promote it (kubectl argo rollouts promote ")


def test_helm_release() -> None:
    helm = obj(
        "HelmRelease",
        api="pyvela.dev/v1alpha1",
        generation=2,
        status={"phase": "deployed", "observedGeneration": 1, "revision": 1},
    )
    assert not r.helm_release(helm).ready
    helm["status"] = {"phase": "deployed", "observedGeneration": 2, "revision": 2}
    assert r.helm_release(helm) == Readiness(True, "revision 2 deployed")
    helm["status"] = {"phase": "failed", "observedGeneration": 2, "message": "boom"}
    assert r.helm_release(helm).failed


def test_namespace_and_crd() -> None:
    assert r.namespace(obj("Namespace", status={"phase": "Active"})).ready
    assert not r.namespace(obj("Namespace", status={"phase": "Terminating"})).ready
    crd = obj("CustomResourceDefinition", status={"conditions": [cond("Established", "True")]})
    assert r.crd(crd).ready
    crd["status"]["conditions"] = [cond("NamesAccepted", "False", "KindConflict")]
    assert r.crd(crd).failed


# ----------------------------------------------------------------------------- generic
def test_generic_rule() -> None:
    assert r.generic(obj("ConfigMap")) == Readiness(True, "exists")
    assert not r.generic(obj("Foo", generation=2, status={"observedGeneration": 1})).ready
    assert r.generic(
        obj("Foo", status={"observedGeneration": 1, "conditions": [cond("Ready", "True")]})
    ).ready
    assert not r.generic(obj("Foo", status={"conditions": [cond("Ready", "False", "Progressing")]})).failed
    assert r.generic(obj("Foo", status={"conditions": [cond("Ready", "False", "InstallFailed")]})).failed
    assert r.generic(obj("Foo", status={"conditions": [cond("Stalled", "True", "Broken")]})).failed
    assert not r.generic(obj("Foo", status={"conditions": [cond("Reconciling", "True")]})).ready


@pytest.mark.parametrize(
    ("api_version", "kind", "rule"),
    [
        ("apps/v1", "Deployment", r.deployment),
        ("argoproj.io/v1alpha1", "Rollout", r.rollout),
        ("pyvela.dev/v1alpha1", "HelmRelease", r.helm_release),
        ("v1", "Service", r.service),
        ("batch/v1", "Job", r.job),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", r.crd),
        ("v1", "ConfigMap", r.generic),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease", r.generic),
        ("example.com/v1", "Deployment", r.generic),
    ],
)
def test_rule_for(api_version: str, kind: str, rule: Any) -> None:
    assert r.rule_for(api_version, kind) is rule


# ----------------------------------------------------------------------------- garbage
GARBAGE = [
    {"status": "nope"},
    {"metadata": None, "spec": [], "status": {"conditions": "x"}},
    {"metadata": {"generation": "abc"}, "spec": {"replicas": "two"}, "status": {"readyReplicas": None}},
    {"status": {"conditions": [None, 1, {"type": 3}, {"type": "Ready", "status": True}]}},
    {
        "status": {
            "observedGeneration": {},
            "loadBalancer": {"ingress": "x"},
            "containerStatuses": [1, {"state": 2}],
        }
    },
    {"spec": {"updateStrategy": "x", "replicas": float("nan")}, "status": {"replicas": 1e300}},
    [],
    "a string",
]


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("name", [n for n in r.__all__ if n != "rule_for"])
def test_rules_survive_garbage(name: str, garbage: Any) -> None:
    verdict = getattr(r, name)(garbage)
    assert isinstance(verdict, Readiness) and isinstance(verdict.message, str)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["True", "False", "Ready", "Available", "Healthy", "Degraded", "deployed", "1"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "status",
                    "spec",
                    "metadata",
                    "generation",
                    "observedGeneration",
                    "conditions",
                    "type",
                    "reason",
                    "phase",
                    "replicas",
                    "readyReplicas",
                    "loadBalancer",
                    "ingress",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_rules_never_raise_on_arbitrary_json(value: Any) -> None:
    for name in r.__all__:
        if name != "rule_for":
            assert isinstance(getattr(r, name)(value), Readiness)
