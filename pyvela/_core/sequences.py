"""The list arguments of an app's objects (``components=``, ``policies=``, ``workflow=``,
``steps=``): one value given where a list belongs is an error at the app's line.

Without this, ``Application("a", components=web)`` is Python's "'ComponentUse' object is not
iterable" raised inside pyvela, and ``components="web"`` is silently three one-letter
components. The check runs in the attrs converters, before the object exists, so the line
is found by walking out of pyvela's own frames (and attrs' generated ``__init__``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from pyvela.errors import AppError, Location

T = TypeVar("T")

_PACKAGE = str(Path(__file__).resolve().parent.parent)


def _user_location() -> Location | None:
    """The innermost frame that is neither pyvela's nor generated: the line that made the object."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<") and not str(Path(name).resolve()).startswith(_PACKAGE):
            return Location(name, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def as_tuple(value: Iterable[T], argument: str, owner: str, example: str) -> tuple[T, ...]:
    """``value`` as a tuple, or AppError when it is one item (or a str, a mapping) not a list.

    ``argument`` is the keyword (``components``), ``owner`` what takes it (``Application``),
    ``example`` the call as it should be written (``components=[web]``).
    """
    if isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _not_a_list(value, argument, owner, example)
    return tuple(value)


def _not_a_list(value: object, argument: str, owner: str, example: str) -> AppError:
    name = getattr(value, "name", None)
    shown = (
        f"{name!r} ({type(value).__name__})"
        if isinstance(name, str)
        else f"{value!r:.80} ({type(value).__name__})"
    )
    return AppError(
        f"{owner}'s {argument}= must be a list, not one {type(value).__name__}",
        where=_user_location(),
        expected=f"a list, e.g. {example}",
        got=shown,
        fix=f"wrap it in a list: {example}",
    )
