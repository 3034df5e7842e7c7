"""KubeVela's health policies and status messages of the standard definitions."""

from __future__ import annotations

from typing import Any

import pytest

from pyvela.stdlib import gateway
from pyvela.stdlib.health import (
    COMPONENT_STATUS,
    TRAIT_STATUS,
    Status,
    StatusContext,
    daemon_status,
    expose_status,
    gateway_status,
    pure_ingress_status,
    readiness,
    task_status,
    webservice_status,
    worker_status,
)


def deployment(
    desired: int = 2, generation: int = 3, annotations: dict[str, str] | None = None, **status: int
) -> Any:
    meta: dict[str, Any] = {"name": "d", "generation": generation}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"kind": "Deployment", "metadata": meta, "spec": {"replicas": desired}, "status": status}


def test_webservice_is_healthy_when_every_replica_is_ready_updated_and_observed() -> None:
    live = deployment(readyReplicas=2, updatedReplicas=2, replicas=2, observedGeneration=3)
    assert webservice_status(StatusContext(output=live)) == Status(True, "Ready:2/2")


@pytest.mark.parametrize(
    "status",
    [
        {"readyReplicas": 1, "updatedReplicas": 2, "replicas": 2, "observedGeneration": 3},
        {"readyReplicas": 2, "updatedReplicas": 1, "replicas": 2, "observedGeneration": 3},
        {
            "readyReplicas": 2,
            "updatedReplicas": 2,
            "replicas": 3,
            "observedGeneration": 3,
        },  # old pods terminating
        {"readyReplicas": 2, "updatedReplicas": 2, "replicas": 2, "observedGeneration": 2},  # not seen yet
        {},  # a fresh object: Kubernetes omits zero counters
    ],
)
def test_webservice_is_unhealthy_otherwise(status: dict[str, int]) -> None:
    verdict = webservice_status(StatusContext(output=deployment(**status)))
    assert not verdict.healthy
    assert verdict.message == f"Ready:{status.get('readyReplicas', 0)}/2"


def test_the_disable_health_check_annotation_makes_a_webservice_healthy_but_not_a_worker() -> None:
    live = deployment(annotations={"app.oam.dev/disable-health-check": "true"})
    assert webservice_status(StatusContext(output=live)).healthy
    assert not worker_status(StatusContext(output=live)).healthy


def test_a_newer_observed_generation_counts_and_zero_replicas_are_healthy() -> None:
    live = deployment(desired=0, generation=1, observedGeneration=2)
    assert worker_status(StatusContext(output=live)) == Status(True, "Ready:0/0")


def test_daemon() -> None:
    counts = {
        "desiredNumberScheduled": 3,
        "numberReady": 3,
        "updatedNumberScheduled": 3,
        "currentNumberScheduled": 3,
    }
    live = {"metadata": {"generation": 1}, "status": {**counts, "observedGeneration": 1}}
    assert daemon_status(StatusContext(output=live)) == Status(True, "Ready:3/3")
    live["status"]["numberReady"] = 2
    assert daemon_status(StatusContext(output=live)) == Status(False, "Ready:2/3")
    live["status"] = {**counts, "updatedNumberScheduled": 1, "observedGeneration": 1}
    assert not daemon_status(StatusContext(output=live)).healthy


def test_task_is_healthy_when_as_many_pods_succeeded_as_run_in_parallel() -> None:
    live = {"spec": {"parallelism": 2}, "status": {"active": 1, "succeeded": 1}}
    assert task_status(StatusContext(output=live)) == Status(False, "Active/Failed/Succeeded:1/0/1")
    live["status"] = {"succeeded": 2, "failed": 1}
    assert task_status(StatusContext(output=live)) == Status(True, "Active/Failed/Succeeded:0/1/2")


def test_cron_task_and_unruled_traits_are_healthy_once_applied() -> None:
    assert COMPONENT_STATUS["cron-task"](StatusContext(output={})) == Status(True, "")
    assert set(COMPONENT_STATUS) == {"webservice", "statefulset", "worker", "daemon", "task", "cron-task"}
    assert set(TRAIT_STATUS) == {"gateway", "expose", "pure-ingress"}


def _ingress(name: str, host: str | None = None, lb: list[dict[str, str]] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"http": {}}
    if host:
        rule["host"] = host
    obj: dict[str, Any] = {"kind": "Ingress", "metadata": {"name": name}, "spec": {"rules": [rule]}}
    if lb is not None:
        obj["status"] = {"loadBalancer": {"ingress": lb}}
    return obj


def test_gateway_is_healthy_once_its_ingress_exists_and_says_where_to_visit() -> None:
    params = gateway(http={"/": 80}).params
    ctx = StatusContext(name="web", app_name="shop", parameter=params, outputs={})
    assert gateway_status(ctx) == Status(
        False, "No loadBalancer found, visiting by using 'vela port-forward shop'\n"
    )
    outputs = {"ingress": _ingress("web", host="shop.example.com")}
    ctx = StatusContext(name="web", app_name="shop", parameter=params, outputs=outputs)
    assert gateway_status(ctx) == Status(True, "Visiting URL: shop.example.com\n")
    outputs = {"ingress": _ingress("web", host="shop.example.com", lb=[{"ip": "203.0.113.7"}])}
    ctx = StatusContext(name="web", app_name="shop", parameter=params, outputs=outputs)
    assert gateway_status(ctx) == Status(True, "Visiting URL: shop.example.com, IP: 203.0.113.7\n")


