"""Which objects a policy rule covers: KubeVela's resource selector, in Python.

A rule's selector names up to six kinds of criteria (component names and types, OAM
types, trait types, resource kinds and names). An object matches when every criterion
given holds and at least one is given: an empty selector matches nothing, as in KubeVela.

The selector is part of a policy's parameters, so it lives with the definitions; what an
object *is* (its :class:`Facts`) is worked out where the object is applied or pruned.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, Literal, cast

import attrs

from pyvela._core.objects import AUXILIARY as AUXILIARY  # the renderer labels with it too
from pyvela._core.params import check_value, type_name

#: What produced an object: the component's workload, or a trait (or a component's extra outputs,
#: which KubeVela labels as a trait of type ``AuxiliaryWorkload``).
OamType = Literal["WORKLOAD", "TRAIT"]


@attrs.frozen(kw_only=True)
class Facts:
    """What a selector reads about one object.

    Attributes:
        kind: The object's kind (``Deployment``).
        name: The object's name.
        component: The component that rendered it; None for an object a step applied.
        component_type: That component's definition name (``webservice``).
        oam_type: ``WORKLOAD`` for a component's workload, ``TRAIT`` for anything else it renders.
        trait_type: The trait that rendered it (``AuxiliaryWorkload`` for a component's extra outputs).
    """

    kind: str
    name: str
    component: str | None = None
    component_type: str | None = None
    oam_type: OamType | None = None
    trait_type: str | None = None


class Checked:
    """Nested policy parameters: their fields are type-checked when the policy is built, so a
    mistake deep in a rule is reported at the policy's call site (``check`` raises TypeError)."""

    def check(self, path: str) -> None:
        for field in attrs.fields(cast(Any, type(self))):
            value = getattr(self, field.name)
            here = f"{path}.{field.name}"
            tp = _hints(type(self))[field.name]
            if not check_value(value, tp):
                raise TypeError(f"{here}: expected {_expected(tp)}, got {value!r:.80}")
            check_nested(value, here)
        self.validate(path)

    def validate(self, path: str) -> None:
        """Cross-field rules; raise ValueError naming ``path``."""


def check_nested(value: Any, path: str) -> None:
    """Check the nested parameter objects held by ``value`` (a field of a policy's parameters)."""
    if isinstance(value, Checked):
        value.check(path)
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            check_nested(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_nested(item, f"{path}[{key!r}]")


def _expected(tp: Any) -> str:
    """``one of 'a', 'b'`` for an enum (alone, optional, or in a tuple), else the type's name."""
    args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if len(args) == 1 and typing.get_origin(args[0]) is Literal:
        inner = _expected(args[0])
        return f"a tuple of {inner}" if typing.get_origin(tp) is tuple else inner
    return type_name(tp)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


@attrs.frozen(kw_only=True)
class RuleSelector(Checked):
    """Which objects a rule covers (KubeVela's ``ResourcePolicyRuleSelector``).

    Every criterion given must hold, and at least one must be given (an empty selector
    selects nothing).

    Attributes:
        component_names: Objects rendered by these components (names of the app's components).
        component_types: Objects rendered by components of these definitions (``webservice``).
        oam_types: ``WORKLOAD`` (a component's main object) or ``TRAIT`` (what traits render,
            and a component's extra outputs).
        trait_types: Objects rendered by these traits (``gateway``); a component's extra
            outputs count as trait ``AuxiliaryWorkload``.
        resource_types: Objects of these kinds (``Deployment``, ``ConfigMap``).
        resource_names: Objects with these names.
    """

    component_names: tuple[str, ...] = ()
    component_types: tuple[str, ...] = ()
    oam_types: tuple[OamType, ...] = ()
    trait_types: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()

    def matches(self, facts: Facts) -> bool:
        """Whether the object described by ``facts`` is selected."""
        matched = False
        for wanted, value in (
            (self.component_names, facts.component),
            (self.component_types, facts.component_type),
            (self.oam_types, facts.oam_type),
            (self.trait_types, facts.trait_type),
            (self.resource_types, facts.kind),
            (self.resource_names, facts.name),
        ):
            if not wanted:
                continue
            if not value or value not in wanted:
                return False
            matched = True
        return matched

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.component_names,
                self.component_types,
                self.oam_types,
                self.trait_types,
                self.resource_types,
                self.resource_names,
            )
        )


@attrs.frozen(kw_only=True)
class PolicyRule(Checked):
    """A rule of the take-over, read-only and shared-resource policies.

    Attributes:
        selector: Which objects the rule covers.
    """

    selector: RuleSelector
