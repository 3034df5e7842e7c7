"""A KubeVela workflow's inputs and outputs: who produces each named output and as which
field, inputs that set a step's parameters or the properties of the component it applies,
and components' own ``inputs``/``outputs`` merged into the steps that apply them (as KubeVela
merges them into ``apply-component`` steps)."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.kubevela import dataflow, props
from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.fields import items, keys, string
from pyvela._app.kubevela.kube import parse_path
from pyvela._app.kubevela.marked import Node
from pyvela._app.kubevela.stepwrap import StepPlan
from pyvela._core.assignable import may_assign
from pyvela._core.definitions import ComponentUse
from pyvela._core.params import Ref, param_fields, type_name
from pyvela._core.steps import StepDefinition
from pyvela.errors import AppError, DanglingReferenceError, Location, ParameterError


@attrs.frozen
class ComponentInfo:
    """A component of the YAML app: its use, and its ``properties`` as written."""

    use: ComponentUse[Any]
    node: Node
    properties: Node | None


@attrs.define
class Flow:
    """The workflow's data flow, collected before any step is built."""

    #: output name -> (producing step, its field, the field's type, where the output is declared)
    producers: dict[str, tuple[str, str, Any, Location]] = attrs.Factory(dict)
    #: step type -> step -> what its YAML adds (computed outputs, property inputs)
    plans: dict[str, dict[str, StepPlan]] = attrs.Factory(dict)

    def plan(self, definition: str, step: str) -> StepPlan:
        return self.plans.get(definition, {}).get(step, StepPlan())

    def _set(self, definition: str, step: str, **changes: Any) -> None:
        per_type = self.plans.setdefault(definition, {})
        per_type[step] = attrs.evolve(per_type.get(step, StepPlan()), **changes)

    def spec(self) -> dict[str, Any]:
        """What the app's spec adds: a changed valueFrom or parameterKey is a new revision."""
        out: dict[str, Any] = {}
        for per_type in self.plans.values():
            for step, plan in per_type.items():
                entry = out.setdefault(step, {})
                if plan.outputs:
                    entry["outputs"] = {c.name: c.text for c in plan.outputs}
                if plan.properties or plan.own:
                    entry["properties"] = {i.key: i.field for i in (*plan.properties, *plan.own)}
        return out


_OUTPUT_ROOTS = ("output", "outputs", "context")


def parse_expression(text: str, where: Location, **context: Any) -> ex.Expr:
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


def collect_outputs(s: Node, step: str, definition: StepDefinition[Any, Any, Any], flow: Flow) -> None:
    fields = param_fields(definition.outputs_type) if definition.outputs_type is not None else {}
    computed: list[dataflow.ComputedOutput] = []
    for o in items(s.get("outputs"), "outputs", step=step):
        keys(o, ("name", "valueFrom", "exportKey"), "an output", step=step)
        name = string(o.get("name"), "an output's name", o.where, step=step)
        if name in flow.producers:
            raise AppError(
                f"two steps export an output named {name!r}",
                where=o.where,
                step=step,
                got=f"also exported at {flow.producers[name][3]}",
                fix="rename one of them",
            )
        source = o.get("valueFrom") or o.get("exportKey") or o
        text = string(source if source is not o else None, "valueFrom (or exportKey)", o.where, step=step)
        if o.get("valueFrom") is None:
            text = "outputs." + text  # exportKey: a path into the step's outputs
        expr = parse_expression(text, source.where, step=step)
        expr = ex.map_paths(expr, lambda p: _in_outputs(p, fields))
        bad = ex.roots(expr) - set(_OUTPUT_ROOTS)
        if bad:
            raise AppError(
                f"valueFrom reads {', '.join(sorted(bad))}, which a step's output cannot",
                where=source.where,
                step=step,
                expected="paths under output, outputs or context, or a field of the step's outputs ("
                + (", ".join(props.camel(f) for f in fields) or "it has none")
                + ")",
                got=text,
            )
        first = _first_field(expr, fields)
        if isinstance(expr, ex.Path) and first is not None and len(_returned(expr.segments)) == 1:
            flow.producers[name] = (step, first, fields[first][0], o.where)  # a plain reference
            continue
        if fields and isinstance(expr, ex.Path) and expr.root != "context" and first is None:
            raise AppError(
                f"output {name!r} reads {text!r}, but step type {definition.name!r} has no such output",
                where=source.where,
                step=step,
                expected="one of its outputs: " + ", ".join(props.camel(f) for f in fields),
                got=text,
            )
        field = dataflow.output_field(name)
        flow.producers[name] = (step, field, Any, o.where)
        computed.append(dataflow.ComputedOutput(name, field, expr, text, source.where))
    if computed:
        flow._set(definition.name, step, outputs=tuple(computed))


