"""KubeVela's multi-cluster policies: topology, override and replication (KubeVela v1.10.1's
``vela-templates/definitions/internal/policy/{topology,override,replication}.cue``, applied as
its ``pkg/policy`` and the ``deploy`` step's ``pkg/workflow/providers/multicluster`` do).

They take effect only in a ``deploy`` step that names them (``policies=``), or, for an app
with no workflow, through the ``deploy`` step per topology that pyvela then runs. What they
do to an app's components is :mod:`pyvela._core.placement`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import attrs

from pyvela._core.definitions import PolicyUse, policy
from pyvela._core.selectors import Checked, check_nested
from pyvela.errors import DanglingReferenceError, ParameterError

#: The control cluster's name in KubeVela (its hub), which a topology may name.
LOCAL = "local"
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class _Params:
    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):  # type: ignore[arg-type]
            check_nested(getattr(self, field.name), field.name)


# --------------------------------------------------------------------------- topology


@attrs.frozen(kw_only=True)
class TopologyParams(_Params):
    """Parameters of the built-in ``topology`` policy: where the components go.

    Attributes:
        clusters: The clusters by name (``local``: the control cluster); each must be known.
        cluster_label_selector: The clusters whose labels include all of these (when
            ``clusters`` is not given).
        allow_empty: A label selector that selects no cluster is not an error: nothing is
            deployed.
        cluster_selector: Deprecated spelling of ``cluster_label_selector``.
        namespace: The namespace the components go to in those clusters; unset: the app's.
    """

    clusters: tuple[str, ...] | None = None
    cluster_label_selector: Mapping[str, str] | None = None
    allow_empty: bool = False
    cluster_selector: Mapping[str, str] | None = None
    namespace: str | None = None

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for name in self.clusters or ():
            if not name:
                raise ValueError("clusters: a cluster's name must not be empty")
        if self.namespace is not None and not _K8S_NAME.fullmatch(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} is not a Kubernetes namespace name")

    @property
    def labels(self) -> Mapping[str, str] | None:
        return (
            self.cluster_label_selector if self.cluster_label_selector is not None else self.cluster_selector
        )


@policy(name="topology", params=TopologyParams)
def topology() -> None:
    """Deploy the components to these clusters (by name or by label), in this namespace."""


# --------------------------------------------------------------------------- override


@attrs.frozen(kw_only=True)
class TraitPatch(Checked):
    """How an override changes one trait of the components it selects.

    Attributes:
        type: The trait's definition (``scaler``).
        properties: Merged into the trait's parameters (mappings merged key by key, any
            other value replaced); a trait the component does not have is added with them.
        disable: Remove the trait from the component.
    """

    type: str
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    disable: bool = False


@attrs.frozen(kw_only=True)
class ComponentPatch(Checked):
    """How an override changes the components it selects.

    Attributes:
        name: The components by name; ``*`` matches any characters (``web-*``); unset: every
            component (of ``type``, when given). A name that matches none adds a component of
            ``type`` with ``properties``.
        type: Only components of this definition; a component named by ``name`` with
            another type is replaced by one of this type with ``properties``.
        properties: Merged into the component's parameters (mappings merged key by key, a
            nested parameter class field by field, any other value replaced).
        traits: Traits added, changed or removed.
    """

    name: str | None = None
    type: str | None = None
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    traits: tuple[TraitPatch, ...] = ()

    def pattern(self) -> re.Pattern[str] | None:
        if self.name is None:
            return None
        return re.compile(".*".join(re.escape(part) for part in self.name.split("*")))

    def adds(self) -> bool:
        """Whether a name matching no component adds one (a plain Kubernetes name with a type)."""
        return self.name is not None and "*" not in self.name and _K8S_NAME.fullmatch(self.name) is not None


@attrs.frozen(kw_only=True)
class OverrideParams(_Params):
    """Parameters of the built-in ``override`` policy: per-placement changes to the components.

    Attributes:
        components: The patches, applied in order.
        selector: Keep only these components (by name) after patching; unset: all of them.
    """

    components: tuple[ComponentPatch, ...]
    selector: tuple[str, ...] | None = None


@policy(name="override", params=OverrideParams)
def override() -> None:
    """Change the components' properties and traits where a deploy step applies this policy."""


