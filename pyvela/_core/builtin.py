"""Definitions pyvela ships with: the step used when an app lists no workflow, and KubeVela's
resource policies (defined in ``policies_builtin``, ``policies_cluster`` and ``waivers``).

Every catalogue holds them, but most apps use none of the policies: the catalogue reads them
through :data:`INDEX` and imports a policy's module when the policy is first looked up
(``tests/app/test_builtin_index.py`` fails when the index and :data:`BUILTINS` differ).
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

import attrs

from pyvela._core.params import ComponentName
from pyvela._core.steps import step

if TYPE_CHECKING:
    from pyvela._core.actions import StepContext
    from pyvela._core.policies_builtin import (
        apply_once,
        garbage_collect,
        read_only,
        resource_update,
        shared_resource,
        take_over,
    )
    from pyvela._core.policies_cluster import override, replication, topology
    from pyvela._core.waivers import waive_checks

    BUILTINS: tuple[Any, ...]

__all__ = [
    "BUILTINS",
    "INDEX",
    "apply_component",
    "apply_once",
    "garbage_collect",
    "override",
    "read_only",
    "replication",
    "resource_update",
    "shared_resource",
    "take_over",
    "topology",
    "waive_checks",
]

#: (kind, name) -> (module, attribute) of each built-in definition.
INDEX: dict[tuple[str, str], tuple[str, str]] = {
    ("step", "apply-component"): ("pyvela._core.builtin", "apply_component"),
    ("policy", "garbage-collect"): ("pyvela._core.policies_builtin", "garbage_collect"),
    ("policy", "apply-once"): ("pyvela._core.policies_builtin", "apply_once"),
    ("policy", "resource-update"): ("pyvela._core.policies_builtin", "resource_update"),
    ("policy", "take-over"): ("pyvela._core.policies_builtin", "take_over"),
    ("policy", "read-only"): ("pyvela._core.policies_builtin", "read_only"),
    ("policy", "shared-resource"): ("pyvela._core.policies_builtin", "shared_resource"),
    ("policy", "topology"): ("pyvela._core.policies_cluster", "topology"),
    ("policy", "override"): ("pyvela._core.policies_cluster", "override"),
    ("policy", "replication"): ("pyvela._core.policies_cluster", "replication"),
    ("policy", "waive-checks"): ("pyvela._core.waivers", "waive_checks"),
}


#: A namespace as the API server accepts it (RFC 1123 label).
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


@attrs.frozen(kw_only=True)
class ApplyComponentParams:
    """Parameters of the built-in ``apply-component`` step.

    Attributes:
        component: The component to apply, with its traits.
        cluster: The cluster to apply it to, by name (``pyvela clusters``); empty or
            ``local``: the app's own cluster.
        namespace: The namespace to apply it in; empty: the app's namespace.
    """

    component: ComponentName
    cluster: str = ""
    namespace: str = ""

    def __attrs_post_init__(self) -> None:
        # A step output (a Ref) is checked when it is resolved, not here.
        if isinstance(self.cluster, str) and (self.cluster != self.cluster.strip() or "/" in self.cluster):
            raise ValueError(
                f"cluster {self.cluster!r} is not a cluster's name (`pyvela clusters` lists them)"
            )
        if isinstance(self.namespace, str) and self.namespace and not _NAMESPACE.fullmatch(self.namespace):
            raise ValueError(
                f"namespace {self.namespace!r} is not a namespace's name: at most 63 of a-z, 0-9 and '-', "
                "starting and ending with a letter or digit"
            )


@step(name="apply-component", params=ApplyComponentParams)
async def apply_component(p: ApplyComponentParams, ctx: StepContext) -> None:
    """Apply a component with its traits and wait until its workload is ready: on the app's
    cluster in its namespace, or on ``cluster`` in ``namespace`` when given.

    This is the step of every component when an app lists no workflow (DAG mode,
    ordered by the components' dependencies), as in KubeVela.
    """
    if p.cluster in ("", "local") and not p.namespace:
        applied = await ctx.apply_component(p.component)
        await ctx.wait_ready(applied)
        return
    from pyvela._core.placement import DeployComponents, Placement

    # One placement of the multi-cluster deploy: recorded, pruned and shown under its cluster.
    where = Placement(p.cluster or "local", p.namespace or None)
    # Not awaited: the request only says which parameters to render with (KubeVela's inputs
    # set some: the YAML loader's context fills them in), and the placement uses the same.
    request = ctx.apply_component(p.component)
    params = getattr(request, "action", request).params
    await DeployComponents(components=(p.component,), at=where, parallelism=1, params=params)


def builtin(key: tuple[str, str]) -> Any:
    """The built-in definition of ``key`` (KeyError: none), its module imported if need be."""
    module, attribute = INDEX[key]
    return getattr(importlib.import_module(module), attribute)


def __getattr__(name: str) -> Any:
    # PEP 562: the policies (and BUILTINS, which holds them) are imported on first use.
    if name == "BUILTINS":
        value: Any = tuple(builtin(key) for key in INDEX)
    else:
        found = [key for key, (_module, attribute) in INDEX.items() if attribute == name]
        if not found:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = builtin(found[0])
    globals()[name] = value
    return value
