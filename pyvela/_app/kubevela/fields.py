"""Reading a KubeVela document's fields: each error names the YAML line and what was expected."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela.marked import Node
from pyvela._core.params import describe_value
from pyvela.errors import AppError, Location, UnknownDefinitionError


def keys(node: Node, allowed: tuple[str, ...], what: str, **context: Any) -> None:
    """Refuse a field ``node`` does not have in KubeVela (a typo would otherwise be ignored)."""
    if not node.is_map:
        raise AppError(
            f"{what} must be a mapping",
            where=node.where,
            got=repr(node.value)[:60],
            fix=f"write {what} as `key: value` lines (or {{key: value}})",
            **context,
        )
    for key in node.keys():  # noqa: SIM118 (a Node, not a dict)
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            raise AppError(
                f"{what} has an unknown field {key!r}",
                where=node.key_where(key),
                expected="one of " + ", ".join(allowed),
                got=repr(key),
                fix=f"did you mean {close[0]!r}?" if close else "remove it",
                **context,
            )


def string(node: Node | None, what: str, where: Location, **context: Any) -> str:
    if node is None or not isinstance(node.value, str) or not node.value:
        raise AppError(
            f"{what} must be a non-empty string",
            where=node.where if node is not None else where,
            got=repr(node.value) if node is not None else "nothing",
            fix=f'write {what} as a string (quoted where YAML reads another type: "123")'
            if node is not None and node.value not in (None, "")
            else f"add {what}",
            **context,
        )
    return node.value


def items(node: Node | None, what: str, **context: Any) -> list[Node]:
    if node is None or node.value is None:
        return []
    if not node.is_list:
        raise AppError(
            f"{what} must be a list",
            where=node.where,
            got=describe_value(node.value),
            fix=f"write {what} as a list: one `- ` item per entry (or [a, b])",
            **context,
        )
    return node.items()


def lookup(catalogue: Catalogue, kind: str, type_node: Node | None, where: Location, **context: Any) -> Any:
    """The definition of ``kind`` a ``type`` field names; unknown: the known ones, and the fix."""
    name = string(type_node, "type", where, **context)
    definition = catalogue.get(kind, name)
    if definition is not None:
        return definition
    at = type_node.where if type_node is not None else where
    step_type = getattr(catalogue, "step_type", None)
    if kind == "step" and step_type is not None:
        try:
            step_type(name, where=at, **context)
        except UnknownDefinitionError as exc:
            if "not supported" in exc.message:  # one of KubeVela's steps pyvela refuses, saying why
                raise
    # By name: the app layer does not import the standard library.
    unsupported = importlib.import_module("pyvela.stdlib.unsupported")
    why = {
        "policy": unsupported.why_policy,
        "component": unsupported.why_component,
        "trait": unsupported.why_trait,
    }.get(kind)
    reason = why(name) if why is not None else None
    if reason is not None:
        raise UnknownDefinitionError(
            f"{kind} type {name!r} is not supported, because {reason}",
            where=at,
            definition=name,
            got=repr(name),
            fix=f"remove the {kind}, or replace it as the reason says",
            **context,
        )
    known = (["step-group"] if kind == "step" else []) + catalogue.names(kind)
    close = difflib.get_close_matches(name, known, n=1)
    modules = ", ".join(catalogue.modules) or "none"
    raise UnknownDefinitionError(
        f"unknown {kind} type {name!r}",
        where=at,
        definition=name,
        expected="one of " + (", ".join(known) or "none"),
        got=repr(name),
        fix=(f"did you mean {close[0]!r}? Or " if close else "")
        + f"define {kind} {name!r} in a module given with --defs (modules: {modules})",
        **context,
    )
