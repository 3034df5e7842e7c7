"""KubeVela's data flow in the app module ``pyvela convert`` writes: references to step
outputs (a computed one is a field of its ``kubevela_step``'s outputs; one no step holds is
passed as the plain field it is made from, with a TODO), and ``if``
conditions as ``.when`` predicates over the :class:`~pyvela.WorkflowView`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.dataflow import output_field
from pyvela._app.kubevela.props import field_for


def resolve(
    consumer: dict[str, Any],
    variables: Mapping[str, tuple[str, set[str]]],
    flow: Mapping[str, Any],
    todos: list[str],
) -> str:
    return re.sub(
        r"\{ref:([^}]*)\}\.outputs\.(\w+)",
        lambda m: _reference(m.group(1), m.group(2), consumer, variables, flow, todos),
        str(consumer["call"]),
    )


def _reference(
    step: str,
    field: str,
    consumer: dict[str, Any],
    variables: Mapping[str, tuple[str, set[str]]],
    flow: Mapping[str, Any],
    todos: list[str],
) -> str:
    """``<var>.outputs.<field>``; for an output the YAML computes, the plain field it is
    computed from, with a TODO at the consuming step saying what was computed."""
    var, fields = variables[step]
    if field in fields:
        return f"{var}.outputs.{field}"
    computed = {output_field(n): (n, t) for n, t in ((flow.get(step) or {}).get("outputs") or {}).items()}
    name, text = computed.get(field, (field, "?"))
    source = None
    try:
        for path in ex.paths(ex.parse(text)):
            segments = path.segments[1:] if path.segments[:1] == ("$returns",) else path.segments
            if path.root in ("output", "outputs") and segments:
                source = field_for(segments[0], {f: None for f in fields})
                if source is not None:
                    break
    except ex.ExpressionError:
        source = None
    if source is None:
        note = (
            f"step {consumer['var']!r} reads output {name!r} of step {step!r}, computed in KubeVela as "
            f"`{text}`, which no output field of the Python definition holds: add it there (this line "
            "does not type-check until then)"
        )
        consumer["todos"].append(note)
        todos.append(note)
        return f"{var}.outputs.{field}"
    note = (
        f"step {consumer['var']!r} reads output {name!r} of step {step!r}, computed in KubeVela as "
        f"`{text}`: {var}.outputs.{source} is passed unchanged; compute the rest in the step definition"
    )
    consumer["todos"].append(note)
    todos.append(note)
    return f"{var}.outputs.{source}"


_OPS = {"&&": "and", "||": "or", "==": "==", "!=": "!=", "<": "<", ">": ">", "+": "+"}
_STATUS = {
    "phase": "view.phase({step!r})",
    "succeeded": "view.succeeded({step!r})",
    "timeout": "view.timed_out({step!r})",
    "failed": "view.phase({step!r}) == 'failed'",
    "skipped": "view.phase({step!r}) == 'skipped'",
}


_OPS = {"&&": "and", "||": "or", "==": "==", "!=": "!=", "<": "<", ">": ">", "+": "+"}
_STATUS = {
    "phase": "view.phase({step!r})",
    "succeeded": "view.succeeded({step!r})",
    "timeout": "view.timed_out({step!r})",
    "failed": "view.phase({step!r}) == 'failed'",
    "skipped": "view.phase({step!r}) == 'skipped'",
}


def predicate(condition: Any) -> str | None:
    """A KubeVela ``if`` (the loader's condition) as a Python expression over ``view``, or
    None for what has no plain spelling (function calls, paths into a status)."""
    expr = getattr(condition, "expr", None)
    if expr is None:
        return None

    def show(e: Any) -> str | None:
        if isinstance(e, ex.Lit):
            return repr(e.value)
        if isinstance(e, ex.Not):
            inner = show(e.operand)
            return None if inner is None else f"not ({inner})"
        if isinstance(e, ex.Bin):
            left, right = show(e.left), show(e.right)
            return None if left is None or right is None else f"({left} {_OPS[e.op]} {right})"
        if isinstance(e, ex.Path) and e.root == "context" and e.segments in (("name",), ("namespace",)):
            # The module's ``app``: defined by the time the workflow runs the condition.
            return "app.name" if e.segments == ("name",) else "app.namespace"
        if (
            isinstance(e, ex.Path)
            and e.root == "status"
            and len(e.segments) == 2
            and e.segments[1] in _STATUS
        ):
            return _STATUS[str(e.segments[1])].format(step=str(e.segments[0]))
        if isinstance(e, ex.Call):
            return _call(e, show)
        inputs = getattr(condition, "inputs", {})
        if isinstance(e, ex.Path) and e.root == "inputs" and e.segments and e.segments[0] in inputs:
            producer, field = inputs[e.segments[0]]
            # A typed reference, resolved to the producer's variable with the other references.
            ref = f"view.output({{ref:{producer}}}.outputs.{field})"
            return ref + "".join(f"[{seg!r}]" for seg in e.segments[1:])
        return None

    text = show(expr)
    if text is None:
        return None
    return text[1:-1] if text.startswith("(") and text.endswith(")") and isinstance(expr, ex.Bin) else text


def _call(e: ex.Call, show: Any) -> str | None:
    """``strconv``'s functions as Python's: ``Itoa`` and ``FormatInt(x, 10)`` are ``str``,
    ``Atoi`` is ``int`` (another base has no builtin spelling: None)."""
    args = [show(a) for a in e.args]
    if any(a is None for a in args):
        return None
    if e.func == "strconv.Itoa" or (e.func == "strconv.FormatInt" and e.args[1] == ex.Lit(10)):
        return f"str({args[0]})"
    if e.func == "strconv.Atoi":
        return f"int({args[0]})"
    return None
