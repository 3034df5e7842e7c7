"""KubeVela's built-in resource policies: garbage-collect, apply-once, resource-update,
take-over, read-only and shared-resource (KubeVela v1.10.1's
``vela-templates/definitions/internal/policy/*.cue``, enforced as its ``pkg/resourcekeeper``).

The definitions are data: the runner enforces them (``pyvela._workflow.policies``). Their
rules are checked against the app when it is validated (:func:`check_policies`): a
selector naming a component or a definition the app cannot have is an error at load.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

import attrs

from pyvela._core import fieldpaths
from pyvela._core.definitions import PolicyUse, policy
from pyvela._core.selectors import AUXILIARY, Checked, Facts, PolicyRule, RuleSelector, check_nested
from pyvela._core.waivers import check_waivers
from pyvela.errors import DanglingReferenceError, ParameterError

GcStrategy = Literal["onAppUpdate", "onAppDelete", "never"]
Propagation = Literal["orphan", "cascading"]
ApplyOnceAffect = Literal["onUpdate", "onStateKeep", "always"]
UpdateOp = Literal["patch", "replace"]


class _Params:
    """Top-level policy parameters: the nested rules are checked when the policy is built."""

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):  # type: ignore[arg-type]
            check_nested(getattr(self, field.name), field.name)


def _paths(paths: Sequence[str], path: str) -> None:
    for i, p in enumerate(paths):
        if p == "*":
            continue
        try:
            fieldpaths.parse(p)
        except ValueError as exc:
            raise ValueError(f"{path}[{i}]: {exc}") from None


# --------------------------------------------------------------------------- garbage-collect


@attrs.frozen(kw_only=True)
class GarbageCollectRule(Checked):
    """Which objects are collected when, and how (KubeVela's ``GarbageCollectPolicyRule``).

    Attributes:
        selector: The objects the rule covers.
        strategy: ``onAppUpdate``: deleted as soon as a revision no longer has them (the
            default); ``onAppDelete``: kept until the app is deleted; ``never``: never deleted
            (the app gives them up when it is deleted: its ownership labels are removed).
        propagation: How their dependents go when they are deleted: ``orphan`` leaves them
            (a Deployment's Pods keep running), ``cascading`` deletes them too; unset: as the
            runner deletes by default (dependents go).
    """

    selector: RuleSelector
    strategy: GcStrategy = "onAppUpdate"
    propagation: Propagation | None = None


@attrs.frozen(kw_only=True)
class GarbageCollectParams(_Params):
    """Parameters of the built-in ``garbage-collect`` policy.

    Attributes:
        application_revision_limit: How many earlier revisions the app's state record keeps
            (for rollback and history); unset: 10.
        keep_legacy_resource: Keep every object a new revision no longer has (nothing is
            pruned on update); they are deleted with the app.
        continue_on_failure: Prune after a failed run too (by default only a successful run
            prunes); objects the failed revision still renders are kept.
        order: ``dependency``: delete a component's objects only after the components that
            depend on it (``.after()``) are gone, i.e. in reverse dependency order.
        rules: Per-object strategies; the first rule whose selector matches an object decides.
        keep_registrations: Leave what the app registered in the config centre in place when
            the app is deleted (by default ``pyvela delete`` removes it and publishes).
    """

    application_revision_limit: int | None = None
    keep_legacy_resource: bool = False
    continue_on_failure: bool = False
    order: Literal["dependency"] | None = None
    rules: tuple[GarbageCollectRule, ...] = ()
    keep_registrations: bool = False

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.application_revision_limit is not None and self.application_revision_limit < 0:
            raise ValueError(
                f"application_revision_limit must be >= 0, got {self.application_revision_limit}"
            )

    def rule_for(self, facts: Facts) -> GarbageCollectRule | None:
        return next((r for r in self.rules if r.selector.matches(facts)), None)


@policy(name="garbage-collect", params=GarbageCollectParams)
def garbage_collect() -> None:
    """What happens to the objects a new revision no longer has, and to all of them when the
    app is deleted: pruned by default, kept with ``keep_legacy_resource`` or per rule."""


# --------------------------------------------------------------------------- apply-once


@attrs.frozen(kw_only=True)
class ApplyOnceStrategy(Checked):
    """Which fields of the selected objects are applied once and then left as they are.

    Attributes:
        path: Field paths (``spec.replicas``, ``spec.template.spec.containers[0].resources``,
            ``metadata.annotations[example.com/x]``) whose live value wins over the app's;
            ``*``: the whole object is created once and never updated.
        affect: When the strategy holds: ``onUpdate`` or ``always`` (unset: always) on every
            deploy; ``onStateKeep`` only during KubeVela's periodic re-apply, which pyvela does
            not have, so such a strategy changes nothing.
    """

    path: tuple[str, ...]
    affect: ApplyOnceAffect | None = None

    def validate(self, path: str) -> None:
        if not self.path:
            raise ValueError(f"{path}.path: give at least one field path (or '*')")
        _paths(self.path, f"{path}.path")

    @property
    def on_deploy(self) -> bool:
        return self.affect != "onStateKeep"


@attrs.frozen(kw_only=True)
class ApplyOnceRule(Checked):
    """A rule of the ``apply-once`` policy.

    Attributes:
        selector: The objects the rule covers.
        strategy: Which of their fields are left to drift.
    """

    selector: RuleSelector
    strategy: ApplyOnceStrategy


@attrs.frozen(kw_only=True)
class ApplyOnceParams(_Params):
    """Parameters of the built-in ``apply-once`` policy.

    Attributes:
        enable: Turn the policy on (off, it does nothing, as in KubeVela).
        rules: Per-object field paths left to drift; the first matching rule decides. No
            rules: every object is applied once and after that only when the app changes it
            (a deploy does not restore a field someone changed on an object the app renders
            as before).
    """

    enable: bool = False
    rules: tuple[ApplyOnceRule, ...] = ()

    def strategy_for(self, facts: Facts) -> ApplyOnceStrategy | None:
        if not self.enable:
            return None
        return next((r.strategy for r in self.rules if r.selector.matches(facts)), None)

    @property
    def whole_app(self) -> bool:
        return self.enable and not self.rules


@policy(name="apply-once", params=ApplyOnceParams)
def apply_once() -> None:
    """Let selected objects (or fields of them) drift: applied once, then left as they are."""


# --------------------------------------------------------------------------- resource-update


@attrs.frozen(kw_only=True)
class ResourceUpdateStrategy(Checked):
    """How the selected objects are updated.

    Attributes:
        op: ``patch`` (server-side apply: only the app's fields change, the default) or
            ``replace`` (the object is written whole: fields the app does not set are removed).
        recreate_fields: Field paths whose change makes the object be deleted and created
            again instead of updated (an immutable Secret's data, a Job's template).
    """

    op: UpdateOp = "patch"
    recreate_fields: tuple[str, ...] = ()

    def validate(self, path: str) -> None:
        _paths(self.recreate_fields, f"{path}.recreate_fields")
        if "*" in self.recreate_fields:
            raise ValueError(f"{path}.recreate_fields: '*' is not a field path")


@attrs.frozen(kw_only=True)
class ResourceUpdateRule(Checked):
    """A rule of the ``resource-update`` policy.

    Attributes:
        selector: The objects the rule covers.
        strategy: How they are updated.
    """

    selector: RuleSelector
    strategy: ResourceUpdateStrategy = ResourceUpdateStrategy()


@attrs.frozen(kw_only=True)
class ResourceUpdateParams(_Params):
    """Parameters of the built-in ``resource-update`` policy.

    Attributes:
        rules: Per-object update strategies; the first matching rule decides.
    """

    rules: tuple[ResourceUpdateRule, ...] = ()

    def strategy_for(self, facts: Facts) -> ResourceUpdateStrategy | None:
        return next((r.strategy for r in self.rules if r.selector.matches(facts)), None)


@policy(name="resource-update", params=ResourceUpdateParams)
def resource_update() -> None:
    """Update selected objects by replacing them, or recreate them when given fields change."""


# --------------------------------------------------------------------------- take-over, read-only, shared


@attrs.frozen(kw_only=True)
class SelectorParams(_Params):
    """Parameters of a policy that only selects objects.

    Attributes:
        rules: The objects the policy covers: those any rule's selector matches.
    """

    rules: tuple[PolicyRule, ...] = ()

    def covers(self, facts: Facts) -> bool:
        return any(r.selector.matches(facts) for r in self.rules)


# The three policies' parameters are SelectorParams with their own docs: plain subclasses, as
# they add no field (attrs would generate and compile the same methods again at every start).


class TakeOverParams(SelectorParams):
    """Parameters of the built-in ``take-over`` policy.

    Attributes:
        rules: The objects this app may adopt when they exist and belong to no app.
    """


@policy(name="take-over", params=TakeOverParams)
def take_over() -> None:
    """Adopt selected objects that exist and belong to no app (never silent without this
    policy; an object of another app is never taken)."""


class ReadOnlyParams(SelectorParams):
    """Parameters of the built-in ``read-only`` policy.

    Attributes:
        rules: The objects this app only reads: never written nor deleted; they must exist.
    """


@policy(name="read-only", params=ReadOnlyParams)
def read_only() -> None:
    """Never write the selected objects: they must exist already, and steps see them live."""


class SharedResourceParams(SelectorParams):
    """Parameters of the built-in ``shared-resource`` policy.

    Attributes:
        rules: The objects shared with other apps: the first app writes them, later ones only
            join (annotation ``app.oam.dev/shared-by``); the last to leave deletes them.
    """


@policy(name="shared-resource", params=SharedResourceParams)
def shared_resource() -> None:
    """Share the selected objects with other apps: the first owner writes them, and deleting
    an app only gives up its share until the last sharer goes."""


POLICIES = (garbage_collect, apply_once, resource_update, take_over, read_only, shared_resource)
#: Policies of which an app may hold one only: KubeVela reads the first and ignores the rest.
_SINGLE = ("garbage-collect", "apply-once", "resource-update")


# --------------------------------------------------------------------------- load-time checks


def _selectors(params: Any) -> list[tuple[str, RuleSelector]]:
    rules = getattr(params, "rules", ())
    return [(f"rules[{i}].selector", r.selector) for i, r in enumerate(rules)]


def check_policies(
    policies: Sequence[PolicyUse[Any]],
    *,
    components: Collection[str],
    names: Callable[[str], Collection[str]],
) -> None:
    """Check the built-in policies' rules against the app and its catalogue (``names(kind)``:
    the catalogue's definitions of a kind, ``component`` or ``trait``).

    Raises:
        DanglingReferenceError: a selector names a component the app does not have.
        ParameterError: two policies of a single-use type, a selector that selects nothing,
            or one naming a component or trait definition the catalogue does not hold.
    """
    check_waivers(policies, components=components)
    seen: dict[str, PolicyUse[Any]] = {}
    component_types, trait_types = names("component"), names("trait")
    builtin = {p.name: p for p in POLICIES}
    for use in policies:
        name = use.definition.name
        if builtin.get(name) is not use.definition:
            continue
        if name in _SINGLE and name in seen:
            raise ParameterError(
                f"the app has two {name} policies ({seen[name].name!r} and {use.name!r})",
                where=use.where,
                definition=name,
                expected=f"one {name} policy",
                got=f"the first at {seen[name].where}",
                fix="merge their rules into one policy (KubeVela would silently use only the first)",
            )
        seen.setdefault(name, use)
        for path, selector in _selectors(use.params):
            context: dict[str, Any] = {"where": use.where, "definition": name, "parameter": path}
            if selector.empty:
                raise ParameterError(
                    f"policy {use.name!r}: {path} selects nothing",
                    expected="at least one of component_names, component_types, oam_types, "
                    "trait_types, resource_types, resource_names",
                    got="RuleSelector()",
                    fix="say which objects the rule covers, e.g. RuleSelector(resource_types=('ConfigMap',))",
                    **context,
                )
            _known(use, path, "component_names", selector.component_names, components, context)
            _known(use, path, "component_types", selector.component_types, component_types, context)
            _known(use, path, "trait_types", selector.trait_types, {*trait_types, AUXILIARY}, context)


def _known(
    use: PolicyUse[Any],
    path: str,
    field: str,
    values: Sequence[str],
    known: Collection[str],
    context: Mapping[str, Any],
) -> None:
    for value in values:
        if value in known:
            continue
        what = {"component_names": "component", "component_types": "component definition"}.get(
            field, "trait definition"
        )
        cls = DanglingReferenceError if field == "component_names" else ParameterError
        raise cls(
            f"policy {use.name!r}: {path}.{field} names {what} {value!r}, which "
            + ("the app does not have" if field == "component_names" else "the catalogue does not hold"),
            expected="one of " + (", ".join(sorted(known)) or "none"),
            got=repr(value),
            fix="fix the name, or remove it from the selector",
            **{**context, "parameter": f"{path}.{field}"},
        )
