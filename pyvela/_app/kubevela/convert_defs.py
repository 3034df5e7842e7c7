"""The definitions module ``pyvela convert`` writes: typed parameter classes and component
functions for kube schematics (checked by the same code that runs them from YAML), and for
CUE schematics a stub whose parameters come from the CUE ``parameter`` block and whose body
is kept as a comment to port by hand.

The ``parameter`` block is read line by line for its top-level fields only: it fills in a
stub for a person to finish, it does not evaluate CUE. A field whose type has no plain Python
spelling becomes ``Any`` with a TODO naming the CUE type.
"""

from __future__ import annotations

import pprint
import re
from collections.abc import Sequence
from typing import Any

import jinja2

from pyvela._app.kubevela import API_VERSION
from pyvela._app.kubevela.kube import _parameter, _workload, component_definition
from pyvela._app.kubevela.marked import Node
from pyvela._app.kubevela.props import snake
from pyvela.errors import AppLoadError

_DEFINITION_KINDS = ("ComponentDefinition", "TraitDefinition", "WorkflowStepDefinition")
_KIND = {"ComponentDefinition": "component", "TraitDefinition": "trait", "WorkflowStepDefinition": "step"}
_KUBE_TYPES = {"string": "str", "number": "int | float", "boolean": "bool"}
_CUE_TYPES = {
    "string": "str",
    "int": "int",
    "number": "float",
    "float": "float",
    "bool": "bool",
    "bytes": "bytes",
    "{...}": "dict[str, Any]",
}
_FIELD = re.compile(r"^\s*([A-Za-z_][\w-]*|\"[^\"]+\")(\?|!)?\s*:\s*(.*?)\s*(//.*)?$")
_DEFAULT = re.compile(r"^\*\s*(\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?|true|false)\s*\|\s*(.+)$")


def split_documents(docs: Sequence[Node], file: str) -> tuple[list[Node], list[Node]]:
    """The Application documents and the definition documents of a file; anything else is refused."""
    apps, defs = [], []
    for doc in docs:
        kind = doc.value.get("kind") if doc.is_map else None
        if doc.is_map and doc.value.get("apiVersion") == API_VERSION and kind == "Application":
            apps.append(doc)
        elif doc.is_map and doc.value.get("apiVersion") == API_VERSION and kind in _DEFINITION_KINDS:
            defs.append(doc)
        else:
            got = f"{doc.value.get('apiVersion')} {kind}" if doc.is_map else repr(doc.value)[:60]
            raise AppLoadError(
                f"a document of {file} is not something pyvela converts",
                where=doc.where,
                expected=f"{API_VERSION} Application, " + ", ".join(_DEFINITION_KINDS),
                got=got,
                fix="convert Applications and definitions only (write other objects in a component)",
            )
    return apps, defs


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"\W|_", name) if part) + "Params"


def _write_target(template: Any, path: tuple[str | int, ...]) -> str:
    """Python that addresses ``path`` in a copy of ``template``: existing keys indexed,
    missing mappings created (as the YAML loader's ``set_path`` does)."""
    out, here = "obj", template
    for i, seg in enumerate(path):
        if i == len(path) - 1:
            out += f"[{seg!r}]"
        elif isinstance(seg, int) or (isinstance(here, dict) and here.get(seg) is not None):
            out += f"[{seg!r}]"
            here = here[seg] if here is not None else None
        else:
            empty = "[]" if isinstance(path[i + 1], int) else "{}"
            out += f".setdefault({seg!r}, {empty})"
            here = None
    return out


def _kube(doc: Node, warnings: list[str]) -> dict[str, Any]:
    component_definition(doc, warnings)  # every check (and warning) the YAML loader makes
    name = str(doc.value["metadata"]["name"])
    spec = doc.get("spec")
    # component_definition has checked that these exist.
    assert spec is not None
    kube: Any = spec.get("schematic").get("kube")  # type: ignore[union-attr]
    template = dict(kube.value["template"])
    given = kube.get("parameters")
    params = [_parameter(p, name, template, []) for p in (given.items() if given is not None else [])]
    workload = _workload(spec, template)
    func = re.sub(r"\W", "_", snake(name))
    return {
        "name": name,
        "func": func,
        "cls": _class_name(name),
        "const": "_" + func.upper() + "_TEMPLATE",
        "template": pprint.pformat(template, width=100, sort_dicts=False),
        "api_version": workload.api_version,
        "kind": workload.kind,
        "params": [
            {
                "field": p.field,
                "required": p.required,
                "annotation": _KUBE_TYPES[p.value_type] + ("" if p.required else " | None"),
                "paths": [text for text, _ in p.field_paths],
                "writes": [_write_target(template, path) for _, path in p.field_paths],
            }
            for p in sorted(params, key=lambda p: not p.required)
        ],
    }


