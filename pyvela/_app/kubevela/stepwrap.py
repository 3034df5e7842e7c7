"""Step definitions wrapped for KubeVela's data flow, once per app and step type.

The wrapper runs the step's own function and adds what the YAML asks of its uses: outputs
computed by ``valueFrom`` (held by an outputs class extended with them, so later steps refer
to them like any output), and inputs that set properties of the component the step applies
(held by a parameter class extended with them; the component's parameters are rebuilt from
its YAML properties with those values, and every ``apply_component`` of that component the
step awaits applies them). For a step that returns nothing, ``output`` is the workload of the
component it applied and ``outputs`` that component's other objects by name, as KubeVela's
``apply-component`` exposes them. The wrapped function keeps its plans (:class:`WrappedRun`):
``diff`` asks it which parameters a step's inputs give its component, from recorded outputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Mapping
from typing import Any

import attrs

from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.dataflow import ComputedOutput, PropertyInput
from pyvela._core.actions import Action, AppliedComponent, StepContext
from pyvela._core.params import Ref
from pyvela._core.steps import StepDefinition
from pyvela.errors import StepError

#: Rebuilds a component's parameters with input values at property paths.
Rebuild = Callable[[list[tuple[PropertyInput, Any]]], Any]


@attrs.frozen
class StepPlan:
    """What one step's YAML adds to its definition."""

    outputs: tuple[ComputedOutput, ...] = ()
    properties: tuple[PropertyInput, ...] = ()
    component: str | None = None
    rebuild: Rebuild | None = None
    #: Inputs into the step's own parameters below their top level (``data.serverstatus``),
    #: and how its parameters are rebuilt with them (given the parameters as resolved).
    own: tuple[PropertyInput, ...] = ()
    rebuild_own: Callable[[Any, list[tuple[PropertyInput, Any]]], Any] | None = None


class _Capture:
    """Awaits an action as the step would, keeping the applied component it returns."""

    def __init__(self, action: Action[Any], sink: list[AppliedComponent]) -> None:
        self.action, self.sink = action, sink

    def __await__(self) -> Generator[Action[Any], Any, Any]:
        result = yield self.action
        if isinstance(result, AppliedComponent):
            self.sink.append(result)
        return result


class _Context:
    """The step's context, with ``apply_component`` applying the inputs' properties."""

    def __init__(
        self, ctx: StepContext, component: str | None, params: Any, sink: list[AppliedComponent]
    ) -> None:
        self._ctx, self._component, self._params, self._sink = ctx, component, params, sink

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def apply_component(self, component: str, **options: Any) -> _Capture:
        if component == self._component and options.get("params") is None and self._params is not None:
            options["params"] = self._params
        return _Capture(self._ctx.apply_component(component, **options), self._sink)


