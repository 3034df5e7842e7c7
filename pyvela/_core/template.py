"""YAML templates for definitions: Jinja2 for the few templated values, then YAML."""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvela._core.codecache import cache_root
from pyvela._core.emitter import printable, scalar
from pyvela._core.objects import Obj, deep_copy
from pyvela.errors import DefinitionError

if TYPE_CHECKING:
    import jinja2

# Jinja and PyYAML are imported when a template first needs them: a render whose templates
# only substitute plain names (the usual case) never imports Jinja (see _plain_text).


@functools.cache
def _yaml() -> tuple[Any, Any]:
    """PyYAML and its fastest safe loader (libyaml's, when present)."""
    import yaml

    return yaml, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _as_yaml_scalar(value: Any) -> str:
    # Every substituted value is written as one YAML flow node (a JSON-like scalar, sequence or
    # mapping), so no value can change the template's structure: a `#`, `: ` or newline in a
    # name stays in the value. A value therefore fills a whole YAML node (``name: {{ name }}``),
    # never part of one (``name: {{ name }}-svc``: build such strings in the definition).
    import jinja2

    if isinstance(value, jinja2.Undefined):
        return str(value)  # StrictUndefined raises here
    return _flow(value)


def _flow(value: Any) -> str:
    """``value`` as a YAML flow node that reads back as the same data (JSON-like rules)."""
    if isinstance(value, str):
        # JSON's string escapes are YAML's too; JSON leaves DEL, C1 controls, NEL and the like
        # raw, which a YAML reader refuses, so those get YAML's own escapes.
        return "".join(c if printable(c) else _escape(c) for c in json.dumps(value, ensure_ascii=False))
    if value is None or isinstance(value, bool | int):
        return json.dumps(value)
    if isinstance(value, float):
        return scalar(value)  # YAML 1.1 needs a dot in a float: JSON's 1e-05 would read as a string
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_flow(_key(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _flow(str(value))


def _key(key: Any) -> str:
    # Keys become strings as JSON makes them (true, null, 1).
    return (
        key if isinstance(key, str) else json.dumps(key) if isinstance(key, bool | int | None) else str(key)
    )


def _as_data(value: Any) -> Any:
    """What substituting ``value`` gives once the YAML is read: the fast path's value."""
    if type(value) in _READ_BACK:
        return value  # JSON's text of these reads back as the same value
    yaml, loader = _yaml()
    return yaml.load(_flow(value), Loader=loader)


_READ_BACK = frozenset({str, int, bool, type(None)})


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    # StrictUndefined: a misspelt variable is an error, never an empty string in a manifest.
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_as_yaml_scalar,
    )


@functools.lru_cache(maxsize=256)
def _compiled(path: str, mtime: float) -> tuple[jinja2.Template, frozenset[str] | None]:
    """The compiled template, and its variable names when it only substitutes plain names."""
    import jinja2
    from jinja2 import meta, nodes

    text = _text(path, mtime)
    env = _environment()
    try:
        tree = env.parse(text)
        template = env.from_string(tree)
    except jinja2.TemplateError as exc:
        raise DefinitionError(f"template {path} cannot be rendered: {exc}") from exc
    plain = all(
        isinstance(node, nodes.Output)
        and all(
            isinstance(n, nodes.TemplateData) or (isinstance(n, nodes.Name) and n.ctx == "load")
            for n in node.nodes
        )
        for node in tree.body
    )
    return template, (frozenset(meta.find_undeclared_variables(tree)) if plain else None)


@functools.lru_cache(maxsize=256)
def _text(path: str, mtime: float) -> str:
    return Path(path).read_text(encoding="utf-8")


# A template that only substitutes plain names is recognised, and its text with a marker per
# name written, without Jinja: ``{{ name }}`` (spaces or tabs inside), ``{# comments #}`` and
# text. Anything else - another ``{{``, ``{%``, whitespace control, a carriage return (Jinja
# normalises newlines), a name Jinja reads as a constant or an operator - is left to Jinja.
# A property test checks that both give the same text.
_TOKEN = re.compile(r"\{\{[ \t]*([A-Za-z_]\w*)[ \t]*\}\}|\{#(.*?)#\}|\{[{%#]", re.S | re.A)
_NOT_NAMES = frozenset(
    {"true", "false", "none", "True", "False", "None", "not", "in", "is", "and", "or", "if"}
)


@functools.lru_cache(maxsize=256)
def _plain_text(path: str, mtime: float) -> tuple[str, frozenset[str]] | None:
    """The text rendered with ``_MARK + name`` for each name, and the names; None: ask Jinja."""
    text = _text(path, mtime)
    if "\r" in text:
        return None
    out, names, pos = [], set(), 0
    for m in _TOKEN.finditer(text):
        name, comment = m.group(1), m.group(2)
        if name is not None and name not in _NOT_NAMES:
            out.append(text[pos : m.start()] + _flow(_MARK + name))
            names.add(name)
        elif comment is not None and comment[:1] not in "-+" and comment[-1:] not in "-+":
            out.append(text[pos : m.start()])
        else:
            return None
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), frozenset(names)


def _names(path: str, mtime: float) -> frozenset[str] | None:
    """The variable names of a template that only substitutes plain names, else None."""
    plain = _plain_text(path, mtime)
    return plain[1] if plain is not None else _compiled(path, mtime)[1]


def _load(path: str, rendered: str) -> Obj:
    yaml, loader = _yaml()
    try:
        data = yaml.load(rendered, Loader=loader)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"template {path} cannot be rendered: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(f"template {path} must hold one YAML mapping", got=type(data).__name__)
    return data


