"""``pyvela defs --docs DIR``: a Markdown reference page per definition, and an index.

The pages are rendered with the jinja2 templates shipped in the package
(``pyvela/_cli/templates/*.md.j2``); each page gives the parameters with their types,
defaults and descriptions, the nested parameter classes they use, the outputs of a step, and
an example call an app can start from.
"""

from __future__ import annotations

import importlib
import re
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from pyvela._core.params import param_schema
from pyvela.errors import PyvelaError

TEMPLATES = "templates"
_KIND_ORDER = ("component", "trait", "step", "policy")
_TITLES = {"component": "Components", "trait": "Traits", "step": "Workflow steps", "policy": "Policies"}


def page_name(entry: Mapping[str, Any]) -> str:
    """``component-webservice.md``: kinds have separate namespaces of names."""
    return f"{entry['kind']}-{entry['name']}.md"


def write_docs(entries: list[dict[str, Any]], definitions: Mapping[str, Any], directory: Path) -> list[Path]:
    """Write one page per entry (``pyvela defs -o json``'s entries) and ``index.md``.

    ``definitions`` maps ``kind/name`` to the definition object (for its Python name, module
    and nested parameter classes). Returns the files written, the index last.

    Raises:
        PyvelaError: the directory cannot be created or written.
    """
    env = _environment()
    page, index = env.get_template("definition.md.j2"), env.get_template("index.md.j2")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PyvelaError(
            f"cannot create the docs directory {directory}: {exc.strerror}", fix="give a writable --docs DIR"
        ) from None
    written: list[Path] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        definition = definitions[f"{entry['kind']}/{entry['name']}"]
        module, attr = _python_name(definition)
        context = {
            "entry": entry,
            "where": _where(entry["where"], module),
            "module": module,
            "attr": attr,
            "summary": _summary(entry["description"]),
            "body": _body(entry["description"]),
            "nested": list(_nested(getattr(definition, "params", None))),
            "example": _example(entry, attr, getattr(definition, "params", None)),
        }
        path = directory / page_name(entry)
        _write(path, page.render(**context))
        written.append(path)
        groups.setdefault(entry["kind"], []).append(
            {**entry, "page": path.name, "summary": context["summary"]}
        )
    ordered = [
        (_TITLES.get(k, k), groups[k]) for k in (*_KIND_ORDER, *sorted(set(groups) - set(_KIND_ORDER)))
    ]
    path = directory / "index.md"
    _write(
        path, index.render(groups=[(title, items) for title, items in ordered if items], total=len(entries))
    )
    written.append(path)
    return written


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PyvelaError(f"cannot write {path}: {exc.strerror}", fix="give a writable --docs DIR") from None


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pyvela._cli", TEMPLATES),
        autoescape=False,  # Markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cell"] = _cell
    env.filters["typename"] = _typename
    env.filters["code"] = _code
    return env


def _cell(value: Any) -> str:
    """Text for a Markdown table cell: pipes escaped, on one line."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _typename(value: Any) -> str:
    """A parameter's type as an app writes it: ``Port``, not ``pyvela.stdlib.workloads.Port``."""
    return _cell(re.sub(r"\b(?:[a-z_]\w*\.)+(?=[A-Z_]\w*)", "", str(value)))


def _where(where: str, module: str) -> str:
    """``pyvela/stdlib/workloads.py:131``: relative to the package's home, not this machine's path."""
    top = importlib.import_module(module.split(".")[0])
    base = Path(top.__file__ or ".").resolve().parent.parent
    path, _, line = where.rpartition(":")
    try:
        return f"{Path(path).resolve().relative_to(base)}:{line}"
    except ValueError:
        return where


def _code(value: Any) -> str:
    """A value as inline code (a default): Python's spelling."""
    text = repr(value)
    return f"`{text}`".replace("|", "\\|")


def _summary(description: str) -> str:
    return description.split("\n\n")[0].replace("\n", " ").strip()


def _body(description: str) -> str:
    parts = description.split("\n\n", 1)
    return parts[1].strip() if len(parts) > 1 else ""


def _python_name(definition: Any) -> tuple[str, str]:
    """Where an app imports the definition from, and its name there."""
    render = getattr(definition, "render", None) or getattr(definition, "run", None)
    home = getattr(render, "__module__", None) or ""
    candidates = ["pyvela.stdlib"] if home.startswith("pyvela.stdlib") else []
    candidates += ["pyvela", home] if home else ["pyvela"]
    for name in candidates:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr in getattr(module, "__all__", None) or dir(module):
            if getattr(module, attr, None) is definition:
                return name, attr
    return home or "pyvela", re.sub(r"\W", "_", definition.name)


def _attrs_classes(tp: Any) -> Iterator[type[Any]]:
    if isinstance(tp, type) and attrs.has(tp):
        yield tp
        return
    for arg in typing.get_args(tp):
        yield from _attrs_classes(arg)


def _nested(params: Any) -> Iterator[dict[str, Any]]:
    """The attrs classes a parameter class uses (Port, EnvVar...), each once, in order of use."""
    if not (isinstance(params, type) and attrs.has(params)):
        return
    seen: set[type[Any]] = {params}
    todo: list[type[Any]] = [params]
    while todo:
        cls = todo.pop(0)
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # an annotation that does not resolve: its type names still show
            continue
        for field in attrs.fields(cls):
            for found in _attrs_classes(hints.get(field.name)):
                if found in seen:
                    continue
                seen.add(found)
                todo.append(found)
                yield {
                    "name": found.__name__,
                    "summary": _summary((found.__doc__ or "").split("Attributes:")[0].strip()),
                    "fields": param_schema(found),
                }


def _example(entry: Mapping[str, Any], attr: str, params: Any) -> str:
    """A call with the required parameters, each given a placeholder of its type."""
    args: list[str] = []
    if entry["kind"] in ("component", "step", "policy"):
        args.append(f'"my-{entry["name"]}"')
    hints: dict[str, Any] = {}
    if isinstance(params, type) and attrs.has(params):
        try:
            hints = typing.get_type_hints(params)
        except Exception:
            hints = {}
        names = {f.alias or f.name: f.name for f in attrs.fields(params)}
    else:
        names = {}
    for pname, p in entry["parameters"].items():
        if p["required"]:
            args.append(f"{pname}={_placeholder(hints.get(names.get(pname, pname)), p['type'])}")
    return f"{attr}({', '.join(args)})"


def _placeholder(tp: Any, shown: str) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal and args:
        return repr(args[0])
    if tp is str or shown.startswith("str") or shown.startswith("ComponentName"):
        return '"..."'
    if tp is bool:
        return "True"
    if tp is int:
        return "1"
    if isinstance(tp, type) and attrs.has(tp):
        return f"{tp.__name__}(...)"
    if origin in (tuple, list) or shown.startswith("tuple"):
        inner = next(iter(_attrs_classes(tp)), None)
        return f"({inner.__name__}(...),)" if inner is not None else "(...,)"
    if shown.startswith(("Mapping", "dict")):
        return "{...}"
    return "..."
