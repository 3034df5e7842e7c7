# pyright: strict
# Workflows, groups, conditions and policies as an app developer writes them. Lines ending in
# "# E: <words>" must be reported by both mypy --strict and pyright; every other line must be clean.
from typing import Any

from platform_defs import apply_base, apply_helm, apply_proxy, base_service, helm
from pyvela import (
    Application,
    GarbageCollectRule,
    PolicyRule,
    PolicyUse,
    RuleSelector,
    StepGroup,
    StepUse,
    Workflow,
    WorkflowView,
    garbage_collect,
    read_only,
    shared_resource,
    take_over,
)

base = base_service("base-service", image="nginx:1.14.2", cluster="default")
cache = (
    helm("redis", chart="redis-cluster", version="1.0.0", repo_url="https://charts.example")
    .after(base)
    .after("base")
)
first = apply_base("apply-base-service", component="base-service")
helm_step = apply_helm("apply-redis", component="redis").after(first).with_timeout(120).with_retries(2)
later = apply_proxy("proxy", component="proxy", backend_ip=first.outputs.cluster_ip).after("apply-redis")
steps: list[StepUse[Any, Any] | StepGroup] = [first, helm_step, later]
chosen: tuple[StepUse[Any, Any], ...] = (first, later)


def only_when_ready(view: WorkflowView) -> bool:
    return view.succeeded("apply-base-service")


listed = Workflow(steps=[first, helm_step, later])
as_tuple = Workflow(steps=(first, helm_step), mode="DAG", step_timeout=300)
from_variable = Workflow(steps=steps, mode="StepByStep")
from_tuple_variable = Workflow(steps=chosen)
group = StepGroup(name="both", steps=[helm_step, later], mode="StepByStep").after(first)
grouped = Workflow(steps=[first, group])
always = later.when("always")
predicate = later.when(only_when_ready)
lam = later.when(lambda view: view.phase("apply-redis") == "succeeded")
policies: list[PolicyUse[Any]] = [
    take_over("adopt", rules=(PolicyRule(selector=RuleSelector(resource_types=("ConfigMap",))),)),
    read_only("ro", rules=(PolicyRule(selector=RuleSelector(resource_names=("shared",))),)),
    garbage_collect(
        "gc",
        order="dependency",
        rules=(GarbageCollectRule(selector=RuleSelector(oam_types=("TRAIT",)), strategy="never"),),
    ),
]
inline = Application("typed", components=[base], policies=[shared_resource("s"), take_over("t")])
app = Application("typed", components=[base, cache], workflow=listed, policies=policies, namespace="ns")
plain = Application("typed", components=(base,), workflow=[first, group])
dag_default = Application("typed", components=[base, cache])

bad_mode = Workflow(steps=[first], mode="Parallel")  # E: mode
bad_group_mode = StepGroup(name="g", steps=[first], mode="Sideways")  # E: mode
bad_step = Workflow(steps=[base])  # E: steps
bad_when = later.when(3)  # E: when
bad_timeout = later.with_timeout("soon")  # E: with_timeout
bad_components = Application("x", components=[first])  # E: components
bad_policy = take_over("adopt", rules=PolicyRule(selector=RuleSelector()))  # E: rules
bad_strategy = GarbageCollectRule(selector=RuleSelector(), strategy="sometimes")  # E: strategy