def _render(path: str, template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    import jinja2

    try:
        return template.render(variables)
    except jinja2.TemplateError as exc:
        raise DefinitionError(f"template {path} cannot be rendered: {exc}") from exc


# Parsing YAML is most of the cost of a template (PyYAML constructs in Python even with
# libyaml), so a template that only substitutes plain ``{{ name }}`` values is parsed once,
# with a marker for each name, and compiled into a function that builds the object with the
# values in place: the same object as rendering and parsing again, because each value is
# substituted as JSON and fills a whole node.
_MARK = f"pyvela-{os.urandom(16).hex()}:"  # not uuid: it imports platform, at start-up
Builder = Callable[[Mapping[str, Any]], Obj]


class _NotLiteral(Exception):
    pass


@functools.lru_cache(maxsize=256)
def _builder(path: str, mtime: float, names: frozenset[str], copy: bool = True) -> Builder | None:
    """``copy=False``: for values that are all strings, numbers, booleans or None, which the
    object may share as they are (nothing changes them in place), so no copy is made per use."""
    plain = _plain_text(path, mtime)
    if plain is not None:
        source = _plain_source(path, mtime, plain[0], copy)
    else:
        template, _ = _compiled(path, mtime)
        marked = _load(path, _render(path, template, {n: _MARK + n for n in names}))
        source = _source_of(marked, _MARK, copy)
    if source is None:
        return None  # a marker inside a longer string, a timestamp...: render each time
    # Only repr() of plain literals and subscripts of the values go into the code.
    built: Builder = eval(compile(f"lambda _v: {source}", path, "eval"), {"_c": deep_copy})
    return built


def _source_of(skeleton: Obj, mark: str, copy: bool = True) -> str | None:
    try:
        return _source(skeleton, mark, copy)
    except _NotLiteral:
        return None


# A plain template's parsed skeleton is kept between runs (as JSON, in the user's cache
# directory, by a hash of the template's text): PyYAML's import is most of a small render's
# template cost (its reader compiles a large regular expression at import), and with the
# skeleton at hand a render of such templates never imports it. The file holds data, never
# code: the builder is made from it as from a fresh parse.
_CACHE_FORMAT = "pyvela-template-skeleton-1"


def _cache_file(text: str) -> Path | None:
    root = cache_root()
    if root is None:  # PYVELA_CACHE_DIR="" turns the cache off
        return None
    import hashlib

    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{text}".encode()).hexdigest()
    return Path(root) / "templates" / f"{digest}.json"


def _plain_source(path: str, mtime: float, marked: str, copy: bool = True) -> str | None:
    text = _text(path, mtime)
    file = _cache_file(text)
    if file is not None:
        try:
            cached = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = None
        if type(cached) is dict and type(cached.get("mark")) is str and type(cached.get("skeleton")) is dict:
            return _source_of(cached["skeleton"], cached["mark"], copy)
    skeleton = _load(path, marked)
    source = _source_of(skeleton, _MARK, copy)
    if file is not None and source is not None and _json_exact(skeleton):
        _write(file, json.dumps({"mark": _MARK, "skeleton": skeleton}))
    return source


def _json_exact(node: Any) -> bool:
    """Whether JSON gives ``node`` back as it is (string keys only; _source took the rest)."""
    if type(node) is dict:
        return all(type(k) is str and _json_exact(v) for k, v in node.items())
    if type(node) is list:
        return all(_json_exact(v) for v in node)
    return True


def _write(file: Path, content: str) -> None:
    # Whole or not at all (another process may read it meanwhile); a cache that cannot be
    # written (read-only home, full disk) only costs the next run a parse.
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        part = file.with_name(f"{file.name}.{os.getpid()}.part")
        part.write_text(content, encoding="utf-8")
        os.replace(part, file)
    except OSError:
        pass


def _source(node: Any, mark: str, copy: bool = True) -> str:
    if isinstance(node, str):
        if node.startswith(mark):
            value = f"_v[{node[len(mark) :]!r}]"
            return f"_c({value})" if copy else value  # a copy per use: no two nodes shared
        if mark in node:
            raise _NotLiteral(node)
        return repr(node)
    if isinstance(node, bool) or node is None or isinstance(node, int):
        return repr(node)
    if isinstance(node, float) and math.isfinite(node):
        return repr(node)
    if isinstance(node, dict):
        return "{" + ", ".join(f"{_source(k, mark)}: {_source(v, mark, copy)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_source(v, mark, copy) for v in node) + "]"
    raise _NotLiteral(node)


def yaml_template(path: str | Path, /, **variables: Any) -> Obj:
    """Render a Jinja2 YAML template into a fresh object (safe to modify).

    The template is compiled once per file (and modification time); one that only
    substitutes plain names is also parsed once, so a definition may call this once per
    render at no real cost. Each ``{{ value }}`` is substituted as JSON, so it must stand
    for a whole YAML value and cannot change the template's structure, whatever it holds.

    Args:
        path: The template file, usually next to the definition (``Path(__file__).parent / ...``).
        **variables: Template variables (JSON-like values).
    """
    p = str(path) if isinstance(path, Path) else str(Path(path))  # the name errors give
    try:
        mtime = os.stat(p).st_mtime
    except OSError as exc:
        raise DefinitionError(f"template {p} does not exist") from exc
    names = _names(p, mtime)
    if names is not None and names <= variables.keys():
        # Only values of these types are used as they are: no copy needed (see _builder).
        build = _builder(p, mtime, names, not all(type(variables[n]) in _READ_BACK for n in names))
        if build is not None:
            # As the YAML would carry them: tuples become lists, other objects strings.
            return build({n: _as_data(variables[n]) for n in names})
    template, _ = _compiled(p, mtime)
    return _load(p, _render(p, template, variables))
