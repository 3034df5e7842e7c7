"""pyvela: application delivery for Kubernetes with typed Python definitions.

Platform engineers write components, traits and workflow steps as decorated Python
functions; application developers write apps as Python modules; one runner resolves the
step graph and runs it against the embedded sandbox or a real cluster.

The public API is this module (``__all__``); everything in ``pyvela._*`` is private.
"""

from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from ._actions import (
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
        StepContext,
        Suspend,
        WaitReady,
    )
    from ._app import Application, Workflow
    from ._backend import Readiness
    from ._builtin import garbage_collect, read_only, shared_resource, take_over
    from ._catalogue import Catalogue
    from ._definitions import (
        ComponentContext,
        ComponentDefinition,
        ComponentUse,
        PolicyDefinition,
        PolicyUse,
        Rendered,
        StepDefinition,
        StepGroup,
        StepUse,
        TraitContext,
        TraitDefinition,
        TraitResult,
        TraitUse,
        WorkflowView,
        WorkloadType,
        component,
        policy,
        step,
        trait,
    )
    from ._loader import LoadedApp, load_app
    from ._merge import env_patch, find_container, merge, set_env, set_image
    from ._objects import HELM_API_VERSION, HELM_KIND, Obj, ObjectRef
    from ._params import ComponentName, Ref
    from ._template import yaml_template

_LAZY = {
    "garbage_collect": "._builtin",
    "read_only": "._builtin",
    "shared_resource": "._builtin",
    "take_over": "._builtin",
    "Action": "._actions",
    "Application": "._app",
    "AppliedComponent": "._actions",
    "ApplyComponent": "._actions",
    "ApplyObject": "._actions",
    "Catalogue": "._catalogue",
    "ComponentContext": "._definitions",
    "ComponentDefinition": "._definitions",
    "ComponentName": "._params",
    "ComponentUse": "._definitions",
    "DeleteObject": "._actions",
    "Fail": "._actions",
    "HELM_API_VERSION": "._objects",
    "HELM_KIND": "._objects",
    "HttpRequest": "._actions",
    "HttpResponse": "._actions",
    "ListObjects": "._actions",
    "LoadedApp": "._loader",
    "Log": "._actions",
    "Obj": "._objects",
    "ObjectRef": "._objects",
    "PolicyDefinition": "._definitions",
    "PolicyUse": "._definitions",
    "ReadConfig": "._actions",
    "ReadObject": "._actions",
    "Readiness": "._backend",
    "Ref": "._params",
    "RegisterConfig": "._actions",
    "Rendered": "._definitions",
    "StepContext": "._actions",
    "StepDefinition": "._definitions",
    "StepGroup": "._definitions",
    "StepUse": "._definitions",
    "Suspend": "._actions",
    "TraitContext": "._definitions",
    "TraitDefinition": "._definitions",
    "TraitResult": "._definitions",
    "TraitUse": "._definitions",
    "WaitReady": "._actions",
    "Workflow": "._app",
    "WorkflowView": "._definitions",
    "WorkloadType": "._definitions",
    "component": "._definitions",
    "env_patch": "._merge",
    "find_container": "._merge",
    "load_app": "._loader",
    "merge": "._merge",
    "policy": "._definitions",
    "set_env": "._merge",
    "set_image": "._merge",
    "step": "._definitions",
    "trait": "._definitions",
    "yaml_template": "._template",
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
    "Catalogue",
    "ComponentContext",
    "ComponentDefinition",
    "ComponentName",
    "ComponentUse",
    "DeleteObject",
    "Fail",
    "HttpRequest",
    "HttpResponse",
    "ListObjects",
    "LoadedApp",
    "Log",
    "Obj",
    "ObjectRef",
    "PolicyDefinition",
    "PolicyUse",
    "ReadConfig",
    "ReadObject",
    "Readiness",
    "Ref",
    "RegisterConfig",
    "Rendered",
    "StepContext",
    "StepDefinition",
    "StepGroup",
    "StepUse",
    "Suspend",
    "TraitContext",
    "TraitDefinition",
    "TraitResult",
    "TraitUse",
    "WaitReady",
    "Workflow",
    "WorkflowView",
    "WorkloadType",
    "__version__",
    "component",
    "env_patch",
    "errors",
    "find_container",
    "garbage_collect",
    "load_app",
    "merge",
    "policy",
    "read_only",
    "set_env",
    "set_image",
    "shared_resource",
    "step",
    "take_over",
    "trait",
    "yaml_template",
]
