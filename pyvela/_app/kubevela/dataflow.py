"""What KubeVela's workflow data flow becomes: outputs computed by ``valueFrom`` (see
``stepwrap``), inputs that set a component's properties, and ``if`` conditions over the
workflow so far; and KubeVela's durations.

An output whose ``valueFrom`` (or older ``exportKey``) names one field of the step's outputs
class is a plain reference to that field; any other expression is a :class:`ComputedOutput`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.kubevela import expressions as ex
from pyvela._core.durations import parse_duration
from pyvela._core.steps import WorkflowView
from pyvela.errors import Location

#: What each root of an ``if`` expression may read below ``status.<step>``.
STATUS_FIELDS = ("phase", "succeeded", "failed", "skipped", "timeout")


@attrs.frozen
class ComputedOutput:
    name: str  # the output's name, as the YAML gives it
    field: str  # its field in the wrapped outputs class
    expr: ex.Expr
    text: str
    where: Location


@attrs.frozen
class PropertyInput:
    """An input whose ``parameterKey`` is a property of the component the step applies."""

    key: str  # the parameterKey as written
    path: tuple[str | int, ...]  # into the component's properties ("properties." dropped)
    field: str  # the step's parameter (added by the wrapper) that holds the reference
    where: Location


def output_field(name: str) -> str:
    """The outputs-class field an output named ``name`` is kept in."""
    text = re.sub(r"\W", "_", name)
    return "kv_" + text


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
                "failed": phase == "failed",
                "skipped": phase == "skipped",
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


def duration(text: str) -> float | None:
    """Seconds in a Go duration (``90s``, ``10m``, ``1h30m``); None when it is not one."""
    try:
        return parse_duration(text)
    except ValueError:
        return None
