"""YAML templates for definitions: Jinja2 for the few templated values, then YAML."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jinja2
import yaml

from pyvela._core.objects import Obj, deep_copy
from pyvela.errors import DefinitionError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _as_yaml_scalar(value: Any) -> str:
    # Every substituted value is written as JSON (a YAML flow scalar, sequence or mapping), so
    # no value can change the template's structure: a `#`, `: ` or newline in a name stays in
    # the value. A value therefore fills a whole YAML node (``name: {{ name }}``), never part
    # of one (``name: {{ name }}-svc``: build such strings in the definition and pass them).
    if isinstance(value, jinja2.Undefined):
        return str(value)  # StrictUndefined raises here
    return json.dumps(value, ensure_ascii=False, default=str)


@functools.cache
def _environment() -> jinja2.Environment:
    # StrictUndefined: a misspelt variable is an error, never an empty string in a manifest.
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_as_yaml_scalar,
    )


@functools.lru_cache(maxsize=512)
def _parsed(path: str, mtime: float, items: tuple[tuple[str, Any], ...]) -> Obj:
    text = Path(path).read_text(encoding="utf-8")
    try:
        rendered = _environment().from_string(text).render(dict(items))
        data = yaml.load(rendered, Loader=_Loader)
    except (jinja2.TemplateError, yaml.YAMLError) as exc:
        raise DefinitionError(f"template {path} cannot be rendered: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(f"template {path} must hold one YAML mapping", got=type(data).__name__)
    return data


def yaml_template(path: str | Path, /, **variables: Any) -> Obj:
    """Render a Jinja2 YAML template into a fresh object (safe to modify).

    Rendering is cached per file (and its modification time) and variables, so a
    definition may call this once per render at no real cost. Each ``{{ value }}`` is
    substituted as JSON, so it must stand for a whole YAML value and cannot change the
    template's structure, whatever it holds.

    Args:
        path: The template file, usually next to the definition (``Path(__file__).parent / ...``).
        **variables: Template variables (hashable values).
    """
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError as exc:
        raise DefinitionError(f"template {p} does not exist") from exc
    result: Obj = deep_copy(_parsed(str(p), mtime, tuple(sorted(variables.items()))))
    return result
