"""Definitions for the diff tests (a catalogue module passed with --defs tests.cli.diff_defs)."""

from __future__ import annotations

import attrs

from pyvela import ComponentContext, Rendered, WorkloadType, component


@attrs.frozen(kw_only=True)
class SettingsParams:
    """A ConfigMap with a companion Secret.

    Attributes:
        value: the ConfigMap's value
        password: the Secret's value
    """

    value: str = "v1"
    password: str = "hunter2"


@component(name="settings", params=SettingsParams, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def settings(p: SettingsParams, ctx: ComponentContext) -> Rendered:
    """A ConfigMap, and a Secret next to it."""
    return Rendered(
        workload={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": ctx.name},
            "data": {"value": p.value},
        },
        outputs={
            "secret": {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"{ctx.name}-secret"},
                "stringData": {"password": p.password, "user": "admin"},
            }
        },
    )