def test_a_named_gateway_looks_for_its_own_ingress() -> None:
    params = gateway(http={"/": 80}, name="admin").params
    outputs = {"ingress": _ingress("web"), "ingress-admin": _ingress("web-admin", lb=[{"ip": "10.0.0.1"}])}
    verdict = gateway_status(StatusContext(name="web", parameter=params, outputs=outputs))
    want = "Host not specified, visit the cluster or load balancer in front of the cluster, IP: 10.0.0.1\n"
    assert verdict == Status(True, want)


def _service(kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "Service", "spec": {"type": kind, "clusterIP": "10.96.0.5"}, **extra}


def test_expose() -> None:
    def status(service: dict[str, Any]) -> Status:
        return expose_status(StatusContext(outputs={"service": service}))

    assert status(_service("ClusterIP")) == Status(True, "ClusterIP: 10.96.0.5")
    assert status(_service("LoadBalancer")) == Status(False, "ExternalIP: Pending")
    lb = {"status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.2"}]}}}
    assert status(_service("LoadBalancer", **lb)) == Status(True, "ExternalIP: 198.51.100.2")
    aws = {"status": {"loadBalancer": {"ingress": [{"hostname": "a1.elb.example.com"}]}}}
    assert status(_service("LoadBalancer", **aws)) == Status(True, "ExternalIP: a1.elb.example.com")
    assert status(_service("NodePort")) == Status(True, "")


def test_pure_ingress() -> None:
    def status(ingress: dict[str, Any]) -> Status:
        return pure_ingress_status(StatusContext(app_name="docs", outputs={"ingress": ingress}))

    hint = "No loadBalancer found, visiting by using 'vela port-forward docs --route'\n"
    assert status(_ingress("docs", host="docs.example.com")) == Status(True, hint)
    assert status(_ingress("docs", host="docs.example.com", lb=[])) == Status(True, "")
    lb = [{"ip": "192.0.2.1"}]
    assert status(_ingress("docs", host="docs.example.com", lb=lb)) == Status(
        True, "Visiting URL: docs.example.com, IP: 192.0.2.1"
    )
    assert (
        status(_ingress("docs", host="d.example.com", lb=[{"hostname": "x"}])).message
        == "Visiting URL: d.example.com"
    )


def test_readiness_adapts_a_rule_for_wait_ready() -> None:
    rule = readiness(COMPONENT_STATUS["webservice"])
    assert not rule(None).ready and rule(None).message == "not found yet"
    verdict = rule(deployment(readyReplicas=2, updatedReplicas=2, replicas=2, observedGeneration=3))
    assert (verdict.ready, verdict.message, verdict.failed) == (True, "Ready:2/2", False)


@pytest.mark.parametrize("rule", [*COMPONENT_STATUS.values(), *TRAIT_STATUS.values()])
@pytest.mark.parametrize(
    "garbage", [{}, {"status": "x", "spec": []}, {"metadata": None, "status": {"replicas": "2"}}]
)
def test_rules_never_raise_on_odd_shapes(rule: Any, garbage: dict[str, Any]) -> None:
    assert isinstance(
        rule(StatusContext(output=garbage, outputs={"service": garbage, "ingress": garbage})), Status
    )


def test_a_statefulset_is_judged_as_a_webservice_and_honours_the_opt_out() -> None:
    """statefulset.cue (KubeVela's main branch) has webservice's healthPolicy and customStatus."""
    from pyvela.stdlib import statefulset

    rule = statefulset.health
    assert rule is not None and COMPONENT_STATUS["statefulset"] is webservice_status
    live = deployment(readyReplicas=1, updatedReplicas=2, replicas=2, observedGeneration=3)
    live["kind"] = "StatefulSet"
    assert (rule(live, statefulset("s", image="i").params).ready, rule(live, None).message) == (
        False,
        "Ready:1/2",
    )
    live["metadata"]["annotations"] = {"app.oam.dev/disable-health-check": "true"}
    assert rule(live, None).ready


def test_a_statefulset_waits_for_its_replicas_on_the_sandbox(write_app: Any, tmp_path: Any) -> None:
    from tests.runner_helpers import ops_for, sandbox

    app = write_app(
        """
        from pyvela import Application
        from pyvela.stdlib import scaler, statefulset

        db = statefulset("db", image="postgres:16").with_traits(scaler(replicas=2))
        app = Application("sts", components=[db])
        """
    )
    ops = ops_for(app, sandbox(tmp_path / "sb"))
    assert ops.deploy().ok
    [sts] = [o for o in ops.status()["objects"] if o["object"]["kind"] == "StatefulSet"]
    assert sts["ready"] and sts["message"] == "Ready:2/2"
