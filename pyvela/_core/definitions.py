"""Definitions: components, traits, workflow steps and policies as typed Python functions.

The decorators are pure: each returns an immutable definition object and registers
nothing. Calling a definition is the app's call site: its signature is the parameter
class's constructor (bound through ``ParamSpec``), so IDEs complete it and mypy/pyright
check it; at run time :func:`~pyvela._core.params.build_params` checks it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, ParamSpec, TypeVar, cast

import attrs

from pyvela._core.health import HealthRule, Readiness, TraitHealthRule
from pyvela._core.objects import Obj, deep_copy
from pyvela._core.params import caller_location, check_params_class
from pyvela._core.schema import Schema, check_name, checked_call, describe, where_of
from pyvela.errors import DefinitionError, Location

P = ParamSpec("P")
ParamsT = TypeVar("ParamsT")
#: How a component's workload is updated when a field of it cannot change in place.
Update = Literal["apply", "recreate"]
OutT = TypeVar("OutT")


@attrs.frozen(kw_only=True)
class WorkloadType:
    """The kind of object a component renders as its workload; ``"*"`` for any (KubeVela's
    ``autodetects.core.oam.dev``: the kind is the rendered object's, e.g. ``k8s-objects``)."""

    api_version: str
    kind: str

    @property
    def any(self) -> bool:
        return self.api_version == "*" and self.kind == "*"

    def accepts(self, api_version: object, kind: object) -> bool:
        return self.any or (api_version == self.api_version and kind == self.kind)

    def __str__(self) -> str:
        return "any kind" if self.any else f"{self.api_version} {self.kind}"


def _revision_text(value: str | Callable[[], str]) -> str:
    return value if isinstance(value, str) else value()


@attrs.frozen(kw_only=True)
class ComponentContext:
    """What a component's render function may read besides its parameters.

    Attributes:
        name: The component's name in the app.
        namespace: The namespace the app deploys to.
        app_name: The application's name.
        app_revision: ``<app>-<hash>``: changes whenever the app or a definition changes.
            May be given as a function that returns it: it is called when first read.
        replica_key: The key of this copy of the component (``replication`` policy); empty
            for a component that is not replicated. Put it in the names of what you render.
    """

    name: str
    namespace: str
    app_name: str
    # The revision hashes the whole app (its spec as JSON: a seventh of rendering a large app)
    # and few definitions read it: the renderer gives a function, called on first read.
    _app_revision: str | Callable[[], str] = attrs.field(
        alias="app_revision", eq=_revision_text, repr=lambda v: repr(_revision_text(v))
    )
    replica_key: str = ""

    @property
    def app_revision(self) -> str:
        value = self._app_revision
        if type(value) is not str:
            value = _revision_text(value)
            object.__setattr__(self, "_app_revision", value)
        return value


@attrs.frozen(kw_only=True)
class TraitContext(ComponentContext):
    """A component's context plus what was rendered before this trait.

    Attributes:
        workload: A copy of the workload rendered so far (earlier traits' patches applied).
        outputs: Auxiliary objects rendered so far, by output name.
    """

    _workload: Mapping[str, Any] = attrs.field(alias="workload")
    outputs: Mapping[str, Mapping[str, Any]]
    # Most traits never read the workload: the renderer's copy is made on first read.
    _copy_on_read: bool = attrs.field(init=False, default=False, eq=False, repr=False)

    @classmethod
    def copying(cls, *, workload: Mapping[str, Any], **fields: Any) -> TraitContext:
        """A context whose ``workload`` is a deep copy of ``workload``, made when first read
        (``workload`` must not change before the trait has returned)."""
        ctx = cls(workload=workload, **fields)
        object.__setattr__(ctx, "_copy_on_read", True)
        return ctx

    @property
    def workload(self) -> Mapping[str, Any]:
        if self._copy_on_read:
            object.__setattr__(self, "_workload", deep_copy(self._workload))
            object.__setattr__(self, "_copy_on_read", False)
        return self._workload


@attrs.frozen(kw_only=True)
class Rendered:
    """A component's result when it has auxiliary objects besides the workload."""

    workload: Obj
    outputs: Mapping[str, Obj] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class TraitResult:
    """A trait's result: extra objects, and/or a patch merged into the workload by key."""

    outputs: Mapping[str, Obj] = attrs.field(factory=dict)
    patch: Mapping[str, Any] | None = None


# --------------------------------------------------------------------------- components


@attrs.frozen(eq=False)
class ComponentDefinition(Schema, Generic[P, ParamsT]):
    """A component type: renders a workload (plus optional auxiliary objects)."""

    name: str
    params: Callable[P, ParamsT]
    render: Callable[[ParamsT, ComponentContext], Obj | Rendered]
    workload: WorkloadType
    description: str
    where: Location
    #: ``apply`` (default) or ``recreate``: delete and create the workload when an update
    #: changes a field that cannot change (a Job's template), instead of failing.
    update: Update = "apply"
    #: The workload's own health rule (KubeVela's healthPolicy/customStatus): waits on the
    #: workload and ``status`` use it instead of the kind's rule. None: the kind's rule.
    health: HealthRule | None = None

    def __call__(self, name: str, /, *args: P.args, **kwargs: P.kwargs) -> ComponentUse[ParamsT]:
        """Use this component in an app under instance name ``name``."""
        params, where = checked_call(self.params, args, kwargs, component=name, definition=self.name)
        return ComponentUse(name=name, definition=self, params=params, where=where)


@attrs.frozen(kw_only=True, eq=False)
class ComponentUse(Generic[ParamsT]):
    """A component in an app: a definition, its parameters, traits and dependencies."""

    name: str
    definition: ComponentDefinition[..., ParamsT]
    params: ParamsT
    where: Location
    traits: tuple[TraitUse[Any], ...] = ()
    dependencies: tuple[str, ...] = ()
    #: The key of this copy (``replication`` policy), given to its render as ``ctx.replica_key``.
    replica_key: str = ""
    #: Where each ``.after()`` dependency was added: an unknown name is reported at that call.
    after_at: Mapping[str, Location] = attrs.field(factory=dict)

    def with_traits(self, *traits: TraitUse[Any]) -> ComponentUse[ParamsT]:
        """A copy with ``traits`` attached (in order) after the existing ones."""
        # Not attrs.evolve: its introspection costs more than the rest of a call site.
        return type(self)(
            name=self.name,
            definition=self.definition,
            params=self.params,
            where=self.where,
            traits=self.traits + traits,
            dependencies=self.dependencies,
            replica_key=self.replica_key,
            after_at=self.after_at,
        )

    def with_params(self, params: ParamsT | None) -> ComponentUse[ParamsT]:
        """This use with other parameters (None: itself), e.g. set by a step's inputs at run time."""
        return self if params is None else attrs.evolve(self, params=params)

    def after(self, *components: ComponentUse[Any] | str) -> ComponentUse[ParamsT]:
        """A copy that deploys only after ``components`` (KubeVela's dependsOn)."""
        # Anything else is kept as it is: check_shape reports it at load, at the app's line.
        names = tuple(c if isinstance(c, str) else cast(str, getattr(c, "name", c)) for c in components)
        here = caller_location()
        at = {**self.after_at, **{n: here for n in names if isinstance(n, str)}}
        return attrs.evolve(self, dependencies=self.dependencies + names, after_at=at)


def component(
    *,
    name: str,
    params: Callable[P, ParamsT],
    workload: WorkloadType,
    update: Update = "apply",
    health: Callable[[Obj | None, ParamsT], Readiness] | None = None,
) -> Callable[[Callable[[ParamsT, ComponentContext], Obj | Rendered]], ComponentDefinition[P, ParamsT]]:
    """Make a component definition from a render function.

    Args:
        name: The component type's name (``base-service``).
        params: A frozen, keyword-only attrs class: the component's parameters.
        workload: The kind of the workload it renders.
        update: ``recreate`` to delete and create the workload again when a deploy changes a
            field the API server will not update in place (a Job's pod template); with the
            default, ``apply``, such a deploy fails and says so.
        health: The workload's health rule, given the live workload (None while it does not
            exist) and the parameters; waits and ``status`` use it instead of the kind's rule
            (``Ready:2/2``, an endpoint, a custom message).

    The function receives the parameters and a :class:`ComponentContext` and returns the
    workload as a dict, or :class:`Rendered` with auxiliary objects.
    """

    def decorate(
        fn: Callable[[ParamsT, ComponentContext], Obj | Rendered],
    ) -> ComponentDefinition[P, ParamsT]:
        where = where_of(fn)
        check_name(name, where)
        check_params_class(params, definition=name, where=where)
        if update not in ("apply", "recreate"):
            raise DefinitionError(
                f"component {name!r}: update must be 'apply' or 'recreate'", where=where, got=repr(update)
            )
        return ComponentDefinition(name, params, fn, workload, describe(fn), where, update, health)

    return decorate


# --------------------------------------------------------------------------- traits


@attrs.frozen(eq=False)
class TraitDefinition(Schema, Generic[P, ParamsT]):
    """A trait type: adds objects to a component and/or patches its workload."""

    name: str
    params: Callable[P, ParamsT]
    render: Callable[[ParamsT, TraitContext], TraitResult]
    applies_to: tuple[str, ...]
    description: str
    where: Location
    #: The health rule of the objects the trait adds (KubeVela's healthPolicy/customStatus):
    #: waits and ``status`` use it instead of their kind's rule where it gives a verdict.
    health: TraitHealthRule | None = None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> TraitUse[ParamsT]:
        """Attach this trait with these parameters (see ``ComponentUse.with_traits``)."""
        params, where = checked_call(self.params, args, kwargs, trait=self.name)
        return TraitUse(definition=self, params=params, where=where)


@attrs.frozen(kw_only=True, eq=False)
class TraitUse(Generic[ParamsT]):
    """A trait attached to a component."""

    definition: TraitDefinition[..., ParamsT]
    params: ParamsT
    where: Location


def trait(
    *,
    name: str,
    params: Callable[P, ParamsT],
    applies_to: tuple[str, ...] = (),
    health: TraitHealthRule | None = None,
) -> Callable[[Callable[[ParamsT, TraitContext], TraitResult]], TraitDefinition[P, ParamsT]]:
    """Make a trait definition from a render function.

    Args:
        name: The trait type's name (``ingress``).
        params: A frozen, keyword-only attrs class.
        applies_to: Workload kinds it may be attached to (empty: any).
        health: The health rule of the objects it adds (see :class:`~pyvela._core.health.TraitObservation`): a
            verdict per object, or None for an object its kind's rule judges.
    """

    def decorate(fn: Callable[[ParamsT, TraitContext], TraitResult]) -> TraitDefinition[P, ParamsT]:
        where = where_of(fn)
        check_name(name, where)
        check_params_class(params, definition=name, where=where)
        return TraitDefinition(name, params, fn, tuple(applies_to), describe(fn), where, health)

    return decorate


# --------------------------------------------------------------------------- policies


@attrs.frozen(eq=False)
class PolicyDefinition(Schema, Generic[P, ParamsT]):
    """A policy type (data model only: the runner reads the ones it knows)."""

    name: str
    params: Callable[P, ParamsT]
    description: str
    where: Location

    def __call__(self, name: str, /, *args: P.args, **kwargs: P.kwargs) -> PolicyUse[ParamsT]:
        params, where = checked_call(self.params, args, kwargs, definition=self.name)
        return PolicyUse(name=name, definition=self, params=params, where=where)


@attrs.frozen(kw_only=True, eq=False)
class PolicyUse(Generic[ParamsT]):
    """A policy in an app."""

    name: str
    definition: PolicyDefinition[..., ParamsT]
    params: ParamsT
    where: Location


def policy(
    *, name: str, params: Callable[P, ParamsT]
) -> Callable[[Callable[..., Any]], PolicyDefinition[P, ParamsT]]:
    """Make a policy definition; the decorated function only carries its docstring."""

    def decorate(fn: Callable[..., Any]) -> PolicyDefinition[P, ParamsT]:
        where = where_of(fn)
        check_name(name, where)
        check_params_class(params, definition=name, where=where)
        return PolicyDefinition(name, params, describe(fn), where)

    return decorate