def _in_outputs(p: ex.Path, fields: Mapping[str, Any]) -> ex.Path:
    """A path of a step's template as the path into its outputs it reads."""
    if p.root in _OUTPUT_ROOTS:
        return p
    # A bare name is a field of the step, as KubeVela reads its template (valueFrom: clusterIP).
    if props.field_for(p.root, fields):
        return ex.Path("outputs", (p.root, *p.segments))
    # Steps that keep what they return under their template's `value` (collect-service-endpoints:
    # value.endpoint.host, value.url), when `value` is no output of the step itself.
    head = p.segments[0] if p.segments else None
    if p.root == "value" and isinstance(head, str) and props.field_for(head, fields):
        return ex.Path("outputs", p.segments)
    return p


def _first_field(expr: ex.Expr, fields: Mapping[str, Any]) -> str | None:
    if not isinstance(expr, ex.Path) or expr.root == "context" or not expr.segments:
        return None
    segments = _returned(expr.segments)
    return props.field_for(segments[0], fields) if segments else None


def _returned(segments: tuple[str | int, ...]) -> tuple[str | int, ...]:
    # KubeVela v1.10's steps return their values under $returns: a step's outputs here.
    return segments[1:] if segments[:1] == ("$returns",) else segments


def step_inputs(s: Node, step: str, flow: Flow) -> tuple[dict[str, tuple[str, str]], list[tuple[str, Ref]]]:
    """The step's inputs by ``from`` (producer step and field), and (parameterKey, reference) pairs."""
    by_name: dict[str, tuple[str, str]] = {}
    refs: list[tuple[str, Ref]] = []
    for i in items(s.get("inputs"), "inputs", step=step):
        keys(i, ("from", "parameterKey"), "an input", step=step)
        source = string(i.get("from"), "an input's from", i.where, step=step)
        if source not in flow.producers:
            raise DanglingReferenceError(
                f"input from {source!r}: no step has an output of that name",
                where=i.key_where("from"),
                step=step,
                expected="one of " + (", ".join(sorted(flow.producers)) or "none (no step declares outputs)"),
                got=repr(source),
                fix="add `outputs: [{name: " + source + ", valueFrom: ...}]` to the step that produces it",
            )
        producer, field, tp, _where = flow.producers[source]
        by_name[source] = (producer, field)
        key = i.get("parameterKey")
        if key is not None:
            refs.append(
                (string(key, "parameterKey", i.where, step=step), Ref(producer, field, tp, key.where))
            )
    return by_name, refs


def collect_property_inputs(
    s: Node,
    step: str,
    definition: StepDefinition[Any, Any, Any],
    flow: Flow,
    components: Mapping[str, ComponentInfo],
) -> None:
    """Inputs whose parameterKey is no parameter of the step but a property of the component it
    applies (``cpu``, ``properties.env[0].value``), as KubeVela's apply-component treats them."""
    own = param_fields(typing.cast(type[Any], definition.params))
    component = (s.value.get("properties") or {}).get("component") if s.is_map else None
    found: list[dataflow.PropertyInput] = []
    mine: list[dataflow.PropertyInput] = []
    for i in items(s.get("inputs"), "inputs", step=step):
        key_node = i.get("parameterKey") if i.is_map else None
        if key_node is None or not isinstance(key_node.value, str):
            continue
        key = key_node.value
        explicit = key.startswith("properties.")
        if not explicit and props.field_for(key, own) is not None:
            continue  # the step's own parameter
        nested = _own_path(key, own) if not explicit else None
        if nested is not None:  # inside one of the step's own parameters (data.serverstatus)
            mine.append(
                dataflow.PropertyInput(key, nested, f"kv_own_{_ident(step)}_{len(mine)}", key_node.where)
            )
            continue
        info = components.get(component) if isinstance(component, str) and "component" in own else None
        if info is None:
            raise ParameterError(
                f"parameterKey {key!r} is not a parameter of step type {definition.name!r}",
                where=key_node.where,
                step=step,
                parameter=key,
                expected="one of "
                + ", ".join(props.camel(f) for f in own)
                + " (or a property of the component the step applies, for a step with `component`)",
                got=repr(key),
            )
        found.append(_property_input(key, key_node.where, step, info, len(found)))
    if found:
        assert isinstance(component, str)
        info = components[component]
        flow._set(
            definition.name,
            step,
            properties=tuple(found),
            component=component,
            rebuild=lambda values: _rebuild(
                info.use.definition.params, info.properties, values, info.node.where, {}, component=component
            ),
        )
    if mine:
        firsts = {props.field_for(i.path[0], own) for i in mine}
        flow._set(
            definition.name,
            step,
            own=tuple(mine),
            rebuild_own=lambda params, values: _rebuild(
                definition.params,
                s.get("properties"),
                values,
                s.where,
                {f: getattr(params, f) for f in own if f not in firsts},  # resolved references kept
                step=step,
            ),
        )


