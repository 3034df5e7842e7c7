"""Definitions pyvela ships with: the step used when an app lists no workflow, and KubeVela's
resource policies (defined in ``policies_builtin``, ``policies_cluster`` and ``waivers``).

Every catalogue holds them, but most apps use none of the policies: the catalogue reads them
through :data:`INDEX` and imports a policy's module when the policy is first looked up
(``tests/app/test_builtin_index.py`` fails when the index and :data:`BUILTINS` differ).
"""

from __future__ import annotations

import importlib
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


@attrs.frozen(kw_only=True)
class ApplyComponentParams:
    """Parameters of the built-in ``apply-component`` step."""

    component: ComponentName


@step(name="apply-component", params=ApplyComponentParams)
async def apply_component(p: ApplyComponentParams, ctx: StepContext) -> None:
    """Apply a component with its traits and wait until its workload is ready.

    This is the step of every component when an app lists no workflow (DAG mode,
    ordered by the components' dependencies), as in KubeVela.
    """
    applied = await ctx.apply_component(p.component)
    await ctx.wait_ready(applied)


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
