"""What the multi-cluster policies do to an app's components: where they go (topology), how
they differ there (override), and how many copies of each (replication).

Pure functions of the app, its catalogue and the known clusters, in KubeVela's order
(``pkg/workflow/providers/multicluster/deploy.go``): placements from the topologies, then
the overrides in the order the deploy step names them, then the replications.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from pyvela._core.actions import Action
from pyvela._core.definitions import ComponentUse, PolicyUse, TraitUse
from pyvela._core.objects import ObjectRef
from pyvela._core.params import build_params, param_fields
from pyvela._core.policies_cluster import (
    LOCAL,
    ComponentPatch,
    OverrideParams,
    ReplicationParams,
    TopologyParams,
    TraitPatch,
)
from pyvela.errors import Location, ParameterError, PyvelaError, UnknownDefinitionError

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class KnownClusters(Protocol):
    """What placement reads of the clusters a run may reach (``ClusterSet`` gives it)."""

    control: str

    def select(
        self,
        *,
        names: Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        allow_empty: bool = False,
    ) -> tuple[str, ...]:
        """The clusters a topology selects (unknown names and an empty selection raise)."""
        ...


@attrs.frozen(order=True)
class Placement:
    """One place the components go: a cluster, and a namespace there (None: the app's)."""

    cluster: str
    namespace: str | None = None

    def __str__(self) -> str:
        return self.cluster if self.namespace is None else f"{self.cluster}/{self.namespace}"


# --------------------------------------------------------------------------- topology


def placements(topologies: Sequence[PolicyUse[Any]], clusters: KnownClusters) -> list[Placement]:
    """The placements of ``topologies`` (each placement once, in order); no topology: the
    control cluster. A topology whose labels select nothing with ``allow_empty`` adds none.

    Raises:
        PyvelaError: a topology names a cluster that is not known, or its labels select none
            and ``allow_empty`` is not set (the error names the policy and where it is written).
    """
    if not topologies:
        return [Placement(clusters.control)]
    out: list[Placement] = []
    for use in topologies:
        params: TopologyParams = use.params
        names = None
        if params.clusters is not None:
            names = [clusters.control if n == LOCAL else n for n in params.clusters]
        labels = None if names is not None else params.labels
        try:
            chosen = clusters.select(names=names, labels=labels, allow_empty=params.allow_empty)
        except PyvelaError as exc:
            exc.message = f"topology {use.name!r}: {exc.message}"
            if exc.where is None:
                exc.where = use.where
            raise exc.with_context(definition="topology") from None
        for name in chosen:
            p = Placement(name, params.namespace)
            if p not in out:
                out.append(p)
    return out


# --------------------------------------------------------------------------- override

#: ``(kind, name) -> definition``: the catalogue's ``get``.
Lookup = Callable[[str, str], Any]


def override_components(
    components: Sequence[ComponentUse[Any]],
    overrides: Iterable[PolicyUse[Any]],
    lookup: Lookup,
) -> list[ComponentUse[Any]]:
    """``components`` after each override policy in turn (KubeVela's ``PatchComponents``)."""
    out = list(components)
    for use in overrides:
        params: OverrideParams = use.params
        for i, patch in enumerate(params.components):
            out = _patch(out, patch, use, f"components[{i}]", lookup)
        if params.selector is not None:
            out = [c for c in out if c.name in params.selector]
    return out


def _patch(
    components: list[ComponentUse[Any]], patch: ComponentPatch, use: PolicyUse[Any], at: str, lookup: Lookup
) -> list[ComponentUse[Any]]:
    pattern = patch.pattern()
    out: list[ComponentUse[Any]] = []
    matched = False
    for c in components:
        hit = pattern.fullmatch(c.name) if pattern is not None else patch.type in (None, c.definition.name)
        if not hit:
            out.append(c)
            continue
        matched = True
        if patch.type is not None and patch.type != c.definition.name:
            out.append(_new_component(c.name, patch, use, at, lookup, dependencies=c.dependencies))
        else:
            out.append(merge_component(c, patch, use, at, lookup))
    if pattern is not None and not matched and patch.adds() and patch.type is not None:
        assert patch.name is not None
        out.append(_new_component(patch.name, patch, use, at, lookup))
    return out


def _definition(lookup: Lookup, kind: str, name: str, use: PolicyUse[Any], at: str) -> Any:
    found = lookup(kind, name)
    if found is None:
        raise UnknownDefinitionError(
            f"override {use.name!r}: {at} names {kind} type {name!r}, which the catalogue does not hold",
            where=use.where,
            definition=name,
        )
    return found


def _new_component(
    name: str,
    patch: ComponentPatch,
    use: PolicyUse[Any],
    at: str,
    lookup: Lookup,
    *,
    dependencies: tuple[str, ...] = (),
) -> ComponentUse[Any]:
    assert patch.type is not None
    definition = _definition(lookup, "component", patch.type, use, at)
    context = {"component": name, "definition": definition.name}
    params = build_params(
        definition.params, (), _names(definition.params, patch.properties), where=use.where, **context
    )
    base = ComponentUse(
        name=name, definition=definition, params=params, where=use.where, dependencies=dependencies
    )
    return _traits(base, patch.traits, use, at, lookup)


def merge_component(
    c: ComponentUse[Any], patch: ComponentPatch, use: PolicyUse[Any], at: str, lookup: Lookup
) -> ComponentUse[Any]:
    """``c`` with the patch's properties merged into its parameters and its traits patched."""
    params = c.params
    if patch.properties:
        params = merge_params(
            params, patch.properties, where=use.where, component=c.name, definition=c.definition.name
        )
    return _traits(attrs.evolve(c, params=params), patch.traits, use, at, lookup)


def _traits(
    c: ComponentUse[Any], patches: Sequence[TraitPatch], use: PolicyUse[Any], at: str, lookup: Lookup
) -> ComponentUse[Any]:
    if not patches:
        return c
    traits: list[TraitUse[Any]] = list(c.traits)
    for j, tp in enumerate(patches):
        i = next((k for k, t in enumerate(traits) if t.definition.name == tp.type), None)
        if tp.disable:
            if i is not None:
                del traits[i]
            continue
        context = {"component": c.name, "trait": tp.type}
        if i is not None:
            merged = merge_params(traits[i].params, tp.properties, where=use.where, **context)
            traits[i] = TraitUse(definition=traits[i].definition, params=merged, where=traits[i].where)
        else:
            definition = _definition(lookup, "trait", tp.type, use, f"{at}.traits[{j}]")
            params = build_params(
                definition.params, (), _names(definition.params, tp.properties), where=use.where, **context
            )
            traits.append(TraitUse(definition=definition, params=params, where=use.where))
    return attrs.evolve(c, traits=tuple(traits))


def _field(key: Any, fields: Mapping[str, Any]) -> str | None:
    """The parameter a patch key names: as written, or a KubeVela camelCase name snake-cased."""
    if not isinstance(key, str):
        return None
    snake = _BOUNDARY.sub("_", key).replace("-", "_").lower()
    return next((k for k in (key, snake, key + "_", snake + "_") if k in fields), None)


def _names(cls: type[Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    fields = param_fields(cls)
    return {(_field(k, fields) or str(k)): v for k, v in patch.items()}


def merge_params(params: Any, patch: Mapping[str, Any], *, where: Location, **context: Any) -> Any:
    """``params`` with ``patch`` merged in, checked as a call site's parameters are.

    A mapping merges into a mapping key by key and into a nested parameter class field by
    field; any other value (a list, a scalar, None) replaces the old one. An unknown name
    is a ParameterError naming it.
    """
    cls = type(params)
    fields = param_fields(cls)
    current = {f.alias or f.name: getattr(params, f.name) for f in attrs.fields(cls)}
    for key, value in patch.items():
        name = _field(key, fields)
        if name is None:
            build_params(cls, (), {str(key): value}, where=where, **context)  # raises: unknown parameter
            raise AssertionError(key)  # pragma: no cover
        current[name] = _merge(current[name], value, where=where, context=context, path=name)
    return build_params(cls, (), current, where=where, **context)


def _merge(old: Any, new: Any, *, where: Location, context: Mapping[str, Any], path: str) -> Any:
    if isinstance(new, Mapping):
        if attrs.has(type(old)):
            return merge_params(old, new, where=where, **{**context, "parameter": path})
        if isinstance(old, Mapping):
            out = dict(old)
            for k, v in new.items():
                out[k] = (
                    _merge(out[k], v, where=where, context=context, path=f"{path}.{k}") if k in out else v
                )
            return out
    return new


# --------------------------------------------------------------------------- replication


def replicate(
    components: Sequence[ComponentUse[Any]], replications: Iterable[PolicyUse[Any]]
) -> list[ComponentUse[Any]]:
    """``components`` with each one a replication selects replaced by a copy per key (at the
    end, as KubeVela orders them); each policy selects from ``components`` as given."""
    removed: set[str] = set()
    added: list[ComponentUse[Any]] = []
    for use in replications:
        params: ReplicationParams = use.params
        chosen = [c for c in components if c.name in params.selector]
        if not chosen:
            raise ParameterError(
                f"replication {use.name!r} selects no component of this deploy",
                where=use.where,
                definition="replication",
                expected="one of " + ", ".join(c.name for c in components),
                got=", ".join(params.selector) or "nothing",
            )
        added += [attrs.evolve(c, replica_key=key) for c in chosen for key in params.keys]
        removed.update(c.name for c in chosen)
    return [c for c in components if c.name not in removed] + added


# --------------------------------------------------------------------------- all together


@attrs.frozen(kw_only=True)
class DeployPlan:
    """What a deploy step does: each of ``components`` applied at each of ``placements``."""

    placements: tuple[Placement, ...]
    components: tuple[ComponentUse[Any], ...]


def plan_deploy(
    components: Sequence[ComponentUse[Any]],
    policies: Sequence[PolicyUse[Any]],
    clusters: KnownClusters,
    lookup: Lookup,
) -> DeployPlan:
    """The deploy of ``components`` under ``policies`` (a deploy step's, in its order)."""
    kinds = {p.definition.name for p in policies}
    by = {k: [p for p in policies if p.definition.name == k] for k in kinds}
    where = placements(by.get("topology", []), clusters)
    comps = override_components(components, by.get("override", []), lookup)
    comps = replicate(comps, by.get("replication", [])) if by.get("replication") else comps
    return DeployPlan(placements=tuple(where), components=tuple(comps))


def plan_at(components: Sequence[ComponentUse[Any]], at: Placement, clusters: KnownClusters) -> DeployPlan:
    """The deploy of ``components`` at the one placement ``at`` (its cluster's name checked)."""
    name = clusters.control if at.cluster == LOCAL else clusters.select(names=[at.cluster])[0]
    return DeployPlan(placements=(Placement(name, at.namespace),), components=tuple(components))


@attrs.frozen(kw_only=True)
class DeployComponents(Action[dict[str, Any]]):
    """Apply components where the named policies place them and wait until they are healthy
    (KubeVela's ``deploy`` step with ``policies``): every placement at once, ``parallelism``
    components at a time in each, a component after those it depends on.

    Result: per placement (``cluster``, or ``cluster/namespace``), per component (``name``,
    or ``name@replica-key``), its workload: ``apiVersion``, ``kind``, ``namespace``, ``name``
    and ``status`` as it was when it became healthy. A placement that fails (its cluster does
    not answer) does not stop the others: the action fails after them, naming each failed
    cluster, and a re-run applies only what did not become healthy.
    """

    policies: tuple[str, ...] = ()
    parallelism: int = 5
    #: The components to deploy (None: all of the app's).
    components: tuple[str, ...] | None = None
    #: One placement instead of the policies' (KubeVela's apply-component ``cluster`` and
    #: ``namespace``): the cluster's name (``local``: the app's own) and a namespace there.
    at: Placement | None = None
    #: With ``at``: the parameters the component is rendered with (None: its own).
    params: Any = None

    def describe(self) -> str:
        if self.at is not None:
            return f"apply {', '.join(self.components or ())} to {self.at}"
        return "deploy with policies " + ", ".join(self.policies) if self.policies else "deploy"


@attrs.frozen(kw_only=True)
class ApplyObjectTo(Action[dict[str, Any]]):
    """Apply one object on the cluster named ``cluster``, or on every placement of the topology
    policy ``topology`` (KubeVela's ``cluster`` and ``topology`` step parameters); recorded in
    the app's inventory under its cluster. Result: the live object (of the last placement)."""

    object: Mapping[str, Any]
    cluster: str | None = None
    topology: str | None = None

    def describe(self) -> str:
        where = f"cluster {self.cluster}" if self.topology is None else f"topology {self.topology}"
        return f"apply {ObjectRef.of(self.object)} to {where}"


@attrs.frozen(kw_only=True)
class ReadObjectFrom(Action[dict[str, Any] | None]):
    """Read one object from the cluster named ``cluster``; result: the live object or None."""

    ref: ObjectRef
    cluster: str

    def describe(self) -> str:
        return f"read {self.ref} from cluster {self.cluster}"
