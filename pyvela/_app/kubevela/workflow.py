"""A KubeVela Application's ``workflow``: steps, step groups, inputs and outputs, ``if`` and
``timeout``, into a :class:`~pyvela._app.application.Workflow` (and the catalogue whose step
definitions with computed outputs are wrapped)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.application import Workflow
from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela import dataflow, props
from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.fields import items, keys, lookup, string
from pyvela._app.kubevela.marked import Node
from pyvela._core.params import Ref, param_fields
from pyvela._core.steps import StepDefinition, StepGroup, StepUse
from pyvela.errors import AppError, DanglingReferenceError, Location, ParameterError

_STEP_KEYS = (
    "name",
    "type",
    "properties",
    "dependsOn",
    "inputs",
    "outputs",
    "if",
    "timeout",
    "meta",
    "mode",
    "subSteps",
)
_MODES = ("StepByStep", "DAG")


@attrs.define
class _Outputs:
    """Every step output of the workflow by name: who produces it, and as which field."""

    producers: dict[str, tuple[str, str, Any, Location]] = attrs.Factory(
        dict
    )  # name -> step, field, type, where
    computed: dict[str, dict[str, list[dataflow.ComputedOutput]]] = attrs.Factory(
        dict
    )  # type -> step -> outputs


def _mode(node: Node | None, default: str, what: str) -> Any:
    if node is None:
        return default
    if node.value not in _MODES:
        raise AppError(
            f"{what} must be StepByStep or DAG",
            where=node.where,
            expected=" or ".join(_MODES),
            got=repr(node.value),
        )
    return node.value


def build_workflow(
    wf: Node, catalogue: Catalogue, app: str, namespace: str
) -> tuple[Workflow, Catalogue, dict[str, dict[str, str]]]:
    keys(wf, ("steps", "mode", "ref"), "workflow")
    if wf.get("ref") is not None:
        raise AppError(
            "workflow.ref (an external Workflow object) is not supported",
            where=wf.key_where("ref"),
            fix="write the steps under workflow.steps",
        )
    mode_node = wf.get("mode")
    if mode_node is not None:
        keys(mode_node, ("steps", "subSteps"), "workflow.mode")
    steps_mode = _mode(mode_node.get("steps") if mode_node else None, "StepByStep", "workflow.mode.steps")
    sub_mode = _mode(mode_node.get("subSteps") if mode_node else None, "DAG", "workflow.mode.subSteps")
    nodes = items(wf.get("steps"), "workflow.steps")
    # Outputs first: an input may name an output of any step (the graph orders them).
    outs = _Outputs()
    flat = [(s, None) for s in nodes] + [
        (sub, s) for s in nodes for sub in items(s.get("subSteps"), "subSteps")
    ]
    defs: dict[str, StepDefinition[Any, Any, Any]] = {}
    for s, _parent in flat:
        keys(s, _STEP_KEYS, "a workflow step", step=s.value.get("name") if s.is_map else None)
        step = string(s.get("name"), "a step's name", s.where)
        if s.value.get("type") == "step-group":
            continue
        definition = lookup(catalogue, "step", s.get("type"), s.where, step=step)
        defs[step] = definition
        _outputs(s, step, definition, outs)
    # What an `if` may ask status.<step> about: the runner tracks steps, not step groups.
    step_names = {str(s.value.get("name")) for s, _ in flat if s.value.get("type") != "step-group"}
    if outs.computed:
        wrapped = {t: dataflow.wrap(catalogue.get("step", t), c) for t, c in outs.computed.items()}  # type: ignore[arg-type]
        catalogue = attrs.evolve(
            catalogue, definitions={**catalogue.definitions, **{("step", t): d for t, d in wrapped.items()}}
        )
        defs = {n: wrapped.get(d.name, d) for n, d in defs.items()}
    built: list[StepUse[Any, Any] | StepGroup] = []
    for s in nodes:
        step = str(s.value["name"])
        if s.value.get("type") == "step-group":
            subs = [
                _step(sub, defs[str(sub.value["name"])], outs, step_names, app, namespace)
                for sub in items(s.get("subSteps"), "subSteps")
            ]
            if s.get("properties") is not None or s.get("inputs") is not None or s.get("outputs") is not None:
                raise AppError(
                    "a step-group takes no properties, inputs or outputs",
                    where=s.where,
                    step=step,
                    fix="put them on its subSteps",
                )
            group_mode = _mode(s.get("mode"), sub_mode, "a step-group's mode")
            common = _common(s, step, outs, step_names, app, namespace, {})
            built.append(StepGroup(name=step, steps=subs, mode=group_mode, where=s.where, **common))
        else:
            if s.get("subSteps") is not None:
                raise AppError("only a step-group has subSteps", where=s.key_where("subSteps"), step=step)
            built.append(_step(s, defs[step], outs, step_names, app, namespace))
    # The computed outputs' expressions, for the app's spec: a changed valueFrom is a new revision.
    expressions = {
        step: {c.name: c.text for c in outputs}
        for per_type in outs.computed.values()
        for step, outputs in per_type.items()
    }
    return Workflow(steps=built, mode=steps_mode), catalogue, expressions


def _outputs(s: Node, step: str, definition: StepDefinition[Any, Any, Any], outs: _Outputs) -> None:
    fields = param_fields(definition.outputs_type) if definition.outputs_type is not None else {}
    for o in items(s.get("outputs"), "outputs", step=step):
        keys(o, ("name", "valueFrom", "exportKey"), "an output", step=step)
        name = string(o.get("name"), "an output's name", o.where, step=step)
        if name in outs.producers:
            raise AppError(
                f"two steps export an output named {name!r}",
                where=o.where,
                step=step,
                got=f"also exported at {outs.producers[name][3]}",
                fix="rename one of them",
            )
        source = o.get("valueFrom") or o.get("exportKey") or o
        text = string(source if source is not o else None, "valueFrom (or exportKey)", o.where, step=step)
        if o.get("valueFrom") is None:
            text = "outputs." + text  # exportKey: a path into the step's outputs
        expr = _parse(text, source.where, step=step)
        bad = ex.roots(expr) - {"output", "outputs", "context"}
        if bad:
            raise AppError(
                f"valueFrom reads {', '.join(sorted(bad))}, which a step's output cannot",
                where=source.where,
                step=step,
                expected="paths under output, outputs or context",
                got=text,
            )
        if (
            isinstance(expr, ex.Path)
            and expr.root != "context"
            and len(expr.segments) == 1
            and props.field_for(expr.segments[0], fields)
        ):
            field = props.field_for(expr.segments[0], fields)
            assert field is not None
            outs.producers[name] = (step, field, fields[field][0], o.where)
            continue
        if (
            isinstance(expr, ex.Path)
            and expr.root != "context"
            and not (expr.segments and props.field_for(expr.segments[0], fields))
        ):
            known = ", ".join(props.camel(f) for f in fields) or "none: it returns nothing"
            raise AppError(
                f"output {name!r} reads {text!r}, but step type {definition.name!r} has no such output",
                where=source.where,
                step=step,
                expected=f"one of its outputs: {known}",
                got=text,
            )
        field = dataflow.output_field(name)
        outs.producers[name] = (step, field, Any, o.where)
        outs.computed.setdefault(definition.name, {}).setdefault(step, []).append(
            dataflow.ComputedOutput(name, field, expr, text, source.where)
        )


def _parse(text: str, where: Location, **context: Any) -> ex.Expr:
    try:
        return ex.parse(text)
    except ex.ExpressionError as exc:
        raise AppError(
            f"unsupported KubeVela expression {text!r}: {exc.problem}",
            where=where,
            expected="the subset pyvela evaluates: " + ex.SUPPORTED,
            got=text,
            fix="rewrite it in that subset, or compute the value in a Python step",
            **context,
        ) from None


def _inputs(s: Node, step: str, outs: _Outputs) -> tuple[dict[str, tuple[str, str]], dict[str, Ref]]:
    by_name: dict[str, tuple[str, str]] = {}
    refs: dict[str, Ref] = {}
    for i in items(s.get("inputs"), "inputs", step=step):
        keys(i, ("from", "parameterKey"), "an input", step=step)
        source = string(i.get("from"), "an input's from", i.where, step=step)
        if source not in outs.producers:
            raise DanglingReferenceError(
                f"input from {source!r}: no step has an output of that name",
                where=i.key_where("from"),
                step=step,
                expected="one of " + (", ".join(sorted(outs.producers)) or "none (no step declares outputs)"),
                got=repr(source),
                fix="add `outputs: [{name: " + source + ", valueFrom: ...}]` to the step that produces it",
            )
        producer, field, tp, _where = outs.producers[source]
        by_name[source] = (producer, field)
        key = i.get("parameterKey")
        if key is not None:
            refs[string(key, "parameterKey", i.where, step=step)] = Ref(producer, field, tp, key.where)
    return by_name, refs


def _common(
    s: Node,
    step: str,
    outs: _Outputs,
    step_names: set[str],
    app: str,
    namespace: str,
    inputs: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    deps = items(s.get("dependsOn"), "dependsOn", step=step)
    out["dependencies"] = tuple(string(d, "dependsOn item", d.where, step=step) for d in deps)
    timeout = s.get("timeout")
    if timeout is not None:
        seconds = dataflow.duration(str(timeout.value))
        if seconds is None or seconds <= 0:
            raise AppError(
                "timeout is not a duration",
                where=timeout.where,
                step=step,
                expected="a Go duration such as 30s, 10m or 1h30m",
                got=repr(timeout.value),
            )
        out["timeout"] = seconds
    cond = s.get("if")
    if cond is not None:
        text = string(cond, "if", s.where, step=step)
        out["condition"] = (
            "always"
            if text.strip() == "always"
            else _condition(text, cond.where, step, step_names, app, namespace, inputs)
        )
    meta = s.get("meta")
    if meta is not None:
        keys(meta, ("alias",), "meta", step=step)
    return out


def _condition(
    text: str,
    where: Location,
    step: str,
    step_names: set[str],
    app: str,
    namespace: str,
    inputs: Mapping[str, tuple[str, str]],
) -> dataflow.Condition:
    expr = _parse(text, where, step=step)
    for path in ex.paths(expr):
        problem = None
        if path.root == "status":
            if len(path.segments) < 2 or path.segments[1] not in dataflow.STATUS_FIELDS:
                problem = "status.<step>.phase, .succeeded or .timeout"
            elif path.segments[0] not in step_names:
                raise DanglingReferenceError(
                    f"if {text!r} asks about unknown step {path.segments[0]!r}",
                    where=where,
                    step=step,
                    expected="one of " + ", ".join(sorted(step_names)),
                    got=repr(path.segments[0]),
                    fix="name a step (a step group's status is its steps': ask about one of them)",
                )
        elif path.root == "inputs":
            if not path.segments or path.segments[0] not in inputs:
                problem = (
                    "inputs.<name> of an input this step declares ("
                    + (", ".join(inputs) or "it declares none")
                    + ")"
                )
        elif path.root == "context":
            if len(path.segments) != 1 or path.segments[0] not in ("name", "namespace"):
                problem = "context.name or context.namespace"
        else:
            problem = "paths under status, inputs or context"
        if problem:
            raise AppError(
                f"if {text!r} reads {ex.show(path)!r}",
                where=where,
                step=step,
                expected=problem,
                got=ex.show(path),
            )
    return dataflow.Condition(text, expr, dict(inputs), app, namespace, where)


def _step(
    s: Node,
    definition: StepDefinition[Any, Any, Any],
    outs: _Outputs,
    step_names: set[str],
    app: str,
    namespace: str,
) -> StepUse[Any, Any]:
    step = str(s.value["name"])
    inputs, refs = _inputs(s, step, outs)
    fields = param_fields(definition.params)  # type: ignore[arg-type]
    extra: dict[str, Ref] = {}
    for key, ref in refs.items():
        field = props.field_for(key, fields)
        if field is None:
            raise ParameterError(
                f"parameterKey {key!r} is not a property of step type {definition.name!r}",
                where=ref.where,
                step=step,
                parameter=key,
                expected="one of " + ", ".join(props.camel(f) for f in fields),
                got=repr(key),
            )
        extra[field] = ref
    params = props.build(
        definition.params,
        s.get("properties"),
        where=s.where,
        extra=extra,
        step=step,
        definition=definition.name,
    )
    if s.get("mode") is not None:
        raise AppError("mode orders the subSteps of a step-group only", where=s.key_where("mode"), step=step)
    common = _common(s, step, outs, step_names, app, namespace, inputs)
    # An input only an `if` reads is no parameter reference, yet its producer must run first.
    producers = tuple(p for p, _field in inputs.values() if p not in common["dependencies"] and p != step)
    common["dependencies"] += tuple(dict.fromkeys(producers))
    return StepUse(name=step, definition=definition, params=params, where=s.where, **common)
