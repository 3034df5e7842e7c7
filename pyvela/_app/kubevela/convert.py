"""``pyvela convert``: KubeVela YAML into Python modules, from the model the YAML loader builds.

The app module is written from the loaded :class:`~pyvela._app.application.Application`
(each use calls the definition object the catalogue resolved, a step's input is the
upstream step's ``outputs.<field>``); the definitions module from the kube schematics
(``convert_defs``). What has no Python spelling (computed ``valueFrom`` outputs, ``if``
conditions, inputs into a component's properties) is kept as a TODO(convert) comment and
listed in the result, never dropped silently.
"""

from __future__ import annotations

import importlib
import importlib.util
import keyword
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import jinja2

from pyvela._app.application import DEFAULT_STEP_TIMEOUT, Application
from pyvela._app.catalogue import STDLIB, Catalogue
from pyvela._app.kubevela import API_VERSION, is_yaml
from pyvela._app.kubevela.app import build_application
from pyvela._app.kubevela.convert_defs import definitions_source, split_documents, step_outputs
from pyvela._app.kubevela.marked import Node, load_documents
from pyvela._app.kubevela.props import snake
from pyvela._core.params import Ref
from pyvela._core.steps import StepGroup, StepUse
from pyvela.errors import AppLoadError, Location

DEFS_MODULE = "kubevela_defs"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("pyvela._app.kubevela", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
    autoescape=False,
)
_ENV.filters["pyrepr"] = repr


@attrs.frozen
class Converted:
    """What ``convert`` wrote, and what the user must finish by hand."""

    files: tuple[Path, ...]
    todos: tuple[str, ...]
    formatted: bool


def convert(
    sources: Sequence[Path], out: Path, modules: Sequence[str] | None, fallback: Sequence[str] = ()
) -> Converted:
    """Write ``kubevela_defs.py`` (the definitions the files hold) and ``<app>.py`` (their
    Application, if any) into ``out``.

    The app resolves its types against the generated definitions, over ``modules`` (for the
    types the files do not define) and the standard library; ``modules=None`` means none when
    the files hold definitions, else ``fallback`` (the CLI's platform_defs / PYVELA_DEFS).

    Raises:
        AppLoadError, DefinitionError, ...: the loader's errors, naming the YAML file and line.
    """
    apps: list[Node] = []
    defs_docs: list[Node] = []
    for path in sources:
        if not path.is_file():
            raise AppLoadError(
                f"{str(path)!r} does not exist" if not path.exists() else f"{str(path)!r} is not a file",
                expected="a KubeVela YAML file (Application or definitions)",
                fix="give the path of a .yaml file",
            )
        if not is_yaml(path):
            raise AppLoadError(
                f"{path} is not a YAML file",
                expected="KubeVela YAML (.yaml or .yml): an Application or definitions",
                got=path.suffix or "no suffix",
                fix="give the KubeVela YAML to convert (a Python app is already Python)",
            )
        app_docs, definitions = split_documents(load_documents(path), str(path))
        apps.extend(app_docs)
        defs_docs.extend(definitions)
    if not apps and not defs_docs:
        raise AppLoadError(
            "nothing to convert: the files hold no Application and no definition",
            expected=f"{API_VERSION} Application, ComponentDefinition, TraitDefinition or "
            "WorkflowStepDefinition",
            fix="give the KubeVela YAML files of the app and its definitions",
        )
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    todos: list[str] = []
    previous = sys.modules.get(DEFS_MODULE)
    try:
        if modules is None:
            modules = () if defs_docs else fallback
        catalogue = Catalogue.from_modules(modules, stdlib=True)
        _convert(apps, defs_docs, sources, out, catalogue, files, todos)
    finally:
        if previous is None:
            sys.modules.pop(DEFS_MODULE, None)
        else:
            sys.modules[DEFS_MODULE] = previous
    formatted = _format(files)
    return Converted(tuple(files), tuple(todos), formatted)


def _convert(
    apps: list[Node],
    defs_docs: list[Node],
    sources: Sequence[Path],
    out: Path,
    catalogue: Catalogue,
    files: list[Path],
    todos: list[str],
) -> None:
    generated: dict[tuple[str, str], str] = {}
    if defs_docs:
        text, generated, stub_todos = definitions_source(
            defs_docs, _ENV, [s.name for s in sources], step_outputs(apps)
        )
        defs_file = _write(out / f"{DEFS_MODULE}.py", text)
        files.append(defs_file)
        todos.extend(stub_todos)
        catalogue = _with_generated(catalogue, defs_file)
    for doc in apps:
        app, _, _ = build_application(doc, catalogue)
        text, app_todos = app_source(app, catalogue, generated, source=Path(doc.file).name)
        files.append(_write(out / f"{_identifier(app.name)}.py", text))
        todos.extend(f"{doc.file}: {t}" for t in app_todos)


