"""KubeVela ``ComponentDefinition``s with a ``kube`` schematic, as native component definitions.

A kube schematic is a fixed object (``template``) plus ``parameters``, each written into
the template at its ``fieldPaths``. The semantics are KubeVela v1.8's (types ``string``,
``number``, ``boolean``; ``required``; unknown properties refused), with two differences that
make mistakes visible: a field path past the end of a list is an error (v1.8 grew the list),
and a path that picks an env var by position (``env[5]``) draws a warning naming the variable
it really hits, since positions silently drift when the template changes.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from pyvela._app.kubevela.marked import Node
from pyvela._app.kubevela.props import camel, snake
from pyvela._core.definitions import ComponentContext, ComponentDefinition, WorkloadType
from pyvela._core.objects import Obj, deep_copy
from pyvela.errors import DefinitionError, Location, RenderError

_TYPES: dict[str, Any] = {"string": str, "number": int | float, "boolean": bool}
_PARAMETER_FIELDS = ("name", "type", "required", "fieldPaths", "description")  # KubeVela's KubeParameter
_SEGMENT = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


@attrs.frozen
class KubeParameter:
    name: str  # as written (camelCase): the field path's owner in messages
    field: str  # the parameter's snake_case name
    value_type: str
    required: bool
    field_paths: tuple[tuple[str, tuple[str | int, ...]], ...]  # (as written, parsed)


def parse_path(text: str) -> tuple[str | int, ...]:
    """``spec.containers[0].env[5].value`` -> ``("spec", "containers", 0, "env", 5, "value")``;
    ``metadata.labels[app.oam.dev/name]`` keeps the bracketed key whole."""
    out: list[str | int] = []
    pos = 0
    for m in _SEGMENT.finditer(text):
        if m.start() != pos:
            raise ValueError(f"cannot parse {text!r} at {text[pos:]!r}")
        pos = m.end()
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            inner = m.group(2).strip("'\"")
            out.append(int(inner) if inner.isdigit() else inner)
    if pos != len(text) or not out:
        raise ValueError(f"cannot parse field path {text!r}")
    return tuple(out)


def definitions_module(docs: Sequence[Node], file: str) -> tuple[types.ModuleType, list[str]]:
    """A module holding a component definition per kube-schematic ``ComponentDefinition`` of
    ``docs`` (what the catalogue collects, and whose file the revision hashes), and warnings."""
    module = types.ModuleType(f"kubevela:{Path(file).name}")
    module.__file__ = file
    warnings: list[str] = []
    for doc in docs:
        definition = component_definition(doc, warnings)
        setattr(module, "def_" + re.sub(r"\W", "_", definition.name), definition)
    return module, warnings


def component_definition(doc: Node, warnings: list[str]) -> ComponentDefinition[Any, Any]:
    name = str((doc.value.get("metadata") or {}).get("name") or "")
    spec = doc.get("spec")
    schematic = spec.get("schematic") if spec is not None and spec.is_map else None
    if schematic is not None and schematic.is_map and "kube" not in schematic.value:
        other = next(iter(schematic.value), "none")
        raise DefinitionError(
            f"ComponentDefinition {name!r} has a {other} schematic, which pyvela does not run",
            where=schematic.key_where(other),
            definition=name or None,
            expected="a kube schematic (template and parameters)",
            got=str(other),
            fix="write the definition in Python (a @component function) and give its module with --defs",
        )
    kube = spec.get("schematic").get("kube") if spec and spec.get("schematic") else None  # type: ignore[union-attr]
    if not name or kube is None or not kube.is_map:
        raise DefinitionError(
            "a ComponentDefinition needs metadata.name and spec.schematic.kube",
            where=doc.where,
            definition=name or None,
            fix="CUE schematics are not run by pyvela: write the definition in Python",
        )
    template = kube.get("template")
    if template is None or not template.is_map or not template.value.get("kind"):
        raise DefinitionError(
            "spec.schematic.kube.template must be a Kubernetes object",
            where=kube.where if template is None else template.where,
            definition=name,
            expected="a mapping with apiVersion, kind, metadata, spec",
        )
    obj: Obj = dict(template.value)
    params = [
        _parameter(p, name, obj, warnings)
        for p in (kube.get("parameters") or Node([], doc.file, kube.line)).items()
    ]
    cls = _params_class(name, params)
    where = doc.where
    workload = _workload(spec, obj)  # type: ignore[arg-type]

    def render(p: Any, ctx: ComponentContext) -> Obj:
        out: Obj = deep_copy(obj)
        for param in params:
            value = getattr(p, param.field)
            if value is None:
                continue
            for text, path in param.field_paths:
                try:
                    set_path(out, path, value)
                except ValueError as exc:
                    raise RenderError(
                        f"parameter {param.name!r} cannot be written to {text!r}: {exc}",
                        where=where,
                        component=ctx.name,
                        definition=name,
                    ) from None
        out.setdefault("metadata", {}).setdefault("name", ctx.name)
        return out

    render.__doc__ = f"KubeVela kube schematic {name!r} from {doc.file}."
    return ComponentDefinition(name, cls, render, workload, f"A kube schematic from {doc.file}.", where)


def _workload(spec: Node, obj: Obj) -> WorkloadType:
    definition = ((spec.value.get("workload") or {}).get("definition")) or {}
    return WorkloadType(
        api_version=str(definition.get("apiVersion") or obj.get("apiVersion") or ""),
        kind=str(definition.get("kind") or obj["kind"]),
    )


def _parameter(node: Node, definition: str, obj: Obj, warnings: list[str]) -> KubeParameter:
    data = node.value if node.is_map else {}
    for key in data:  # a typo (`requried: true`) would otherwise leave the parameter optional
        if key not in _PARAMETER_FIELDS:
            close = difflib.get_close_matches(str(key), _PARAMETER_FIELDS, n=1)
            raise DefinitionError(
                f"a kube parameter has an unknown field {key!r}",
                where=node.key_where(key),
                definition=definition,
                expected="one of " + ", ".join(_PARAMETER_FIELDS),
                got=repr(key),
                fix=f"did you mean {close[0]!r}?" if close else "remove it",
            )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise DefinitionError(
            "a kube parameter needs a name",
            where=node.where,
            definition=definition,
            expected="a non-empty string (the property apps set)",
            got=repr(name) if name is not None else "nothing",
            fix="add `name: <property>` to the parameter",
        )
    value_type = data.get("type", "string")
    if value_type not in _TYPES:
        close = difflib.get_close_matches(str(value_type), tuple(_TYPES), n=1)
        raise DefinitionError(
            f"kube parameter {name!r} has an unknown type",
            where=node.key_where("type"),
            definition=definition,
            expected="string, number or boolean",
            got=repr(value_type),
            fix=f"did you mean {close[0]!r}?" if close else "use type: string, number or boolean",
        )
    paths_node = node.get("fieldPaths")
    if paths_node is None or not paths_node.is_list or not paths_node.value:
        raise DefinitionError(
            f"kube parameter {name!r} has no fieldPaths",
            where=node.where,
            definition=definition,
            fix="list where the value goes, e.g. spec.template.spec.containers[0].image",
        )
    paths = []
    for item in paths_node.items():
        where = item.where
        try:
            path = parse_path(str(item.value))
        except ValueError as exc:
            raise DefinitionError(str(exc), where=where, definition=definition) from None
        _check_path(obj, path, str(item.value), where, definition, name, warnings)
        paths.append((str(item.value), path))
    return KubeParameter(name, snake(name), value_type, bool(data.get("required", False)), tuple(paths))


def _check_path(
    obj: Obj,
    path: tuple[str | int, ...],
    text: str,
    where: Location,
    definition: str,
    param: str,
    warnings: list[str],
) -> None:
    """Refuse a path past the end of a template list; warn about an env var picked by position."""
    here: Any = obj
    for i, seg in enumerate(path):
        if isinstance(seg, int):
            if not isinstance(here, list) or seg >= len(here):
                size = len(here) if isinstance(here, list) else 0
                raise DefinitionError(
                    f"kube parameter {param!r}: field path {text!r} goes past the end of a list",
                    where=where,
                    definition=definition,
                    expected=f"an index below {size}" if size else "an existing list",
                    got=f"[{seg}]",
                    fix="point the path at an existing item (KubeVela would append an item silently)",
                )
            if i > 0 and path[i - 1] == "env" and isinstance(here[seg], dict):
                hit = here[seg].get("name")
                warnings.append(
                    f"{where}: definition {definition!r}: parameter {param!r} writes {text!r}, "
                    f"which is env var {hit!r} by position; check that it is the one meant "
                    "(a Python definition can set env vars by name)"
                )
            here = here[seg]
            continue
        if not isinstance(here, dict) or seg not in here:
            return  # the rest of the path is created when the value is written
        here = here[seg]


def set_path(obj: Obj, path: tuple[str | int, ...], value: Any) -> None:
    """Write ``value`` at ``path``, creating missing mappings (never list items)."""
    here: Any = obj
    for i, seg in enumerate(path):
        last = i == len(path) - 1
        if isinstance(seg, int):
            if not isinstance(here, list) or seg >= len(here):
                raise ValueError(f"[{seg}] is past the end of the list")
            if last:
                here[seg] = value
                return
            here = here[seg]
            continue
        if not isinstance(here, dict):
            raise ValueError(f"{seg!r} is under a {type(here).__name__}, not a mapping")
        if last:
            here[seg] = value
            return
        if here.get(seg) is None:
            here[seg] = [] if isinstance(path[i + 1], int) else {}
        here = here[seg]


def _params_class(definition: str, params: list[KubeParameter]) -> type[Any]:
    # Required fields first: attrs demands it of positional fields only, but keeps order.
    fields: dict[str, Any] = {}
    doc = [f"Parameters of the kube schematic {definition!r}.", "", "Attributes:"]
    for p in sorted(params, key=lambda p: not p.required):
        tp = _TYPES[p.value_type]
        if p.required:
            fields[p.field] = attrs.field(type=tp)
        else:
            fields[p.field] = attrs.field(type=tp | None, default=None)
        doc.append(f"        {p.field}: Written to {', '.join(t for t, _ in p.field_paths)}.")
    cls = attrs.make_class(
        "".join(part.capitalize() for part in re.split(r"\W|_", definition) if part) + "Params",
        fields,
        frozen=True,
        kw_only=True,
    )
    cls.__doc__ = "\n".join(doc)
    cls.__module__ = __name__
    return cls


def camel_names(params: Sequence[KubeParameter]) -> list[str]:
    return [camel(p.field) for p in params]