# --------------------------------------------------------------------------- replication


@attrs.frozen(kw_only=True)
class ReplicationParams(_Params):
    """Parameters of the built-in ``replication`` policy.

    Attributes:
        keys: One copy of each selected component per key; its definitions see the key as
            ``ctx.replica_key`` (and should put it in the names of what they render).
        selector: The components to replicate, by name.
    """

    keys: tuple[str, ...]
    selector: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"keys: each key once, got {list(self.keys)}")


@policy(name="replication", params=ReplicationParams)
def replication() -> None:
    """Deploy each selected component once per key (``ctx.replica_key``) where a deploy step applies it."""


CLUSTER_POLICIES = (topology, override, replication)
PLACEMENT_TYPES = frozenset(p.name for p in CLUSTER_POLICIES)


# --------------------------------------------------------------------------- load-time checks


def check_cluster_policies(
    policies: Sequence[PolicyUse[Any]],
    *,
    components: Collection[str],
    names: Callable[[str], Collection[str]],
) -> None:
    """Check the multi-cluster policies against the app: selectors naming no component, types
    the catalogue does not hold, a replication of nothing.

    Raises:
        DanglingReferenceError, ParameterError: naming the policy and where it is written.
    """
    builtin = {p.name: p for p in CLUSTER_POLICIES}
    for use in policies:
        if builtin.get(use.definition.name) is not use.definition:
            continue
        params = use.params
        if isinstance(params, ReplicationParams):
            _replication(use, params, components)
        elif isinstance(params, OverrideParams):
            _override(use, params, components, names)


def _replication(use: PolicyUse[Any], params: ReplicationParams, components: Collection[str]) -> None:
    if not params.selector:
        raise ParameterError(
            f"policy {use.name!r}: selector names no component to replicate",
            where=use.where,
            definition="replication",
            parameter="selector",
            expected="the names of the components to replicate",
            got="nothing",
            fix="list the components, e.g. selector=('web',) (KubeVela fails such a deploy too)",
        )
    for name in params.selector:
        if name not in components:
            raise DanglingReferenceError(
                f"policy {use.name!r}: selector names component {name!r}, which the app does not have",
                where=use.where,
                definition="replication",
                parameter="selector",
                expected="one of " + ", ".join(sorted(components)),
                got=repr(name),
            )


def _override(
    use: PolicyUse[Any],
    params: OverrideParams,
    components: Collection[str],
    names: Callable[[str], Collection[str]],
) -> None:
    component_types, trait_types = names("component"), names("trait")
    for i, patch in enumerate(params.components):
        at = f"components[{i}]"
        if patch.type is not None and patch.type not in component_types:
            raise _unknown(use, f"{at}.type", "component definition", patch.type, component_types)
        for j, t in enumerate(patch.traits):
            if t.type not in trait_types:
                raise _unknown(use, f"{at}.traits[{j}].type", "trait definition", t.type, trait_types)
        pattern = patch.pattern()
        matched = pattern is None or any(pattern.fullmatch(c) for c in components)
        if not matched and not (patch.adds() and patch.type is not None):
            raise DanglingReferenceError(
                f"policy {use.name!r}: {at}.name {patch.name!r} matches no component",
                where=use.where,
                definition="override",
                parameter=f"{at}.name",
                expected="one of " + ", ".join(sorted(components)),
                got=repr(patch.name),
                fix="fix the name; to add a component, give a plain name and its type",
            )


def _unknown(use: PolicyUse[Any], path: str, what: str, value: str, known: Collection[str]) -> ParameterError:
    return ParameterError(
        f"policy {use.name!r}: {path} names {what} {value!r}, which the catalogue does not hold",
        where=use.where,
        definition=use.definition.name,
        parameter=path,
        expected="one of " + (", ".join(sorted(known)) or "none"),
        got=repr(value),
    )
