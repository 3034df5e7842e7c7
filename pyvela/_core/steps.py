"""Workflow steps as typed async functions: the ``step`` decorator, its definition and use
objects, step groups, conditions and the view of the workflow a condition reads.

A step's body awaits actions (``pyvela._core.actions``) and performs no I/O itself; only the
runner does.
"""

from __future__ import annotations

import inspect
import traceback
import types
import typing
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Generic, Literal, ParamSpec, TypeVar

import attrs

from pyvela._core.params import Ref, caller_location, check_params_class
from pyvela._core.schema import Schema, check_name, checked_call, describe, where_of
from pyvela._core.sequences import as_tuple
from pyvela.errors import DefinitionError, Location

P = ParamSpec("P")
ParamsT = TypeVar("ParamsT")
OutT = TypeVar("OutT")

#: How steps are ordered: one after the other, or by their dependencies only.
Mode = Literal["StepByStep", "DAG"]

# --------------------------------------------------------------------------- steps


StepFn = Callable[[ParamsT, Any], Coroutine[Any, Any, OutT]]


@attrs.frozen(eq=False)
class StepDefinition(Schema, Generic[P, ParamsT, OutT]):
    """A workflow step type: an ``async`` function that awaits actions and returns outputs."""

    name: str
    params: Callable[P, ParamsT]
    run: StepFn[ParamsT, OutT]
    outputs_type: Any
    description: str
    where: Location

    def __call__(self, name: str, /, *args: P.args, **kwargs: P.kwargs) -> StepUse[ParamsT, OutT]:
        """Use this step in an app's workflow under step name ``name``."""
        params, where = checked_call(self.params, args, kwargs, step=name, definition=self.name)
        return StepUse(name=name, definition=self, params=params, where=where)


class UnknownStep(LookupError):
    """A condition asked about a step the workflow does not have."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no step named {name!r} (steps: {', '.join(known)})")
        self.name, self.known = name, known


def where_of_condition(cond: Callable[..., Any], exc: BaseException | None = None) -> Location | None:
    """The condition's own line that raised ``exc`` (else where the condition is defined)."""
    code = getattr(cond, "__code__", None)
    if code is None:
        return None
    if exc is not None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename == code.co_filename and frame.lineno is not None:
                return Location(frame.filename, frame.lineno)
    return Location(code.co_filename, code.co_firstlineno)


@attrs.frozen
class WorkflowView:
    """What a ``when`` predicate sees: the phases and outputs of the steps so far.

    Example: ``notify.when(lambda wf: wf.phase("apply-base-service") == "failed")`` or
    ``check.when(lambda wf: wf.output(base.outputs.cluster_ip) != "")``.
    """

    phases: Mapping[str, str]
    outputs: Mapping[str, Mapping[str, Any]]
    #: Why each finished step ended as it did (``Timeout``, ``ConditionNotMet``...; "" if none).
    reasons: Mapping[str, str] = attrs.field(factory=dict)

    def timed_out(self, step: str | StepUse[Any, Any] | StepGroup) -> bool:
        """Whether ``step`` failed by running past its timeout."""
        name = step if isinstance(step, str) else step.name
        return self.phase(name) == "failed" and self.reasons.get(name) == "Timeout"

    def phase(self, step: str | StepUse[Any, Any] | StepGroup) -> str:
        """``pending``, ``running``, ``succeeded``, ``failed``, ``skipped`` or ``suspending``."""
        name = step if isinstance(step, str) else step.name
        if name not in self.phases:
            raise UnknownStep(name, tuple(self.phases))
        return self.phases[name]

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
    retries: int | None = None  # None: the runner's default; 0 is no retry
    #: Where each ``.after()`` dependency was added: an unknown name is reported at that call.
    after_at: Mapping[str, Location] = attrs.field(factory=dict)

    @property
    def outputs(self) -> OutT:
        """This step's outputs, as references for later steps' parameters."""
        return typing.cast(OutT, _OutputsProxy(self.name, self.definition.outputs_type))

    def after(self, *steps: StepUse[Any, Any] | StepGroup | str) -> StepUse[ParamsT, OutT]:
        """A copy that runs only after ``steps`` (KubeVela's dependsOn)."""
        # Anything else is kept as it is: check_shape reports it at load, at the app's line.
        names = tuple(s if isinstance(s, str) else typing.cast(str, getattr(s, "name", s)) for s in steps)
        here = caller_location()
        at = {**self.after_at, **{n: here for n in names if isinstance(n, str)}}
        return attrs.evolve(self, dependencies=self.dependencies + names, after_at=at)

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
                fix=_closest_output(field, tuple(hints), self._type),
            )
        return Ref(self._step, field, hints[field], where)


def _closest_output(field: str, names: tuple[str, ...], outputs_type: Any) -> str:
    import difflib

    close = difflib.get_close_matches(field, names, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    if not names:
        return "remove the reference"
    return f"reference a field of {outputs_type.__name__} (.outputs.{names[0]})"


def _group_steps(value: Iterable[StepUse[Any, Any]]) -> tuple[StepUse[Any, Any], ...]:
    # Typed, so type checkers accept a list (see the converters of Workflow).
    return as_tuple(value, "steps", "StepGroup", 'StepGroup(name="grp", steps=[first, second])')


@attrs.frozen(kw_only=True, eq=False)
class StepGroup:
    """Steps that run as one unit, in their own mode."""

    name: str
    steps: tuple[StepUse[Any, Any], ...] = attrs.field(converter=_group_steps)
    mode: Mode = "DAG"
    dependencies: tuple[str, ...] = ()
    condition: Condition = "on-success"
    timeout: float | None = None
    where: Location = attrs.field(factory=lambda: caller_location(3))
    after_at: Mapping[str, Location] = attrs.field(factory=dict)

    def after(self, *steps: StepUse[Any, Any] | StepGroup | str) -> StepGroup:
        # Anything else is kept as it is: check_shape reports it at load, at the app's line.
        names = tuple(s if isinstance(s, str) else typing.cast(str, getattr(s, "name", s)) for s in steps)
        here = caller_location()
        at = {**self.after_at, **{n: here for n in names if isinstance(n, str)}}
        return attrs.evolve(self, dependencies=self.dependencies + names, after_at=at)


def _return_hint(fn: Callable[..., object], raw: object) -> Any:
    # Only the return annotation is resolved: a step defined in a function (tests) may have
    # parameter annotations that module globals cannot resolve, and a module may import
    # StepContext for type checkers alone (it pulls in every action class). A scratch function
    # with fn's globals keeps get_type_hints' rules (strings, None, Annotated stripped).
    scratch = types.FunctionType((lambda: None).__code__, inspect.unwrap(fn).__globals__)
    scratch.__annotations__ = {"return": raw}
    return typing.get_type_hints(scratch).get("return")


def step(
    *, name: str, params: Callable[P, ParamsT]
) -> Callable[[StepFn[ParamsT, OutT]], StepDefinition[P, ParamsT, OutT]]:
    """Make a workflow step definition from an ``async`` function.

    The function receives its parameters and a :class:`~pyvela.StepContext`, awaits the
    context's actions (the runner performs them) and returns an attrs outputs class, or
    None. It must not do I/O itself, so a test can drive it with canned results.
    """

    def decorate(fn: StepFn[ParamsT, OutT]) -> StepDefinition[P, ParamsT, OutT]:
        where = where_of(fn)
        check_name(name, where)
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
            out = None if raw in (None, "None") else _return_hint(fn, raw)
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
        return StepDefinition(name, params, fn, out, describe(fn), where)

    return decorate
