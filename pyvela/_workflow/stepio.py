"""A step's inputs (references to other steps' outputs, type-checked) and its outputs."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.application import PlannedStep
from pyvela._core.params import Ref, check_value, param_fields, type_name
from pyvela.errors import StepError


def resolve_inputs(
    name: str, planned: PlannedStep, steps: Mapping[str, Mapping[str, Any]], lock: threading.RLock
) -> Any:
    """The step's parameters with each ``Ref`` replaced by the output it names."""
    params = planned.use.params
    updates = {}
    types = param_fields(type(params))
    for field in attrs.fields(type(params)):
        ref = getattr(params, field.name)
        if not isinstance(ref, Ref):
            continue
        with lock:
            outputs = steps[ref.step].get("outputs") or {}
        if ref.field not in outputs:
            raise StepError(
                f"input {field.name!r} refers to {ref}, which step {ref.step!r} did not produce",
                where=planned.use.where,
                step=name,
                parameter=field.name,
                reason="InputMissing",
            )
        value = outputs[ref.field]
        tp = types[field.alias or field.name][0]
        if not check_value(value, tp):
            raise StepError(
                f"input {field.name!r} from {ref} has the wrong type",
                where=planned.use.where,
                step=name,
                parameter=field.name,
                expected=type_name(tp),
                got=repr(value),
                reason="InputType",
            )
        updates[field.name] = value
    return attrs.evolve(params, **updates) if updates else params


def outputs_of(name: str, use: Any, result: Any) -> dict[str, Any]:
    """What the step returned, as the record keeps it; StepError when it is not its outputs type."""
    expected = use.definition.outputs_type
    if expected is None:
        return {}
    if not isinstance(result, expected):
        raise StepError(
            "step returned the wrong outputs",
            step=name,
            expected=expected.__qualname__,
            got=type(result).__name__,
            where=use.definition.where,
        )
    types = param_fields(expected)
    for f in attrs.fields(expected):
        field, tp = f.name, types[f.alias or f.name][0]
        value = getattr(result, field)  # attrs classes do not check types: a str in an int field
        if not check_value(value, tp):
            raise StepError(
                f"step returned output {field!r} of the wrong type",
                step=name,
                expected=type_name(tp),
                got=repr(value)[:80],
                where=use.definition.where,
                fix=f"return {expected.__qualname__}({field}=<a {type_name(tp)}>)",
                reason="OutputType",
            )
    data: dict[str, Any] = attrs.asdict(result)
    return data
