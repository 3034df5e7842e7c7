"""The app module ``pyvela convert`` writes, from the loaded Application.

Each use calls the definition object the catalogue resolved (imported from the module that
holds it), a step's input is the upstream step's ``outputs.<field>``. KubeVela's data flow
with no Python spelling (outputs computed by ``valueFrom``, inputs into a component's
properties, ``if`` conditions) is kept as a TODO(convert) comment at the step and listed in
the result: a computed output a later step reads is passed as the plain output field it is
computed from, and the TODO says what the YAML computed from it.
"""

from __future__ import annotations

import importlib
import keyword
import re
from collections.abc import Mapping
from typing import Any

import attrs
import jinja2

from pyvela._app.application import DEFAULT_STEP_TIMEOUT, Application
from pyvela._app.catalogue import STDLIB, Catalogue
from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.dataflow import output_field
from pyvela._app.kubevela.props import field_for, snake
from pyvela._core.params import Ref
from pyvela._core.steps import StepGroup, StepUse
from pyvela.errors import AppLoadError

DEFS_MODULE = "kubevela_defs"

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("pyvela._app.kubevela", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
    autoescape=False,
)
ENV.filters["pyrepr"] = repr


def identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", snake(name).replace("-", "_")) or "app"
    if ident[0].isdigit() or keyword.iskeyword(ident):
        ident = "app_" + ident
    return ident


class _Names:
    """Python names for definitions (imported) and uses (module variables), never clashing."""

    def __init__(self) -> None:
        self.taken: set[str] = {"app", "Application", "annotations"}
        self.imports: dict[str, list[str]] = {}

    def variable(self, name: str, suffix: str) -> str:
        base = identifier(name)
        ident = base if base not in self.taken else f"{base}_{suffix}"
        n = 2
        while ident in self.taken:
            ident, n = f"{base}_{suffix}{n}", n + 1
        self.taken.add(ident)
        return ident

    def definition(
        self, definition: Any, catalogue: Catalogue, generated: Mapping[tuple[str, str], str], kind: str
    ) -> str:
        key = (kind, definition.name)
        if key in generated:
            module, attr = DEFS_MODULE, generated[key]
        else:
            module, attr = _importable(definition, catalogue, kind)
        names = self.imports.setdefault(module, [])
        if attr not in names:
            names.append(attr)
            self.taken.add(attr)
        return attr


def _importable(definition: Any, catalogue: Catalogue, kind: str) -> tuple[str, str]:
    """The module (a catalogue module first, as apps import it) and name that hold the
    definition the catalogue resolved, or the undecorated original of a wrapped step."""
    func = getattr(definition, "render", None) or getattr(definition, "run", None)
    # The façade holds the builtins (apply_component, garbage_collect); private modules never
    # appear in a generated import.
    candidates = [*catalogue.modules, STDLIB, "pyvela", getattr(func, "__module__", "")]
    for module_name in candidates:
        if not module_name or module_name.startswith(("kubevela:", "pyvela._")):
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        # __all__ first: the façade resolves its names lazily, so vars() does not list them.
        for attr in getattr(module, "__all__", None) or list(vars(module)):
            value = getattr(module, attr, None)
            if attr.startswith("_") or value is None:
                continue
            same = value is definition
            original = getattr(value, "name", None) == definition.name and type(value) is type(definition)
            if same or (kind == "step" and original):
                return module_name, attr
    raise AppLoadError(
        f"the {kind} definition {definition.name!r} is not importable from a Python module",
        where=definition.where,
        expected="a definition in a catalogue module, or a kube ComponentDefinition given to convert",
        fix="give the YAML file that defines it to convert as well, or its module with --defs",
    )


def _literal(value: Any) -> str:
    """A Python expression for a parameter value: literals as themselves, a reference to a
    step's output as ``<step>.outputs.<field>`` (the variable is filled in by the caller)."""
    if isinstance(value, Ref):
        return f"{{ref:{value.step}}}.outputs.{value.field}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(f"{_literal(v)}, " for v in value) + ")"
    return repr(value)


def _kwargs(params: Any, known: set[str] | None = None) -> list[str]:
    """``field=value`` for each field not at its default (and, for a wrapped step, only the
    fields its original definition has)."""
    out = []
    for f in attrs.fields(type(params)):
        if not f.init or (known is not None and f.name not in known):
            continue
        value = getattr(params, f.name)
        default = f.default.factory() if isinstance(f.default, attrs.Factory) else f.default  # type: ignore[arg-type]
        if default is not attrs.NOTHING and value == default and not isinstance(value, Ref):
            continue
        out.append(f"{f.name}={_literal(value)}")
    return out


def _call(func: str, name: str | None, kwargs: list[str]) -> str:
    args = ([repr(name)] if name is not None else []) + kwargs
    return f"{func}({', '.join(args)})"