def _with_generated(catalogue: Catalogue, file: Path) -> Catalogue:
    """``catalogue`` with the generated definitions in place of any of the same kind and name:
    the definitions given to convert are the ones the app is converted against."""
    spec = importlib.util.spec_from_file_location(DEFS_MODULE, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while the app is built (parameter checks resolve annotations through it);
    # ``convert`` puts back what was there.
    sys.modules[DEFS_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # generated code that fails to import is a bug of convert: said plainly
        raise AppLoadError(
            f"the generated {file.name} does not import: {type(exc).__name__}: {exc}",
            where=Location(str(file), 1),
            fix="report this as a pyvela convert bug, with the YAML that produced it",
        ) from None
    own = Catalogue.from_modules([module])
    definitions = {**catalogue.definitions, **own.definitions}
    return attrs.evolve(catalogue, modules=(*catalogue.modules, DEFS_MODULE), definitions=definitions)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _format(files: Sequence[Path]) -> bool:
    """``ruff format`` the files when ruff is on PATH; the templates are well-formed without it."""
    ruff = shutil.which("ruff")
    if ruff is None or not files:
        return False
    done = subprocess.run(
        [ruff, "format", "--quiet", "--line-length", "110", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0


def _identifier(name: str) -> str:
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
        base = _identifier(name)
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
    candidates = [*catalogue.modules, STDLIB, getattr(func, "__module__", "")]
    for module_name in candidates:
        if not module_name or module_name.startswith("kubevela:"):
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for attr, value in vars(module).items():
            if attr.startswith("_"):
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
    app: Application, catalogue: Catalogue, generated: Mapping[tuple[str, str], str], *, source: str
) -> tuple[str, list[str]]:
    """The app module's text, and the TODOs left in it."""
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
    variables: dict[str, str] = {}
    workflow = None
    if app.workflow is not None:
        top = [_step(s, names, catalogue, generated, steps, variables, todos) for s in app.workflow.steps]
        options = "" if app.workflow.mode == "StepByStep" else f", mode={app.workflow.mode!r}"
        if app.workflow.step_timeout != DEFAULT_STEP_TIMEOUT:
            options += f", step_timeout={app.workflow.step_timeout!r}"
        workflow = f"Workflow([{', '.join(top)}]{options})" if options else f"[{', '.join(top)}]"
        if options:
            names.imports.setdefault("pyvela", []).append("Workflow")
    for s in steps:
        s["call"] = re.sub(r"\{ref:([^}]*)\}", lambda m: variables[m.group(1)], s["call"])
    policies = [
        _call(names.definition(p.definition, catalogue, generated, "policy"), p.name, _kwargs(p.params))
        for p in app.policies
    ]
    pyvela_names = names.imports.pop("pyvela", [])
    imports = sorted((m, sorted(n)) for m, n in names.imports.items())
    if pyvela_names:
        imports.append(("pyvela", sorted(pyvela_names)))
    text = _ENV.get_template("app.py.j2").render(
        name=app.name,
        namespace=app.namespace,
        source=source,
        imports=imports,
        components=components,
        steps=steps,
        workflow=workflow,
        policies=policies,
        todos=todos,
    )
    return text, todos


def _step(
    s: StepUse[Any, Any] | StepGroup,
    names: _Names,
    catalogue: Catalogue,
    generated: Mapping[tuple[str, str], str],
    steps: list[dict[str, Any]],
    variables: dict[str, str],
    todos: list[str],
) -> str:
    var = names.variable(s.name, "step")
    variables[s.name] = var
    notes: list[str] = []
    if isinstance(s, StepGroup):
        inner = [_step(x, names, catalogue, generated, steps, variables, todos) for x in s.steps]
        names.imports.setdefault("pyvela", []).append("StepGroup")
        call = f"StepGroup(name={s.name!r}, steps=[{', '.join(inner)}], mode={s.mode!r})"
    else:
        func = names.definition(s.definition, catalogue, generated, "step")
        original = _original(s.definition, catalogue, generated, func)
        known = {f.name for f in attrs.fields(original.params)} if original is not s.definition else None
        kwargs = _kwargs(s.params, known)
        if known is not None:
            extra = sorted({f.name for f in attrs.fields(type(s.params)) if f.init} - known)
            notes.append(
                f"step {s.name!r}: KubeVela data flow with no Python spelling yet (computed outputs "
                f"or inputs into properties{': ' + ', '.join(extra) if extra else ''}); write it in the "
                "step definition or as a step that computes the value"
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
