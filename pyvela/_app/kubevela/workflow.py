"""A KubeVela Application's ``workflow``: steps, step groups, inputs and outputs, ``if`` and
``timeout``, into a :class:`~pyvela._app.application.Workflow` (and the catalogue whose step
definitions with computed outputs are wrapped)."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.application import Workflow
from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela import dataflow, props
from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.fields import items, keys, lookup, string
from pyvela._app.kubevela.flow import (
    ComponentInfo,
    Flow,
    check_property_types,
    collect_outputs,
    collect_property_inputs,
    merge_component_io,
    parse_expression,
    step_inputs,
)
from pyvela._app.kubevela.marked import Node
from pyvela._app.kubevela.stepwrap import wrap
from pyvela._core.params import param_fields
from pyvela._core.steps import StepDefinition, StepGroup, StepUse
from pyvela.errors import AppError, DanglingReferenceError, Location

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


def _mode(node: Node | None, default: str, what: str) -> Any:
    if node is None:
        return default
    if node.value not in _MODES:
        raise AppError(
            f"{what} must be StepByStep or DAG",
            where=node.where,
            expected=" or ".join(_MODES),
            got=repr(node.value),
            fix="DAG (only dependsOn orders the steps) or StepByStep (one after the other)",
        )
    return node.value


def build_workflow(
    wf: Node, catalogue: Catalogue, app: str, namespace: str, components: Mapping[str, ComponentInfo]
) -> tuple[Workflow, Catalogue, dict[str, Any]]:
    """The workflow, the catalogue (step definitions wrapped for the YAML's data flow), and
    what the app's spec adds (that data flow)."""
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
    nodes = merge_component_io(items(wf.get("steps"), "workflow.steps"), components)
    # Outputs first: an input may name an output of any step (the graph orders them).
    flow = Flow()
    flat = [(s, None) for s in nodes] + [
        (sub, s) for s in nodes for sub in items(s.get("subSteps"), "subSteps")
    ]
    defs: dict[str, StepDefinition[Any, Any, Any]] = {}
    seen: dict[str, Node] = {}
    for s, _parent in flat:
        keys(s, _STEP_KEYS, "a workflow step", step=s.value.get("name") if s.is_map else None)
        step = string(s.get("name"), "a step's name", s.where)
        if step in seen:  # steps (and groups) are told apart by name: outputs, status.<step>, the graph
            raise AppError(
                f"two workflow steps are named {step!r}",
                where=s.key_where("name"),
                step=step,
                got=f"first at {seen[step].key_where('name')}",
                fix="rename one of them",
            )
        seen[step] = s
        if s.value.get("type") == "step-group":
            continue
        definition = lookup(catalogue, "step", s.get("type"), s.where, step=step)
        defs[step] = definition
        collect_outputs(s, step, definition, flow)
    for s, _parent in flat:
        if s.value.get("type") != "step-group":
            step = str(s.value["name"])
            collect_property_inputs(s, step, defs[step], flow, components)
    # What an `if` may ask status.<step> about: the runner tracks steps, not step groups.
    step_names = {str(s.value.get("name")) for s, _ in flat if s.value.get("type") != "step-group"}
    if flow.plans:
        wrapped = {t: wrap(catalogue.get("step", t), plans) for t, plans in flow.plans.items()}  # type: ignore[arg-type]
        catalogue = attrs.evolve(
            catalogue, definitions={**catalogue.definitions, **{("step", t): d for t, d in wrapped.items()}}
        )
        defs = {n: wrapped.get(d.name, d) for n, d in defs.items()}
    built: list[StepUse[Any, Any] | StepGroup] = []
    for s in nodes:
        step = str(s.value["name"])
        if s.value.get("type") == "step-group":
            subs = [
                _step(sub, defs[str(sub.value["name"])], flow, step_names, app, namespace, components)
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
            common = _common(s, step, flow, step_names, app, namespace, {})
            built.append(StepGroup(name=step, steps=subs, mode=group_mode, where=s.where, **common))
        else:
            if s.get("subSteps") is not None:
                raise AppError("only a step-group has subSteps", where=s.key_where("subSteps"), step=step)
            built.append(_step(s, defs[step], flow, step_names, app, namespace, components))
    return Workflow(steps=built, mode=steps_mode), catalogue, flow.spec()


_PLACEHOLDERS: Mapping[Any, Any] = {str: "", int: 0, float: 0.0, bool: False}


def _placeheld(cls: Any, node: Node | None, own: tuple[dataflow.PropertyInput, ...]) -> Node | None:
    """The step's properties with a placeholder where only an input sets a required scalar
    inside a parameter the YAML writes (``slack.message.text``): without it the properties
    are refused when the app loads; the input's value replaces it before the step runs."""
    for pi in own:
        leaf = _leaf_type(cls, pi.path)
        if node is None or node.get(pi.path[0]) is None or _holds(node, pi.path):
            continue
        if leaf in _PLACEHOLDERS:
            try:
                node = node.set_path(pi.path, Node.of(_PLACEHOLDERS[leaf], pi.where))
            except ValueError:
                continue  # through a scalar: the properties' own error says so
    return node


def _holds(node: Node, path: tuple[str | int, ...]) -> bool:
    here: Node | None = node
    for seg in path:
        if here is None or not here.is_map or not isinstance(seg, str):
            return here is not None and not isinstance(seg, str)  # a list item: left as written
        here = here.get(seg)
    return here is not None


def _leaf_type(cls: Any, path: tuple[str | int, ...]) -> Any:
    tp = cls
    for seg in path:
        tp = _unwrap(tp)
        if not attrs.has(tp):
            return None
        fields = param_fields(tp)
        name = props.field_for(seg, fields)
        if name is None:
            return None
        tp = fields[name][0]
    return _unwrap(tp)


def _unwrap(tp: Any) -> Any:
    """``X`` of ``X | None`` and of ``Annotated[X, ...]``."""
    if typing.get_origin(tp) is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return _unwrap(args[0]) if len(args) == 1 and type(None) in typing.get_args(tp) else tp


def _common(
    s: Node,
    step: str,
    flow: Flow,
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
                fix="write it with Go's units (ns, us, ms, s, m, h), e.g. timeout: 1m or timeout: 1h30m",
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
    expr = parse_expression(text, where, step=step)
    for path in ex.paths(expr):
        problem = None
        if path.root == "status":
            if len(path.segments) < 2 or path.segments[1] not in dataflow.STATUS_FIELDS:
                problem = "status.<step>.phase, .failed, .skipped, .succeeded or .timeout"
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
    flow: Flow,
    step_names: set[str],
    app: str,
    namespace: str,
    components: Mapping[str, ComponentInfo],
) -> StepUse[Any, Any]:
    step = str(s.value["name"])
    inputs, refs = step_inputs(s, step, flow)
    plan = flow.plan(definition.name, step)
    to_properties = {pi.key: pi.field for pi in (*plan.properties, *plan.own)}
    fields = param_fields(definition.params)  # type: ignore[arg-type]
    extra: dict[str, Any] = {}  # references, and empty mappings inputs fill
    for key, ref in refs:
        field = to_properties.get(key) or props.field_for(key, fields)
        assert field is not None  # collect_property_inputs refused the rest
        extra[field] = ref
    check_property_types(plan, extra, components, step)
    written = s.get("properties")
    present = {props.field_for(k, fields) for k in written.keys()} if written and written.is_map else set()  # noqa: SIM118
    for (
        pi
    ) in plan.own:  # a mapping only inputs fill (data.serverStatus without data): built when the step runs
        first = props.field_for(pi.path[0], fields)
        if first is not None and first not in present and props.is_mapping(fields[first][0]):
            extra.setdefault(first, {})
    params = props.build(
        definition.params,
        _placeheld(definition.params, s.get("properties"), plan.own),
        where=s.where,
        extra=extra,
        step=step,
        definition=definition.name,
    )
    if s.get("mode") is not None:
        raise AppError("mode orders the subSteps of a step-group only", where=s.key_where("mode"), step=step)
    common = _common(s, step, flow, step_names, app, namespace, inputs)
    # An input only an `if` reads is no parameter reference, yet its producer must run first.
    producers = tuple(p for p, _field in inputs.values() if p not in common["dependencies"] and p != step)
    common["dependencies"] += tuple(dict.fromkeys(producers))
    return StepUse(name=step, definition=definition, params=params, where=s.where, **common)
