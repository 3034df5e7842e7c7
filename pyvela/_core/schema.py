"""What every definition shares: its parameter schema, where it was defined, its
description, a checked name, and the checked build of its parameters at a call site.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from pyvela._core.params import build_params, caller_location, param_schema
from pyvela.errors import DefinitionError, Location


def checked_call(
    cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], **context: Any
) -> tuple[Any, Location]:
    """Build a definition's parameters at its call site (two frames up: the app's line)."""
    where = caller_location(3)
    return build_params(typing.cast(type[Any], cls), args, kwargs, where=where, **context), where


class Schema:
    """Gives every definition its parameter schema (for ``pyvela defs`` and tooling)."""

    params: Any

    def schema(self) -> dict[str, dict[str, Any]]:
        """``{parameter: {"type", "required", "default"?, "description"?}}``."""
        return param_schema(self.params)


def describe(fn: Callable[..., Any]) -> str:
    return inspect.cleandoc(fn.__doc__ or "").strip()


def where_of(fn: Callable[..., Any]) -> Location:
    code = getattr(fn, "__code__", None)
    if code is None:
        return Location("<unknown>", 0)
    return Location(code.co_filename, code.co_firstlineno)


def check_name(name: str, where: Location) -> None:
    if not name or not all(ch.isalnum() or ch in "-." for ch in name) or name != name.lower():
        raise DefinitionError(
            f"definition name {name!r} is not a lowercase DNS-style name",
            where=where,
            expected="lowercase letters, digits, '-' and '.'",
            got=repr(name),
        )
