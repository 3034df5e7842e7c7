"""The app module ``pyvela convert`` writes, from the loaded Application.

Each use calls the definition object the catalogue resolved (imported from the module that
holds it), a step's input is the upstream step's ``outputs.<field>``. A step whose YAML
computes outputs (``valueFrom``) or whose inputs set properties is a ``kubevela_step`` (see
``pystep``), which runs that data flow as the YAML loader does. What has no Python spelling
(an ``if`` calling ``strconv.FormatInt`` with a base other than 10) is kept as a TODO(convert)
comment at the step and listed in the result.
"""

from __future__ import annotations

import builtins
import importlib
import keyword
import re
from collections.abc import Mapping
from typing import Any

import attrs
import jinja2

from pyvela._app.application import DEFAULT_STEP_TIMEOUT, Application
from pyvela._app.catalogue import STDLIB, Catalogue
from pyvela._app.kubevela.convert_flow import predicate, resolve
from pyvela._app.kubevela.props import snake
from pyvela._app.kubevela.stepwrap import WrappedRun
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
        # Builtins too: a component named ``list`` must not shadow ``list`` in the module.
        self.taken: set[str] = {"app", "Application", "annotations", *dir(builtins)}
        self.imports: dict[str, list[str]] = {}

    def variable(self, name: str, suffix: str) -> str:
        base = identifier(name)
        ident = base if base not in self.taken else f"{base}_{suffix}"
        n = 2
        while ident in self.taken:
            ident, n = f"{base}_{suffix}{n}", n + 1
        self.taken.add(ident)
        return ident

    def cls(self, cls: type[Any]) -> str:
        """The name a parameter class is imported under (from the standard library's or the
        façade's public names first, else its own module)."""
        name = str(cls.__name__)
        for module_name in (STDLIB, "pyvela", cls.__module__):
            if getattr(importlib.import_module(module_name), name, None) is cls:
                imported = self.imports.setdefault(module_name, [])
                if name not in imported:
                    imported.append(name)
                    self.taken.add(name)
                break
        return name

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


def _literal(value: Any, names: _Names) -> str:
    """A Python expression for a parameter value: literals as themselves, a reference to a
    step's output as ``<step>.outputs.<field>`` (the variable is filled in by the caller)."""
    if isinstance(value, Ref):
        return f"{{ref:{value.step}}}.outputs.{value.field}"
    if attrs.has(type(value)):
        # A nested parameter class (a webservice's Port): built by keyword, imported by name.
        return f"{names.cls(type(value))}({', '.join(_kwargs(value, names))})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k, names)}: {_literal(v, names)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, names) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(f"{_literal(v, names)}, " for v in value) + ")"
    return repr(value)


def _kwargs(params: Any, names: _Names, known: set[str] | None = None) -> list[str]:
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
        out.append(f"{f.name}={_literal(value, names)}")
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
        call = _call(func, c.name, _kwargs(c.params, names))
        traits = [
            _call(
                names.definition(t.definition, catalogue, generated, "trait"), None, _kwargs(t.params, names)
            )
            for t in c.traits
        ]
        if traits:
            call += ".with_traits(" + ", ".join(traits) + ")"
        if c.dependencies:
            call += ".after(" + ", ".join(map(repr, c.dependencies)) + ")"
        components.append({"var": names.variable(c.name, "component"), "call": call})
    component_vars = {c.name: entry["var"] for c, entry in zip(app.components, components, strict=True)}
    steps: list[dict[str, Any]] = []
    #: step name -> (its variable, the output fields its Python definition has)
    variables: dict[str, tuple[str, set[str]]] = {}
    workflow = None
    if app.workflow is not None:
        top = [
            _step(s, names, catalogue, generated, steps, variables, component_vars, todos)
            for s in app.workflow.steps
        ]
        options = "" if app.workflow.mode == "StepByStep" else f", mode={app.workflow.mode!r}"
        if app.workflow.step_timeout != DEFAULT_STEP_TIMEOUT:
            options += f", step_timeout={app.workflow.step_timeout!r}"
        workflow = f"Workflow(steps=[{', '.join(top)}]{options})" if options else f"[{', '.join(top)}]"
        if options:
            names.imports.setdefault("pyvela", []).append("Workflow")
    for s in steps:
        s["call"] = resolve(s, variables, flow, todos)
    policies = [
        _call(
            names.definition(p.definition, catalogue, generated, "policy"), p.name, _kwargs(p.params, names)
        )
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
    component_vars: Mapping[str, str],
    todos: list[str],
) -> str:
    var = names.variable(s.name, "step")
    variables[s.name] = (var, set())
    notes: list[str] = []
    if isinstance(s, StepGroup):
        inner = [
            _step(x, names, catalogue, generated, steps, variables, component_vars, todos) for x in s.steps
        ]
        names.imports.setdefault("pyvela", []).append("StepGroup")
        call = f"StepGroup(name={s.name!r}, steps=[{', '.join(inner)}], mode={s.mode!r})"
    else:
        func = names.definition(s.definition, catalogue, generated, "step")
        original = _original(s.definition, catalogue, generated, func)
        known = {f.name for f in attrs.fields(original.params)} if original is not s.definition else None
        kwargs = _kwargs(s.params, names, known)
        fields = {f.name for f in attrs.fields(original.outputs_type)} if original.outputs_type else set()
        run = s.definition.run
        plan = run.plans.get(s.name) if isinstance(run, WrappedRun) else None
        if plan is not None and (plan.outputs or plan.properties or plan.own):
            # KubeVela's data flow, run by the YAML loader's own code (pyvela.kubevela_step).
            names.imports.setdefault("pyvela", []).append("kubevela_step")
            fields |= {c.field for c in plan.outputs}
            if plan.outputs:
                kwargs.append("outputs={" + ", ".join(f"{c.name!r}: {c.text!r}" for c in plan.outputs) + "}")
            if plan.properties or plan.own:
                refs = [
                    f"{i.key!r}: {_literal(getattr(s.params, i.field), names)}"
                    for i in (*plan.properties, *plan.own)
                ]
                kwargs.append("inputs={" + ", ".join(refs) + "}")
            if plan.component is not None and plan.properties:
                kwargs.append(f"applies={component_vars[plan.component]}")
            call = f"kubevela_step({s.name!r}, {func}, {', '.join(kwargs)})"
        else:
            call = _call(func, s.name, kwargs)
        variables[s.name] = (var, fields)
        if s.retries:
            call += f".with_retries({s.retries})"
    if s.dependencies:
        call += ".after(" + ", ".join(repr(d) for d in s.dependencies) + ")"
    if s.timeout is not None:
        call += f".with_timeout({s.timeout!r})"
    if isinstance(s.condition, str):
        if s.condition != "on-success":
            call += f".when({s.condition!r})"
    elif (when := predicate(s.condition)) is not None:
        call += f".when(lambda view: {when})"
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