def app_source(
    app: Application,
    catalogue: Catalogue,
    generated: Mapping[tuple[str, str], str],
    flow: Mapping[str, Any],
    *,
    source: str,
) -> tuple[str, list[str]]:
    """The app module's text, and the TODOs left in it.

    ``flow``: what the YAML's data flow adds per step (the loader's ``kubevelaDataFlow``:
    computed outputs' expressions, inputs into properties).
    """
    names = _Names()
    todos: list[str] = []
    components = []
    for c in app.components:
        func = names.definition(c.definition, catalogue, generated, "component")
        call = _call(func, c.name, _kwargs(c.params))
        traits = [
            _call(names.definition(t.definition, catalogue, generated, "trait"), None, _kwargs(t.params))
            for t in c.traits
        ]
        if traits:
            call += ".with_traits(" + ", ".join(traits) + ")"
        if c.dependencies:
            call += ".after(" + ", ".join(map(repr, c.dependencies)) + ")"
        components.append({"var": names.variable(c.name, "component"), "call": call})
    steps: list[dict[str, Any]] = []
    #: step name -> (its variable, the output fields its Python definition has)
    variables: dict[str, tuple[str, set[str]]] = {}
    workflow = None
    if app.workflow is not None:
        top = [
            _step(s, names, catalogue, generated, steps, variables, flow, todos) for s in app.workflow.steps
        ]
        options = "" if app.workflow.mode == "StepByStep" else f", mode={app.workflow.mode!r}"
        if app.workflow.step_timeout != DEFAULT_STEP_TIMEOUT:
            options += f", step_timeout={app.workflow.step_timeout!r}"
        workflow = f"Workflow(steps=[{', '.join(top)}]{options})" if options else f"[{', '.join(top)}]"
        if options:
            names.imports.setdefault("pyvela", []).append("Workflow")
    for s in steps:
        s["call"] = _resolve(s, variables, flow, todos)
    policies = [
        _call(names.definition(p.definition, catalogue, generated, "policy"), p.name, _kwargs(p.params))
        for p in app.policies
    ]
    pyvela_names = [*names.imports.pop("pyvela", []), "Application"]
    imports = sorted((m, sorted(n)) for m, n in names.imports.items())
    imports.append(("pyvela", sorted(set(pyvela_names))))
    text = ENV.get_template("app.py.j2").render(
        name=app.name,
        namespace=app.namespace,
        source=source,
        imports=imports,
        components=components,
        steps=steps,
        workflow=workflow,
        policies=policies,
        todos=todos,
        # A condition reading context.name refers to ``app`` before it is assigned.
        typed_app=any("app.name" in s["call"] or "app.namespace" in s["call"] for s in steps),
    )
    return text, todos


def _step(
    s: StepUse[Any, Any] | StepGroup,
    names: _Names,
    catalogue: Catalogue,
    generated: Mapping[tuple[str, str], str],
    steps: list[dict[str, Any]],
    variables: dict[str, tuple[str, set[str]]],
    flow: Mapping[str, Any],
    todos: list[str],
) -> str:
    var = names.variable(s.name, "step")
    variables[s.name] = (var, set())
    notes: list[str] = []
    if isinstance(s, StepGroup):
        inner = [_step(x, names, catalogue, generated, steps, variables, flow, todos) for x in s.steps]
        names.imports.setdefault("pyvela", []).append("StepGroup")
        call = f"StepGroup(name={s.name!r}, steps=[{', '.join(inner)}], mode={s.mode!r})"
    else:
        func = names.definition(s.definition, catalogue, generated, "step")
        original = _original(s.definition, catalogue, generated, func)
        known = {f.name for f in attrs.fields(original.params)} if original is not s.definition else None
        kwargs = _kwargs(s.params, known)
        if original.outputs_type is not None:
            variables[s.name] = (var, {f.name for f in attrs.fields(original.outputs_type)})
        plan = flow.get(s.name) or {}
        for output, text in (plan.get("outputs") or {}).items():
            notes.append(
                f"step {s.name!r}: output {output!r} is computed in KubeVela as `{text}`; "
                f"compute it in {s.definition.name!r} (a field of its outputs class) and read it from there"
            )
        for key, field in (plan.get("properties") or {}).items():
            notes.append(
                f"step {s.name!r}: an input sets property {key!r} (parameter {field!r} of the YAML "
                "loader); pass it as a parameter of the component's step definition by hand"
            )
        call = _call(func, s.name, kwargs)
        if s.retries:
            call += f".with_retries({s.retries})"
    if s.dependencies:
        call += ".after(" + ", ".join(repr(d) for d in s.dependencies) + ")"
    if s.timeout is not None:
        call += f".with_timeout({s.timeout!r})"
    if isinstance(s.condition, str):
        if s.condition != "on-success":
            call += f".when({s.condition!r})"
    elif (predicate := _predicate(s.condition)) is not None:
        call += f".when(lambda view: {predicate})"
    else:
        notes.append(
            f"step {s.name!r}: the `if` condition {getattr(s.condition, 'text', s.condition)!r} is not "
            "converted: write it as .when(lambda view: ...) over the WorkflowView"
        )
    todos.extend(notes)
    steps.append({"var": var, "call": call, "todos": notes})
    return var


def _original(
    definition: Any, catalogue: Catalogue, generated: Mapping[tuple[str, str], str], func: str
) -> Any:
    if ("step", definition.name) in generated:
        return definition
    module, attr = _importable(definition, catalogue, "step")
    return getattr(importlib.import_module(module), attr)


def _resolve(
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


def _predicate(condition: Any) -> str | None:
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
