"""The seed's steps driven with canned action results (pyvela.testing): no cluster, no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from platform_defs import ServiceParams, apply_base, apply_helm, apply_proxy
from pyvela import (
    AppliedComponent,
    ApplyComponent,
    Fail,
    ReadConfig,
    RegisterConfig,
    StepContext,
    WaitReady,
    step,
)
from pyvela.testing import run_step

COMPONENTS = {
    "base-service": ServiceParams(image="nginx", cluster="default"),
    "proxy-service": ServiceParams(image="nginx", cluster="default"),
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "base-service", "namespace": "default"},
    "spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 11001}]},
}
INGRESS = {"spec": {"rules": [{"host": "base-service.dev.example.com"}]}}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "base-service", "namespace": "default"},
}


def applied(name: str, workload: dict[str, Any], **outputs: dict[str, Any]) -> AppliedComponent:
    return AppliedComponent(component=name, workload=workload, outputs=outputs)


def test_apply_base_applies_waits_registers_and_exports_the_cluster_ip() -> None:
    trace = run_step(
        apply_base("apply-base-service", component="base-service"),
        results={
            ApplyComponent: applied("base-service", DEPLOYMENT, service=SERVICE, ingress=INGRESS),
            WaitReady: DEPLOYMENT,
            RegisterConfig: {"release_key": "k1", "changed": True, "items": {}},
        },
        components=COMPONENTS,
    )
    assert trace.error is None
    assert [type(a) for a in trace.actions] == [ApplyComponent, WaitReady, RegisterConfig]
    assert trace.actions[1].ref.kind == "Deployment"  # waits for the workload before registering
    register = trace.actions[2]
    assert register.cluster == "default"
    assert register.items["base-service.clusterIP"] == "10.96.0.7"
    assert register.items["base-service.host"] == "base-service.dev.example.com"
    assert register.items["base-service.ports"] == "11001"
    assert trace.outputs.cluster_ip == "10.96.0.7"


def test_apply_base_fails_on_a_headless_service() -> None:
    headless = {**SERVICE, "spec": {"clusterIP": "None", "ports": []}}
    trace = run_step(
        apply_base("s", component="base-service"),
        results={
            ApplyComponent: applied("base-service", DEPLOYMENT, service=headless),
            WaitReady: {},
            RegisterConfig: {},
        },
        components=COMPONENTS,
    )
    assert trace.error is not None and "has no ClusterIP" in str(trace.error)
    assert isinstance(trace.actions[-1], Fail)


def test_apply_helm_waits_for_the_release() -> None:
    release = {"apiVersion": "pyvela.dev/v1alpha1", "kind": "HelmRelease", "metadata": {"name": "redis"}}
    trace = run_step(
        apply_helm("r", component="redis"),
        results={ApplyComponent: applied("redis", release), WaitReady: release},
    )
    assert trace.error is None and trace.actions[1].ref.kind == "HelmRelease"


def test_apply_proxy_reads_the_registration_and_patches_env_by_name() -> None:
    trace = run_step(
        apply_proxy("p", component="proxy-service", backend_ip="10.96.0.7"),
        results={
            ReadConfig: {
                "base-service.clusterIP": "10.96.0.7",
                "base-service.host": "b.example.com",
                "base-service.ports": "11001",
            },
            ApplyComponent: applied(
                "proxy-service",
                {
                    "kind": "Rollout",
                    "apiVersion": "argoproj.io/v1alpha1",
                    "metadata": {"name": "proxy-service"},
                },
            ),
            WaitReady: {},
        },
        components=COMPONENTS,
    )
    assert trace.error is None
    patch = trace.actions[1].workload_patch
    container = patch["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "proxy-service"
    assert {"name": "BackendIP", "value": "10.96.0.7"} in container["env"]
    assert {"name": "BACKEND_HOST", "value": "b.example.com"} in container["env"]
    assert trace.outputs.backend_ip == "10.96.0.7"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "is not registered in the config centre"),
        ({"base-service.clusterIP": "10.96.9.9"}, "the config centre has 'base-service' at 10.96.9.9"),
    ],
)
def test_apply_proxy_refuses_a_missing_or_stale_registration(config: dict[str, str], message: str) -> None:
    trace = run_step(
        apply_proxy("p", component="proxy-service", backend_ip="10.96.0.7"),
        results={ReadConfig: config, ApplyComponent: None, WaitReady: None},
        components=COMPONENTS,
    )
    assert trace.error is not None and message in str(trace.error)
    assert not trace.of(ApplyComponent)  # nothing applied with a wrong backend


def test_a_step_that_awaits_something_else_gets_a_clear_error() -> None:
    import asyncio

    import attrs

    @attrs.frozen(kw_only=True)
    class P:
        pass

    @step(name="sleepy", params=P)
    async def sleepy(p: P, ctx: StepContext) -> None:
        await asyncio.sleep(0)

    trace = run_step(sleepy("s"), results={})
    assert trace.error is not None and "not a pyvela action" in str(trace.error)
