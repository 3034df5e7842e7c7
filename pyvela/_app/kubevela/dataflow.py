"""What KubeVela's workflow expressions become: step outputs computed by ``valueFrom``, and
``if`` conditions over the workflow so far.

An output whose ``valueFrom`` (or older ``exportKey``) names one field of the step's outputs
class is a plain reference to that field. Any other expression is computed when the step
has finished: the step's definition is wrapped (once per app and step type) so its outputs
class also holds those values, and later steps' inputs refer to them like any output.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.kubevela import expressions as ex
from pyvela._core.actions import StepContext
from pyvela._core.steps import StepDefinition, WorkflowView
from pyvela.errors import Location, StepError

#: What each root of an ``if`` expression may read below ``status.<step>``.
STATUS_FIELDS = ("phase", "succeeded", "timeout")


@attrs.frozen
class ComputedOutput:
    name: str  # the output's name, as the YAML gives it
    field: str  # its field in the wrapped outputs class
    expr: ex.Expr
    text: str
    where: Location


def output_field(name: str) -> str:
    """The outputs-class field an output named ``name`` is kept in."""
    text = re.sub(r"\W", "_", name)
    return "kv_" + text


def wrap(
    definition: StepDefinition[Any, Any, Any], computed: Mapping[str, list[ComputedOutput]]
) -> StepDefinition[Any, Any, Any]:
    """``definition`` whose outputs also hold the computed outputs of the steps ``computed`` names."""
    base = definition.outputs_type
    base_fields = [f.name for f in attrs.fields(base)] if base is not None else []
    extra = {c.field: attrs.field(default=None) for outs in computed.values() for c in outs}
    fields = {name: attrs.field() for name in base_fields}
    fields.update(extra)
    label = base.__name__ if base is not None else "".join(p.capitalize() for p in definition.name.split("-"))
    cls = attrs.make_class(label + "WithKubeVelaOutputs", fields, frozen=True, kw_only=True)
    inner = definition.run

    async def run(params: Any, ctx: StepContext) -> Any:
        result = await inner(params, ctx)
        values = {name: getattr(result, name) for name in base_fields} if result is not None else {}
        scope = {
            "output": values,
            "outputs": values,
            "context": {"name": ctx.app_name, "namespace": ctx.namespace},
        }
        for out in computed.get(ctx.step_name, ()):
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
        return cls(**{k: values.get(k) for k in fields})

    return StepDefinition(
        definition.name, definition.params, run, cls, definition.description, definition.where
    )


def _lookup(scope: Mapping[str, Any], path: ex.Path, *, text: str) -> Any:
    if path.root not in scope:
        raise ex.ExpressionError(text, f"{path.root!r} is not known here (known: {', '.join(scope)})")
    return ex.walk(scope[path.root], path.segments, path.root, text)


@attrs.frozen(eq=False)
class Condition:
    """A step's ``if``: decided by the engine once the step's dependencies are done.

    Attributes:
        inputs: Input name -> (the step that produces it, its field in that step's outputs).
    """

    text: str
    expr: ex.Expr
    inputs: Mapping[str, tuple[str, str]]
    app: str
    namespace: str
    where: Location | None = None

    def __call__(self, view: WorkflowView) -> bool:
        try:
            value = ex.evaluate(self.expr, lambda p: self._lookup(view, p), self.text)
            if not isinstance(value, bool):
                raise ex.ExpressionError(self.text, f"an if must be a bool, got {value!r:.40}")
        except ex.ExpressionError as exc:
            # The engine reports what a condition raised: say which line of the YAML it was.
            raise ex.ExpressionError(
                exc.expression, f"{self.where}: {exc.problem}" if self.where else exc.problem
            ) from None
        return value

    def _lookup(self, view: WorkflowView, path: ex.Path) -> Any:
        if path.root == "context":
            return ex.walk(
                {"name": self.app, "namespace": self.namespace}, path.segments, "context", self.text
            )
        if path.root == "status":
            step, attr = path.segments[0], path.segments[1]
            phase = view.phase(str(step))
            value: Any = {
                "phase": phase,
                "succeeded": phase == "succeeded",
                "timeout": view.timed_out(str(step)),
            }[str(attr)]
            return ex.walk(value, path.segments[2:], f"status.{step}.{attr}", self.text)
        name = str(path.segments[0])
        producer, field = self.inputs[name]
        outputs = view.outputs.get(producer) or {}
        if field not in outputs:
            raise ex.ExpressionError(
                self.text, f"inputs.{name} is not there yet (step {producer!r} has not produced it)"
            )
        return ex.walk(outputs[field], path.segments[1:], f"inputs.{name}", self.text)

    def __repr__(self) -> str:
        return f"if {self.text}"


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(text: str) -> float | None:
    """Seconds in a Go duration (``90s``, ``10m``, ``1h30m``); None when it is not one."""
    text = text.strip()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and pos > 0 else None