def _own_path(key: str, own: Mapping[str, Any]) -> tuple[str | int, ...] | None:
    try:
        path = parse_path(key)
    except ValueError:
        return None
    if len(path) > 1 and isinstance(path[0], str) and props.field_for(path[0], own) is not None:
        return path
    return None


def _ident(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _property_input(
    key: str, where: Location, step: str, info: ComponentInfo, n: int
) -> dataflow.PropertyInput:
    if key.startswith("traits["):
        raise ParameterError(
            f"parameterKey {key!r} sets a trait's property, which pyvela does not support",
            where=where,
            step=step,
            fix="set a property of the component, or of the step",
        )
    try:
        path = parse_path(key.removeprefix("properties."))
    except ValueError as exc:
        raise ParameterError(str(exc), where=where, step=step, parameter=key) from None
    fields = param_fields(typing.cast(type[Any], info.use.definition.params))
    if not isinstance(path[0], str) or props.field_for(path[0], fields) is None:
        raise ParameterError(
            f"parameterKey {key!r} is not a property of component {info.use.name!r}",
            where=where,
            step=step,
            component=info.use.name,
            expected="one of " + ", ".join(props.camel(f) for f in fields),
            got=repr(path[0]),
            fix="name a property of the component, or a parameter of the step's type",
        )
    return dataflow.PropertyInput(key, path, f"kv_in_{_ident(step)}_{n}", where)


def check_property_types(
    plan: StepPlan, refs: Mapping[str, Ref], components: Mapping[str, ComponentInfo], step: str
) -> None:
    """A whole property set from an output of a certain other type is refused when the app loads."""
    if plan.component is None:
        return
    fields = param_fields(typing.cast(type[Any], components[plan.component].use.definition.params))
    for pi in plan.properties:
        ref = refs[pi.field]
        name = props.field_for(pi.path[0], fields)
        if len(pi.path) == 1 and name is not None and not may_assign(ref.type, fields[name][0]):
            raise ParameterError(
                f"parameterKey {pi.key!r} gets step output {ref} of the wrong type",
                where=pi.where,
                step=step,
                component=plan.component,
                parameter=pi.key,
                expected=type_name(fields[name][0]),
                got=type_name(ref.type),
            )


def _rebuild(
    cls: Any,
    properties: Node | None,
    values: list[tuple[dataflow.PropertyInput, Any]],
    where: Location,
    keep: Mapping[str, Any],
    **context: Any,
) -> Any:
    """``cls`` built from ``properties`` with each input's value at its path (and ``keep``)."""
    node = properties if properties is not None else Node({}, where.file, where.line)
    for pi, value in values:
        try:
            node = node.set_path(pi.path, Node.of(value, pi.where))
        except ValueError as exc:
            raise ParameterError(f"parameterKey {pi.key!r}: {exc}", where=pi.where, **context) from None
    return props.build(cls, node, where=where, extra=keep, **context)


def merge_component_io(nodes: list[Node], components: Mapping[str, ComponentInfo]) -> list[Node]:
    """Steps with the ``inputs``/``outputs`` of the components their ``apply-component`` applies.

    Raises:
        AppError: a component declares inputs or outputs, but no apply-component step applies it.
    """
    pending = {
        n: c
        for n, c in components.items()
        if c.node.get("inputs") is not None or c.node.get("outputs") is not None
    }
    merged = _merge(nodes, pending)
    for name, info in pending.items():
        key = "inputs" if info.node.get("inputs") is not None else "outputs"
        raise AppError(
            f"component {name!r} declares {key}, but no apply-component step of the workflow applies it",
            where=info.node.key_where(key),
            component=name,
            fix=f"add a step `type: apply-component` with `properties: {{component: {name}}}`, "
            "or declare the inputs/outputs on the step that applies it",
        )
    return merged


def _merge(nodes: list[Node], pending: dict[str, ComponentInfo]) -> list[Node]:
    out = []
    for s in nodes:
        if s.is_map and s.value.get("type") == "step-group":
            subs = s.get("subSteps")
            if subs is not None and subs.is_list:
                s = s.with_entry("subSteps", Node.list_of(_merge(subs.items(), pending), subs.where))
        elif s.is_map and s.value.get("type") == "apply-component":
            name = (s.value.get("properties") or {}).get("component")
            info = pending.pop(name, None) if isinstance(name, str) else None
            if info is not None:
                for key in ("inputs", "outputs"):
                    theirs = info.node.get(key)
                    if theirs is not None and theirs.is_list:
                        mine = s.get(key)
                        both = (mine.items() if mine is not None and mine.is_list else []) + theirs.items()
                        s = s.with_entry(key, Node.list_of(both, theirs.where))
        out.append(s)
    return out
