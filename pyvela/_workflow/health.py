"""Which rule judges an object's health: its component definition's own (KubeVela's
healthPolicy: ``Ready:2/2``, an endpoint...) for the component's workload, its trait
definition's for an object a trait added (a gateway's Ingress), else the kind's."""

from __future__ import annotations

from typing import Any

from pyvela._app.application import Application
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._backends.readiness import rule_for
from pyvela._core.definitions import ComponentUse
from pyvela._core.health import TraitObservation
from pyvela._core.objects import LABEL_RESOURCE, Obj, ObjectRef


def rule_of(app: Application | None, ref: ObjectRef, entry: dict[str, Any] | None) -> ReadinessRule:
    """The rule for ``ref``, applied by the inventory ``entry`` (component, trait) of ``app``."""
    component = (entry or {}).get("component")
    trait = (entry or {}).get("trait")
    if app is not None and component and trait:
        return _trait_rule(app, ref, entry or {}, component, trait)
    if app is not None and component and not trait:
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


def _trait_rule(
    app: Application, ref: ObjectRef, entry: dict[str, Any], component: str, trait: str
) -> ReadinessRule:
    by_kind = rule_for(ref.api_version, ref.kind)
    use = _component(app, component)
    found = [t for t in use.traits if t.definition.name == trait] if use is not None else []
    rule = found[0].definition.health if found else None
    if rule is None:
        return by_kind
    health = rule
    manifest = entry.get("manifest") or {}
    output = str(((manifest.get("metadata") or {}).get("labels") or {}).get(LABEL_RESOURCE) or "")

    def judge(obj: Obj | None) -> Readiness:
        # Two traits of one type (gateways of distinct names): the object is one of theirs.
        seen = (
            TraitObservation(output=output, live=obj, params=t.params, component=component, app=app.name)
            for t in found
        )
        verdicts = [v for v in map(health, seen) if v is not None]
        own = next((v for v in verdicts if v.ready), verdicts[0] if verdicts else None)
        if own is None:
            return by_kind(obj)
        if own.ready or own.failed:
            return own
        kind = by_kind(obj)  # as for a component's rule: the kind still fails fast
        return kind if kind.failed else own

    return judge