def _parameter_block(text: str) -> list[str]:
    """The top-level lines of the CUE ``parameter: {...}`` block (nested lines dropped)."""
    m = re.search(r"^\s*parameter\s*:\s*\{", text, re.MULTILINE)
    if m is None:
        return []
    depth, lines, current = 1, [], ""
    for ch in text[m.end() :]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if ch == "\n":
            lines.append(current)
            current = ""
        elif depth == 1 or (depth == 2 and ch == "{"):
            current += ch
    lines.append(current)
    return [line for line in lines if line.strip()]


def _cue_type(text: str) -> str | None:
    text = text.strip()
    if text in _CUE_TYPES:
        return _CUE_TYPES[text]
    if text.endswith("{") or text == "{}":
        return "dict[str, Any]"
    m = re.fullmatch(r"\[\s*string\s*\]\s*:\s*(.+)", text)
    if m:
        inner = _cue_type(m.group(1))
        return f"dict[str, {inner or 'Any'}]"
    m = re.fullmatch(r"\[\s*\.\.\.\s*(.+?)\s*\]", text)
    if m:
        inner = _cue_type(m.group(1))
        return f"list[{inner or 'Any'}]"
    return None


def _cue_params(text: str) -> list[dict[str, Any]]:
    required: list[dict[str, Any]] = []
    optional: list[dict[str, Any]] = []
    for line in _parameter_block(text):
        m = _FIELD.match(line)
        if m is None:
            continue
        name, mark, value = m.group(1).strip('"'), m.group(2), m.group(3)
        default = None
        d = _DEFAULT.match(value)
        if d:
            default, value = d.group(1), d.group(2)
            default = {"true": "True", "false": "False"}.get(default, default)
        annotation = _cue_type(value)
        todo = None if annotation is not None else value
        annotation = annotation or "Any"
        if mark == "?" and default is None:
            annotation, default = (annotation if annotation == "Any" else annotation + " | None"), "None"
        if annotation.startswith(("dict", "list")) and default not in (None, "None"):
            todo, default = f"{value} with a default", None
        entry = {"field": snake(name), "annotation": annotation, "default": default, "todo": todo}
        (required if default is None else optional).append(entry)
    return required + optional


_PLAIN_OUTPUT = re.compile(r"^(?:outputs\.)?([A-Za-z_]\w*)$")


def step_outputs(apps: Sequence[Node]) -> dict[str, list[str]]:
    """The output fields the Applications read of each step type (``valueFrom: outputs.x``, a
    bare ``x`` or ``exportKey: x``): a CUE step's stub declares them, so the app refers to
    them as typed references and the ported step has to produce them."""
    found: dict[str, list[str]] = {}

    def walk(steps: Any) -> None:
        for s in steps if isinstance(steps, list) else []:
            if not isinstance(s, dict):
                continue
            for o in s.get("outputs") or []:
                key = o.get("valueFrom", o.get("exportKey")) if isinstance(o, dict) else None
                m = _PLAIN_OUTPUT.match(str(key)) if isinstance(key, str) else None
                if m and isinstance(s.get("type"), str):
                    fields = found.setdefault(s["type"], [])
                    if snake(m.group(1)) not in fields:
                        fields.append(snake(m.group(1)))
            walk(s.get("subSteps"))

    for doc in apps:
        walk(((doc.value.get("spec") or {}).get("workflow") or {}).get("steps"))
    return found


