"""pyvela: application delivery for Kubernetes with typed Python definitions.

Platform engineers write components, traits and workflow steps as decorated Python
functions; application developers write apps as Python modules; one runner resolves the
step graph and runs it against the embedded sandbox or a real cluster.

The public API is this module (``__all__``); everything in ``pyvela._*`` is private.
"""

from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from pyvela._app.application import Application, Workflow
    from pyvela._app.catalogue import Catalogue
    from pyvela._app.kubevela.pystep import kubevela_step
    from pyvela._app.loader import LoadedApp, load_app
    from pyvela._core.actions import (
        Action,
        AppliedComponent,
        ApplyComponent,
        ApplyObject,
        DeleteObject,
        Fail,
        HttpRequest,
        HttpResponse,
        ListObjects,
        Log,
        ReadConfig,
        ReadObject,
        RegisterConfig,
        SendMail,
        StepContext,
        Suspend,
        WaitReady,
    )
    from pyvela._core.builtin import (
        apply_component,
        apply_once,
        garbage_collect,
        override,
        read_only,
        replication,
        resource_update,
        shared_resource,
        take_over,
        topology,
    )
    from pyvela._core.definitions import (
        ComponentContext,
        ComponentDefinition,
        ComponentUse,
        PolicyDefinition,
        PolicyUse,
        Rendered,
        TraitContext,
        TraitDefinition,
        TraitResult,
        TraitUse,
        WorkloadType,
        component,
        policy,
        trait,
    )
    from pyvela._core.durations import parse_duration
    from pyvela._core.guardrails import CheckDefinition, CheckedApp, CheckedObject, Finding, Severity, check
    from pyvela._core.health import Readiness, TraitObservation
    from pyvela._core.merge import env_patch, find_container, merge, set_env, set_image
    from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj, ObjectRef
    from pyvela._core.params import ComponentName, Ref
    from pyvela._core.placement import ApplyObjectTo, DeployComponents, ReadObjectFrom
    from pyvela._core.policies_builtin import (
        ApplyOnceRule,
        ApplyOnceStrategy,
        GarbageCollectRule,
        ResourceUpdateRule,
        ResourceUpdateStrategy,
    )
    from pyvela._core.policies_cluster import ComponentPatch, TraitPatch
    from pyvela._core.reads import ClusterReads, cluster_reads
    from pyvela._core.secret import Secret
    from pyvela._core.selectors import PolicyRule, RuleSelector
    from pyvela._core.steps import StepDefinition, StepGroup, StepUse, WorkflowView, step
    from pyvela._core.template import yaml_template
    from pyvela._core.waivers import WaiveChecksParams, Waiver, waive_checks

