"""An unknown property of a definition that replaces a standard one of the same name.

A team's ``helm`` (the seed's platform_defs has one) replaces the standard library's for every
app of its catalogue, so KubeVela YAML written from the standard library's documentation
(``url:``) is refused by a definition the author did not know was there. The error then says
whose definition it is, that the standard one has the property, and how to reach it.
"""

from __future__ import annotations

from typing import Any

from pyvela._app.catalogue import Catalogue, is_standard
from pyvela._core.params import param_fields
from pyvela.errors import ParameterError


def explain(exc: ParameterError, kind: str, definition: Any) -> ParameterError:
    """``exc`` with a fix naming the standard definition, when it is the one that fits."""
    key = exc.got.strip("'\"") if exc.got else ""
    if not exc.message.startswith("unknown property") or "." in key or is_standard(definition):
        return exc
    from pyvela._app.kubevela.props import field_for

    standard: Any = Catalogue.from_modules([], stdlib=True).get(kind, definition.name)
    if standard is None or field_for(key, param_fields(standard.params)) is None:
        return exc
    exc.fix = (
        f"this catalogue's {kind} {definition.name!r} ({definition.where}) replaces the standard "
        f"library's, which has {key!r}: use the properties this one has ({exc.expected}), or "
        f"a catalogue without it (--defs pyvela.stdlib, or the modules you need)"
    )
    return exc
