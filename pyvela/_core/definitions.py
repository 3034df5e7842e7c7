"""Definitions: components, traits, workflow steps and policies as typed Python functions.

The decorators are pure: each returns an immutable definition object and registers
nothing. Calling a definition is the app's call site: its signature is the parameter
class's constructor (bound through ``ParamSpec``), so IDEs complete it and mypy/pyright
check it; at run time :func:`~pyvela._core.params.build_params` checks it again.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Generic, ParamSpec, TypeVar

import attrs

from pyvela._core.objects import Obj
from pyvela._core.params import Ref, build_params, caller_location, check_params_class, param_schema
from pyvela.errors import DefinitionError, Location

P = ParamSpec("P")
ParamsT = TypeVar("ParamsT")
OutT = TypeVar("OutT")


@attrs.frozen(kw_only=True)
class WorkloadType:
    """The kind of object a component renders as its workload."""

    api_version: str
    kind: str


@attrs.frozen(kw_only=True)
class ComponentContext:
    """What a component's render function may read besides its parameters.

    Attributes:
        name: The component's name in the app.
        namespace: The namespace the app deploys to.
        app_name: The application's name.
        app_revision: ``<app>-<hash>``: changes whenever the app or a definition changes.
    """

    name: str
    namespace: str
    app_name: str
    app_revision: str


@attrs.frozen(kw_only=True)
class TraitContext(ComponentContext):
    """A component's context plus what was rendered before this trait.

    Attributes:
        workload: A copy of the workload rendered so far (earlier traits' patches applied).
        outputs: Auxiliary objects rendered so far, by output name.
    """

    workload: Mapping[str, Any]
    outputs: Mapping[str, Mapping[str, Any]]


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


def _checked(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], **context: Any) -> tuple[Any, Location]:
    """Build a definition's parameters at its call site (two frames up: the app's line)."""
    where = caller_location(3)
    return build_params(typing.cast(type[Any], cls), args, kwargs, where=where, **context), where


class _Schema:
    """Gives every definition its parameter schema (for ``pyvela defs`` and tooling)."""

    params: Any

    def schema(self) -> dict[str, dict[str, Any]]:
        """``{parameter: {"type", "required", "default"?, "description"?}}``."""
        return param_schema(self.params)


def _describe(fn: Callable[..., Any]) -> str:
    return inspect.cleandoc(fn.__doc__ or "").strip()


def _where(fn: Callable[..., Any]) -> Location:
    code = getattr(fn, "__code__", None)
    if code is None:
        return Location("<unknown>", 0)
    return Location(code.co_filename, code.co_firstlineno)


def _check_name(name: str, where: Location) -> None:
    if not name or not all(ch.isalnum() or ch in "-." for ch in name) or name != name.lower():
        raise DefinitionError(
            f"definition name {name!r} is not a lowercase DNS-style name",
            where=where,
            expected="lowercase letters, digits, '-' and '.'",
            got=repr(name),
        )


# --------------------------------------------------------------------------- components


@attrs.frozen(eq=False)
class ComponentDefinition(_Schema, Generic[P, ParamsT]):
    """A component type: renders a workload (plus optional auxiliary objects)."""

    name: str
    params: Callable[P, ParamsT]
    render: Callable[[ParamsT, ComponentContext], Obj | Rendered]
    workload: WorkloadType
    description: str
    where: Location

    def __call__(self, name: str, /, *args: P.args, **kwargs: P.kwargs) -> ComponentUse[ParamsT]:
        """Use this component in an app under instance name ``name``."""
        params, where = _checked(self.params, args, kwargs, component=name, definition=self.name)
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

    def with_traits(self, *traits: TraitUse[Any]) -> ComponentUse[ParamsT]:
        """A copy with ``traits`` attached (in order) after the existing ones."""
        return attrs.evolve(self, traits=self.traits + traits)

    def after(self, *components: ComponentUse[Any] | str) -> ComponentUse[ParamsT]:
        """A copy that deploys only after ``components`` (KubeVela's dependsOn)."""
        names = tuple(c if isinstance(c, str) else c.name for c in components)
        return attrs.evolve(self, dependencies=self.dependencies + names)


def component(
    *, name: str, params: Callable[P, ParamsT], workload: WorkloadType
) -> Callable[[Callable[[ParamsT, ComponentContext], Obj | Rendered]], ComponentDefinition[P, ParamsT]]:
    """Make a component definition from a render function.

    Args:
        name: The component type's name (``base-service``).
        params: A frozen, keyword-only attrs class: the component's parameters.
        workload: The kind of the workload it renders.

    The function receives the parameters and a :class:`ComponentContext` and returns the
    workload as a dict, or :class:`Rendered` with auxiliary objects.
    """

    def decorate(
        fn: Callable[[ParamsT, ComponentContext], Obj | Rendered],
    ) -> ComponentDefinition[P, ParamsT]:
        where = _where(fn)
        _check_name(name, where)
        check_params_class(params, definition=name, where=where)
        return ComponentDefinition(name, params, fn, workload, _describe(fn), where)

    return decorate


# --------------------------------------------------------------------------- traits


@attrs.frozen(eq=False)
class TraitDefinition(_Schema, Generic[P, ParamsT]):
    """A trait type: adds objects to a component and/or patches its workload."""

    name: str
    params: Callable[P, ParamsT]
    render: Callable[[ParamsT, TraitContext], TraitResult]
    applies_to: tuple[str, ...]
    description: str
    where: Location

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> TraitUse[ParamsT]:
        """Attach this trait with these parameters (see ``ComponentUse.with_traits``)."""
        params, where = _checked(self.params, args, kwargs, trait=self.name)
        return TraitUse(definition=self, params=params, where=where)


@attrs.frozen(kw_only=True, eq=False)
class TraitUse(Generic[ParamsT]):
    """A trait attached to a component."""

    definition: TraitDefinition[..., ParamsT]
    params: ParamsT
    where: Location


def trait(
    *, name: str, params: Callable[P, ParamsT], applies_to: tuple[str, ...] = ()
) -> Callable[[Callable[[ParamsT, TraitContext], TraitResult]], TraitDefinition[P, ParamsT]]:
    """Make a trait definition from a render function.

    Args:
        name: The trait type's name (``ingress``).
        params: A frozen, keyword-only attrs class.
        applies_to: Workload kinds it may be attached to (empty: any).
    """

    def decorate(fn: Callable[[ParamsT, TraitContext], TraitResult]) -> TraitDefinition[P, ParamsT]:
        where = _where(fn)
        _check_name(name, where)
        check_params_class(params, definition=name, where=where)
        return TraitDefinition(name, params, fn, tuple(applies_to), _describe(fn), where)

    return decorate


# --------------------------------------------------------------------------- steps


StepFn = Callable[[ParamsT, Any], Coroutine[Any, Any, OutT]]


@attrs.frozen(eq=False)
class StepDefinition(_Schema, Generic[P, ParamsT, OutT]):
    """A workflow step type: an ``async`` function that awaits actions and returns outputs."""

    name: str
    params: Callable[P, ParamsT]
    run: StepFn[ParamsT, OutT]
    outputs_type: Any
    description: str
    where: Location

    def __call__(self, name: str, /, *args: P.args, **kwargs: P.kwargs) -> StepUse[ParamsT, OutT]:
        """Use this step in an app's workflow under step name ``name``."""
        params, where = _checked(self.params, args, kwargs, step=name, definition=self.name)
        return StepUse(name=name, definition=self, params=params, where=where)


@attrs.frozen
class WorkflowView:
    """What a ``when`` predicate sees: the phases and outputs of the steps so far.

    Example: ``notify.when(lambda wf: wf.phase("apply-base-service") == "failed")`` or
    ``check.when(lambda wf: wf.output(base.outputs.cluster_ip) != "")``.
    """

    phases: Mapping[str, str]
    outputs: Mapping[str, Mapping[str, Any]]

    def phase(self, step: str | StepUse[Any, Any] | StepGroup) -> str:
        """``pending``, ``running``, ``succeeded``, ``failed``, ``skipped`` or ``suspending``."""
        return self.phases[step if isinstance(step, str) else step.name]

    def succeeded(self, step: str | StepUse[Any, Any] | StepGroup) -> bool:
        return self.phase(step) == "succeeded"

    def output(self, ref: Any) -> Any:
        """The value behind a step output reference (``step.outputs.field``); None if not produced."""
        if not isinstance(ref, Ref):
            raise TypeError(f"expected a step output reference, got {type(ref).__name__}")
        return (self.outputs.get(ref.step) or {}).get(ref.field)


#: When a step runs: after its dependencies succeeded (default), always, or a predicate
#: over the workflow so far.
Condition = str | Callable[[WorkflowView], bool]


@attrs.frozen(kw_only=True, eq=False)
class StepUse(Generic[ParamsT, OutT]):
    """A step in an app's workflow."""

    name: str
    definition: StepDefinition[..., ParamsT, OutT]
    params: ParamsT
    where: Location
    dependencies: tuple[str, ...] = ()
    condition: Condition = "on-success"
    timeout: float | None = None
    retries: int = 0

    @property
    def outputs(self) -> OutT:
        """This step's outputs, as references for later steps' parameters."""
        return typing.cast(OutT, _OutputsProxy(self.name, self.definition.outputs_type))

    def after(self, *steps: StepUse[Any, Any] | StepGroup | str) -> StepUse[ParamsT, OutT]:
        """A copy that runs only after ``steps`` (KubeVela's dependsOn)."""
        names = tuple(s if isinstance(s, str) else s.name for s in steps)
        return attrs.evolve(self, dependencies=self.dependencies + names)

    def when(self, condition: Condition) -> StepUse[ParamsT, OutT]:
        """A copy with a run condition: ``"always"``, ``"on-success"`` or a predicate."""
        return attrs.evolve(self, condition=condition)

    def with_timeout(self, seconds: float) -> StepUse[ParamsT, OutT]:
        """A copy with its own timeout (the workflow default otherwise)."""
        return attrs.evolve(self, timeout=float(seconds))

    def with_retries(self, retries: int) -> StepUse[ParamsT, OutT]:
        """A copy retried up to ``retries`` times on transient errors, with backoff."""
        return attrs.evolve(self, retries=int(retries))


class _OutputsProxy:
    """Hands out :class:`Ref` objects for the fields of a step's outputs class."""

    def __init__(self, step: str, outputs_type: Any) -> None:
        self._step = step
        self._type = outputs_type

    def __getattr__(self, field: str) -> Ref:
        if field.startswith("_"):
            raise AttributeError(field)
        where = caller_location()
        if self._type is None or not attrs.has(self._type):
            raise DefinitionError(
                f"step {self._step!r} has no outputs to reference",
                where=where,
                step=self._step,
                fix="return an attrs outputs class from the step function",
            )
        hints = typing.get_type_hints(self._type)
        if field not in hints:
            raise DefinitionError(
                f"step {self._step!r} has no output {field!r}",
                where=where,
                step=self._step,
                expected="one of " + ", ".join(hints),
                got=repr(field),
            )
        return Ref(self._step, field, hints[field], where)


@attrs.frozen(kw_only=True, eq=False)
class StepGroup:
    """Steps that run as one unit, in their own mode."""

    name: str
    steps: tuple[StepUse[Any, Any], ...]
    mode: str = "DAG"
    dependencies: tuple[str, ...] = ()
    condition: Condition = "on-success"
    timeout: float | None = None
    where: Location = attrs.field(factory=lambda: caller_location(3))

    def after(self, *steps: StepUse[Any, Any] | StepGroup | str) -> StepGroup:
        names = tuple(s if isinstance(s, str) else s.name for s in steps)
        return attrs.evolve(self, dependencies=self.dependencies + names)


def step(
    *, name: str, params: Callable[P, ParamsT]
) -> Callable[[StepFn[ParamsT, OutT]], StepDefinition[P, ParamsT, OutT]]:
    """Make a workflow step definition from an ``async`` function.

    The function receives its parameters and a :class:`~pyvela.StepContext`, awaits the
    context's actions (the runner performs them) and returns an attrs outputs class, or
    None. It must not do I/O itself, so a test can drive it with canned results.
    """

    def decorate(fn: StepFn[ParamsT, OutT]) -> StepDefinition[P, ParamsT, OutT]:
        where = _where(fn)
        _check_name(name, where)
        if not inspect.iscoroutinefunction(fn):
            raise DefinitionError(
                f"step {name!r} must be an async function",
                where=where,
                definition=name,
                fix="write `async def` and `await` the context's actions",
            )
        check_params_class(params, definition=name, where=where)
        raw = fn.__annotations__.get("return")
        try:
            # Only the return annotation matters here; a step defined in a function (tests)
            # may have parameter annotations that cannot be resolved from module globals.
            out = None if raw in (None, "None") else typing.get_type_hints(fn).get("return")
        except Exception as exc:
            raise DefinitionError(f"cannot resolve the return annotation: {exc}", where=where) from exc
        out = None if out is type(None) else out
        if out is not None and not attrs.has(out):
            raise DefinitionError(
                f"step {name!r} must return an attrs outputs class or None",
                where=where,
                got=repr(out),
                definition=name,
            )
        return StepDefinition(name, params, fn, out, _describe(fn), where)

    return decorate


# --------------------------------------------------------------------------- policies


@attrs.frozen(eq=False)
class PolicyDefinition(_Schema, Generic[P, ParamsT]):
    """A policy type (data model only: the runner reads the ones it knows)."""

    name: str
    params: Callable[P, ParamsT]
    description: str
    where: Location

    def __call__(self, name: str, /, *args: P.args, **kwargs: P.kwargs) -> PolicyUse[ParamsT]:
        params, where = _checked(self.params, args, kwargs, definition=self.name)
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
        where = _where(fn)
        _check_name(name, where)
        check_params_class(params, definition=name, where=where)
        return PolicyDefinition(name, params, _describe(fn), where)

    return decorate


AnyDefinition = (
    ComponentDefinition[Any, Any]
    | TraitDefinition[Any, Any]
    | StepDefinition[Any, Any, Any]
    | PolicyDefinition[Any, Any]
)