_LAZY = {
    "ComponentPatch": "._core.policies_cluster",
    "TraitPatch": "._core.policies_cluster",
    "DeployComponents": "._core.placement",
    "ApplyObjectTo": "._core.placement",
    "ReadObjectFrom": "._core.placement",
    "override": "._core.builtin",
    "replication": "._core.builtin",
    "topology": "._core.builtin",
    "CheckDefinition": "._core.guardrails",
    "CheckedApp": "._core.guardrails",
    "CheckedObject": "._core.guardrails",
    "Finding": "._core.guardrails",
    "Severity": "._core.guardrails",
    "check": "._core.guardrails",
    "WaiveChecksParams": "._core.waivers",
    "Waiver": "._core.waivers",
    "waive_checks": "._core.waivers",
    "apply_once": "._core.builtin",
    "resource_update": "._core.builtin",
    "ApplyOnceRule": "._core.policies_builtin",
    "ApplyOnceStrategy": "._core.policies_builtin",
    "GarbageCollectRule": "._core.policies_builtin",
    "ResourceUpdateRule": "._core.policies_builtin",
    "ResourceUpdateStrategy": "._core.policies_builtin",
    "PolicyRule": "._core.selectors",
    "RuleSelector": "._core.selectors",
    "apply_component": "._core.builtin",
    "garbage_collect": "._core.builtin",
    "read_only": "._core.builtin",
    "shared_resource": "._core.builtin",
    "take_over": "._core.builtin",
    "Action": "._core.actions",
    "Application": "._app.application",
    "AppliedComponent": "._core.actions",
    "ApplyComponent": "._core.actions",
    "ApplyObject": "._core.actions",
    "Catalogue": "._app.catalogue",
    "ClusterReads": "._core.reads",
    "cluster_reads": "._core.reads",
    "ComponentContext": "._core.definitions",
    "ComponentDefinition": "._core.definitions",
    "ComponentName": "._core.params",
    "ComponentUse": "._core.definitions",
    "DeleteObject": "._core.actions",
    "Fail": "._core.actions",
    "HELM_API_VERSION": "._core.objects",
    "HELM_KIND": "._core.objects",
    "HttpRequest": "._core.actions",
    "HttpResponse": "._core.actions",
    "ListObjects": "._core.actions",
    "LoadedApp": "._app.loader",
    "Log": "._core.actions",
    "Obj": "._core.objects",
    "parse_duration": "._core.durations",
    "ObjectRef": "._core.objects",
    "PolicyDefinition": "._core.definitions",
    "PolicyUse": "._core.definitions",
    "ReadConfig": "._core.actions",
    "ReadObject": "._core.actions",
    "Readiness": "._core.health",
    "Ref": "._core.params",
    "RegisterConfig": "._core.actions",
    "Rendered": "._core.definitions",
    "Secret": "._core.secret",
    "SendMail": "._core.actions",
    "StepContext": "._core.actions",
    "StepDefinition": "._core.steps",
    "StepGroup": "._core.steps",
    "StepUse": "._core.steps",
    "Suspend": "._core.actions",
    "TraitContext": "._core.definitions",
    "TraitDefinition": "._core.definitions",
    "TraitObservation": "._core.health",
    "TraitResult": "._core.definitions",
    "TraitUse": "._core.definitions",
    "WaitReady": "._core.actions",
    "Workflow": "._app.application",
    "WorkflowView": "._core.steps",
    "WorkloadType": "._core.definitions",
    "component": "._core.definitions",
    "env_patch": "._core.merge",
    "find_container": "._core.merge",
    "kubevela_step": "._app.kubevela.pystep",
    "load_app": "._app.loader",
    "merge": "._core.merge",
    "policy": "._core.definitions",
    "set_env": "._core.merge",
    "set_image": "._core.merge",
    "step": "._core.steps",
    "trait": "._core.definitions",
    "yaml_template": "._core.template",
}


def __getattr__(name: str) -> Any:
    # Lazy façade (PEP 562): the CLI's --help must not pay for attrs/typeguard/jinja2.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pyvela' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "HELM_API_VERSION",
    "HELM_KIND",
    "Action",
    "Application",
    "AppliedComponent",
    "ApplyComponent",
    "ApplyObject",
    "ApplyObjectTo",
    "ApplyOnceRule",
    "ApplyOnceStrategy",
    "Catalogue",
    "CheckDefinition",
    "CheckedApp",
    "CheckedObject",
    "ClusterReads",
    "ComponentContext",
    "ComponentDefinition",
    "ComponentName",
    "ComponentPatch",
    "ComponentUse",
    "DeleteObject",
    "DeployComponents",
    "Fail",
    "Finding",
    "GarbageCollectRule",
    "HttpRequest",
    "HttpResponse",
    "ListObjects",
    "LoadedApp",
    "Log",
    "Obj",
    "ObjectRef",
    "PolicyDefinition",
    "PolicyRule",
    "PolicyUse",
    "ReadConfig",
    "ReadObject",
    "ReadObjectFrom",
    "Readiness",
    "Ref",
    "RegisterConfig",
    "Rendered",
    "ResourceUpdateRule",
    "ResourceUpdateStrategy",
    "RuleSelector",
    "Secret",
    "SendMail",
    "Severity",
    "StepContext",
    "StepDefinition",
    "StepGroup",
    "StepUse",
    "Suspend",
    "TraitContext",
    "TraitDefinition",
    "TraitObservation",
    "TraitPatch",
    "TraitResult",
    "TraitUse",
    "WaitReady",
    "WaiveChecksParams",
    "Waiver",
    "Workflow",
    "WorkflowView",
    "WorkloadType",
    "__version__",
    "apply_component",
    "apply_once",
    "check",
    "cluster_reads",
    "component",
    "env_patch",
    "errors",
    "find_container",
    "garbage_collect",
    "kubevela_step",
    "load_app",
    "merge",
    "override",
    "parse_duration",
    "policy",
    "read_only",
    "replication",
    "resource_update",
    "set_env",
    "set_image",
    "shared_resource",
    "step",
    "take_over",
    "topology",
    "trait",
    "waive_checks",
    "yaml_template",
]
