"""The emitter as it was before its fast paths (a reference: the fast one must print the same)."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import functools
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+:-]*(?: [A-Za-z0-9_./@+()-]+)*")
_RESERVED = frozenset(
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", "inf", ".nan", ".inf", "-.inf"]
)


def scalar(value: Any) -> str:
    """A plain scalar as YAML 1.1 reads it back (quoted where it would read as another type)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        mantissa, e, exponent = repr(value).partition("e")
        # YAML 1.1 readers (PyYAML) need a dot in the mantissa to see a float.
        return (mantissa if "." in mantissa else mantissa + ".0") + e + exponent
    return _string(str(value))


# Keys and most values repeat across thousands of manifests (``apiVersion``, ``name``,
# label values): deciding plain-or-quoted once per distinct string halves a large render.
@functools.lru_cache(maxsize=65536)
def _string(text: str) -> str:
    if (
        _PLAIN.fullmatch(text)
        and text.lower() not in _RESERVED
        and not text.endswith(":")
        and ": " not in text
    ):
        return text
    return _quote(text)


def printable(ch: str) -> bool:
    """Whether YAML reads ``ch`` back verbatim inside a double-quoted scalar."""
    code = ord(ch)
    # Line breaks YAML would fold (NEL, LS, PS) and the BOM are escaped too.
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ) and code not in (0xFEFF, 0x2028, 0x2029)


def _quote(text: str) -> str:
    """A YAML double-quoted scalar: escapes what YAML would not read back verbatim."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif printable(ch):
            out.append(ch)
        else:
            code = ord(ch)
            width = "x02" if code < 0x100 else ("u04" if code < 0x10000 else "U08")
            out.append(f"\\{width[0]}{code:{width[1:]}x}")
    out.append('"')
    return "".join(out)


def _emit(value: Any, indent: str, out: list[str], first: str | None = None) -> None:
    """Append the lines of ``value`` as a block under a key (``indent`` is its children's).

    ``first`` replaces the first line's indent (a list item's ``- ``). Exact types are tested
    first: this is the hot loop of a large render.
    """
    lead = indent if first is None else first
    if isinstance(value, dict):
        for key, item in value.items():
            k = _string(key if type(key) is str else str(key))
            kind = type(item)
            if kind is str:
                out.append(f"{lead}{k}: {_string(item)}\n")
            elif kind is dict or kind is list or isinstance(item, dict | list):
                if item:
                    out.append(f"{lead}{k}:\n")
                    _emit(item, indent + "  " if isinstance(item, dict) else indent, out)
                else:
                    out.append(f"{lead}{k}: {_inline(item)}\n")
            else:
                out.append(f"{lead}{k}: {scalar(item)}\n")
            lead = indent
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                _emit(item, indent + "  ", out, f"{lead}- ")
            else:
                out.append(f"{lead}- {_inline(item)}\n")
            lead = indent
    else:
        out.append(f"{lead}{_inline(value)}\n")


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def dump(doc: Any) -> str:
    """One YAML document for ``doc`` (no leading ``---``)."""
    if not isinstance(doc, dict | list) or not doc:
        return _inline(doc) + "\n"
    out: list[str] = []
    _emit(doc, "", out)
    return "".join(out)