def _cue(doc: Node, outputs: dict[str, list[str]]) -> dict[str, Any]:
    kind = str(doc.value["kind"])
    name = str((doc.value.get("metadata") or {}).get("name") or "")
    spec = doc.value.get("spec") or {}
    cue = ((spec.get("schematic") or {}).get("cue") or {}).get("template")
    if not name or not isinstance(cue, str):
        raise AppLoadError(
            f"{kind} {name or '(no name)'} has neither a kube nor a CUE schematic",
            where=doc.where,
            expected="metadata.name and spec.schematic.kube or spec.schematic.cue.template",
            fix="give the complete definition as KubeVela stores it",
        )
    func = re.sub(r"\W", "_", snake(name))
    cls = _class_name(name)
    if kind == "ComponentDefinition":
        wl = (spec.get("workload") or {}).get("definition") or {}
        api, wkind = str(wl.get("apiVersion") or "apps/v1"), str(wl.get("kind") or "Deployment")
        workload = f"WorkloadType(api_version={api!r}, kind={wkind!r})"
        decorator = f"@component(name={name!r}, params={cls}, workload={workload})"
        signature = f"def {func}(p: {cls}, ctx: ComponentContext) -> Obj:"
    elif kind == "TraitDefinition":
        applies = tuple(str(a) for a in spec.get("appliesToWorkloads") or ())
        decorator = f"@trait(name={name!r}, params={cls}" + (f", applies_to={applies!r})" if applies else ")")
        signature = f"def {func}(p: {cls}, ctx: TraitContext) -> TraitResult:"
    else:
        decorator = f"@step(name={name!r}, params={cls})"
        returns = cls.removesuffix("Params") + "Outputs" if outputs.get(name) else "None"
        signature = f"async def {func}(p: {cls}, ctx: StepContext) -> {returns}:"
    return {
        "outputs": outputs.get(name, []) if kind == "WorkflowStepDefinition" else [],
        "outputs_cls": cls.removesuffix("Params") + "Outputs",
        "name": name,
        "kind": kind,
        "func": func,
        "cls": cls,
        "params": _cue_params(cue),
        "body": cue.rstrip().splitlines(),
        "decorator": decorator,
        "signature": signature,
    }


def definitions_source(
    docs: Sequence[Node], env: jinja2.Environment, sources: Sequence[str], outputs: dict[str, list[str]]
) -> tuple[str, dict[tuple[str, str], str], list[str]]:
    """The definitions module's text, ``(kind, name) -> function`` for what it defines, and
    the TODOs it leaves (one per CUE stub, one per warning about a kube schematic).

    ``outputs``: the output fields apps read of each step type (:func:`step_outputs`)."""
    kube: list[dict[str, Any]] = []
    cue: list[dict[str, Any]] = []
    warnings: list[str] = []
    seen: dict[tuple[str, str], Node] = {}
    for doc in docs:
        kind = _KIND[str(doc.value["kind"])]
        key = (kind, str((doc.value.get("metadata") or {}).get("name") or ""))
        if key in seen:
            raise AppLoadError(
                f"two {kind} definitions are named {key[1]!r}",
                where=doc.where,
                got=f"also at {seen[key].where}",
                fix="keep one of them",
            )
        seen[key] = doc
        schematic = (doc.value.get("spec") or {}).get("schematic") or {}
        if kind == "component" and isinstance(schematic, dict) and "kube" in schematic:
            kube.append(_kube(doc, warnings))
        else:
            cue.append(_cue(doc, outputs))
    imports = {"Obj"} if kube else set()
    if kube:
        imports |= {"component", "ComponentContext", "WorkloadType"}
    for d in cue:
        imports |= {
            "ComponentDefinition": {"component", "ComponentContext", "Obj", "WorkloadType"},
            "TraitDefinition": {"trait", "TraitContext", "TraitResult"},
            "WorkflowStepDefinition": {"step", "StepContext"},
        }[d["kind"]]
    stubs = [f"{d['kind']} {d['name']}" for d in cue]
    text = env.get_template("definitions.py.j2").render(
        sources=", ".join(sources),
        kube=kube,
        cue=cue,
        stubs=stubs,
        imports=sorted(imports, key=lambda n: (n[0].islower(), n)),
    )
    generated = {(_KIND[str(d.value["kind"])], str(d.value["metadata"]["name"])): "" for d in docs}
    for d in kube:
        generated[("component", d["name"])] = d["func"]
    for d in cue:
        generated[(_KIND[d["kind"]], d["name"])] = d["func"]
    todos = [*warnings]
    todos += [
        f"{s}: a stub; its CUE body is a comment in the definitions module, to port by hand" for s in stubs
    ]
    return text, generated, todos