def wrap(
    definition: StepDefinition[Any, Any, Any], plans: Mapping[str, StepPlan]
) -> StepDefinition[Any, Any, Any]:
    """``definition`` with the computed outputs and property inputs ``plans`` give its uses."""
    base = definition.outputs_type
    base_fields = [f.name for f in attrs.fields(base)] if base is not None else []
    label = base.__name__ if base is not None else _label(definition.name) + "Outputs"
    outputs_cls = base
    if base is None and any(p.outputs for p in plans.values()):
        outputs_cls = attrs.make_class(label, {}, frozen=True, kw_only=True)
    # One class per step: a step's outputs are the type's and its own computed ones, not
    # those other steps of the same type compute (each an instance of the type's class).
    per_step = {
        step: attrs.make_class(
            label + "WithKubeVelaOutputs",
            {c.field: attrs.field(default=None, type=Any) for c in p.outputs},
            bases=(outputs_cls,),
            frozen=True,
            kw_only=True,
        )
        for step, p in plans.items()
        if p.outputs
    }
    params_cls = extended_params(
        definition.params, [i.field for p in plans.values() for i in (*p.properties, *p.own)]
    )
    inner = definition.run

    async def run(params: Any, ctx: StepContext) -> Any:
        plan = plans.get(ctx.step_name, StepPlan())
        component_params = None
        if plan.properties and plan.rebuild is not None:
            component_params = plan.rebuild([(i, getattr(params, i.field)) for i in plan.properties])
        if plan.own and plan.rebuild_own is not None:
            params = plan.rebuild_own(params, [(i, getattr(params, i.field)) for i in plan.own])
        applied: list[AppliedComponent] = []
        result = await inner(params, _Context(ctx, plan.component, component_params, applied))
        own = per_step.get(ctx.step_name)
        if own is None:
            return result if result is not None or outputs_cls is None else outputs_cls()
        values = {name: getattr(result, name) for name in base_fields} if result is not None else {}
        scope: dict[str, Any] = {"output": values, "outputs": values}
        if base is None and applied:
            scope = {"output": applied[-1].workload, "outputs": dict(applied[-1].outputs)}
        scope["context"] = {"name": ctx.app_name, "namespace": ctx.namespace}
        for out in plan.outputs:
            try:
                values[out.field] = ex.evaluate(
                    out.expr, functools.partial(_lookup, scope, text=out.text), out.text
                )
            except ex.ExpressionError as exc:
                raise StepError(
                    f"output {out.name!r}: {exc}",
                    where=out.where,
                    step=ctx.step_name,
                    fix="check the valueFrom expression against what the step returns",
                    reason="OutputError",
                ) from None
        return own(**{k: values.get(k) for k in [*base_fields, *(c.field for c in plan.outputs)]})

    return StepDefinition(
        definition.name,
        params_cls,
        WrappedRun(run, plans, per_step, definition),
        outputs_cls,
        definition.description,
        definition.where,
    )


@attrs.frozen(eq=False)
class WrappedRun:
    """The wrapped step's function, and what its uses' inputs set: so ``diff`` can render a
    component with the properties a deploy gives it (see :meth:`component_params`)."""

    run: Callable[[Any, StepContext], Any]
    plans: Mapping[str, StepPlan]
    #: Each step's outputs class (the type's outputs and the step's computed ones).
    outputs: Mapping[str, type[Any]]
    #: The definition it wraps (the catalogue's).
    base: StepDefinition[Any, Any, Any]

    def __call__(self, params: Any, ctx: StepContext) -> Any:
        return self.run(params, ctx)

    def component_params(
        self, step: str, params: Any, outputs: Mapping[str, Mapping[str, Any]]
    ) -> tuple[str, Any] | None:
        """The component step ``step`` applies and its parameters with the inputs' values taken
        from ``outputs`` (steps' recorded outputs by step name); None when the step's inputs
        set no property, or an output they read is not in ``outputs``."""
        plan = self.plans.get(step)
        if plan is None or not plan.properties or plan.rebuild is None or plan.component is None:
            return None
        values: list[tuple[PropertyInput, Any]] = []
        for i in plan.properties:
            ref = getattr(params, i.field, None)
            if not isinstance(ref, Ref) or ref.field not in (outputs.get(ref.step) or {}):
                return None
            values.append((i, outputs[ref.step][ref.field]))
        return plan.component, plan.rebuild(values)


def extended_params(params: Any, fields: list[str]) -> Any:
    """``params`` (a parameter class) with optional fields that hold input references."""
    if not fields:
        return params
    extra = {name: attrs.field(default=None, kw_only=True, type=Any) for name in fields}
    cls = attrs.make_class(params.__name__, extra, bases=(params,), frozen=True, kw_only=True)
    cls.__doc__ = params.__doc__
    return cls


def _label(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _lookup(scope: Mapping[str, Any], path: ex.Path, *, text: str) -> Any:
    if path.root not in scope:
        raise ex.ExpressionError(text, f"{path.root!r} is not known here (known: {', '.join(scope)})")
    segments = path.segments
    if path.root in ("output", "outputs") and segments[:1] == ("$returns",):
        segments = segments[1:]  # KubeVela v1.10's steps return their values under $returns
    return ex.walk(scope[path.root], segments, path.root, text)
