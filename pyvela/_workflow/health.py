"""Which rule judges an object's health: its component definition's own (KubeVela's
healthPolicy: ``Ready:2/2``, an endpoint...) for the component's workload, else the kind's."""

from __future__ import annotations

from typing import Any

from pyvela._app.application import Application
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._backends.readiness import rule_for
from pyvela._core.definitions import ComponentUse
from pyvela._core.objects import Obj, ObjectRef


def rule_of(app: Application | None, ref: ObjectRef, entry: dict[str, Any] | None) -> ReadinessRule:
    """The rule for ``ref``, applied by the inventory ``entry`` (component, trait) of ``app``."""
    component = (entry or {}).get("component")
    if app is not None and component and not (entry or {}).get("trait"):
        use = _component(app, component)
        if use is not None:
            definition = use.definition
            workload = definition.workload
            # Of a workload of any kind, which object is the workload is not recorded: kind rules.
            if (
                definition.health is not None
                and not workload.any
                and workload.accepts(ref.api_version, ref.kind)
            ):
                health, params = definition.health, use.params
                by_kind = rule_for(ref.api_version, ref.kind)

                def judge(obj: Obj | None) -> Readiness:
                    own = health(obj, params)
                    if own.ready or own.failed:
                        return own
                    # The kind's rule still knows when waiting cannot help (a progress
                    # deadline exceeded, a failed Job): fail fast as without a health rule.
                    kind = by_kind(obj)
                    return kind if kind.failed else own

                return judge
    return rule_for(ref.api_version, ref.kind)


def _component(app: Application, name: str) -> ComponentUse[Any] | None:
    try:
        return app.component(name)
    except KeyError:  # a component the app no longer has (an older revision's object)
        return None
