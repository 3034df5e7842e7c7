"""A fast YAML emitter for JSON-like data (the manifests pyvela prints).

PyYAML's representer is pure Python and dominates ``render`` for large apps. Manifests
are plain data (dicts, lists, strings, numbers, booleans, null), for which block-style
YAML is simple to emit: strings that could be read as anything else are written as JSON
strings, which YAML reads back verbatim. A property test checks ``safe_load(dump(x)) == x``.
"""

from __future__ import annotations

import functools
import json
import marshal
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


# Decisions per distinct string, in a dict whose ``__missing__`` decides a new one, so a lookup
# is one subscript, never a call: keys and most values repeat across thousands of manifests.
# Only exact ``str`` is looked up. Bounded so a long-lived process does not grow without limit.
_DECIDED_MAX = 1 << 16


class _Decided(dict[str, str]):
    def __missing__(self, text: str) -> str:
        if len(self) >= _DECIDED_MAX:
            self.clear()
        found = self[text] = _string(text)
        return found


_DECIDED = _Decided()
_LINES: dict[tuple[str, str, str], str] = {}


def _mapping(value: Any, indent: str, out: list[str], lead: str) -> None:
    """Append the lines of a non-empty mapping; ``lead`` replaces the first line's indent
    (a list item's ``- ``). Exact types are tested first: this is the hot loop of a render."""
    append = out.append
    decided = _DECIDED
    lines = _LINES
    slots = _SLOTS.get(indent)
    if slots is None:
        slots = _SLOTS[indent] = {}
    for key, item in value.items():
        kind = type(item)
        if kind is str and type(key) is str:
            # Whole lines repeat too (``- name: x`` at one depth, labels): one lookup each.
            line = lines.get((lead, key, item))
            if line is None:
                if len(lines) >= _DECIDED_MAX:
                    lines.clear()
                line = lines[(lead, key, item)] = f"{lead}{decided[key]}: {decided[item]}\n"
            append(line)
            lead = indent
            continue
        k = decided[key] if type(key) is str else _string(str(key))
        if kind is str:
            append(f"{lead}{k}: {decided[item]}\n")
        elif kind is dict or kind is list:
            if item:
                append(f"{lead}{k}:\n")
                score = slots.get(k)
                if score is None or score > 0:
                    _remembered(item, indent, out, slots, k)
                elif kind is dict:
                    _mapping(item, indent + "  ", out, indent + "  ")
                else:
                    _sequence(item, indent, out, indent)
            else:
                append(f"{lead}{k}: {{}}\n" if kind is dict else f"{lead}{k}: []\n")
        elif kind is int:
            append(f"{lead}{k}: {int.__repr__(item)}\n")
        elif isinstance(item, dict | list):
            if item:
                append(f"{lead}{k}:\n")
                _block(item, indent + "  " if isinstance(item, dict) else indent, out, None)
            else:
                append(f"{lead}{k}: {_inline(item)}\n")
        else:
            append(f"{lead}{k}: {scalar(item)}\n")
        lead = indent


# Whole blocks under a key repeat too (a template's env list, volumes, init containers: half of
# a templated app's lines), so a block's text is remembered by its content: marshal's bytes,
# computed in C, which hold the exact type of every node and the order of every key (marshal
# refuses subclasses), so equal bytes are equal data and print the same text. Blocks holding
# what JSON cannot write (code objects, whose text names an address) are not remembered. Each
# slot (a key's text at an indent) keeps a score, up on a hit and down on a miss: one whose
# blocks do not repeat (metadata, with the object's name) is no longer tried once it reaches
# 0, so its bytes are not computed again (repeating in a quarter of its blocks keeps it).
_SLOTS: dict[str, dict[str, int]] = {}
_BLOCKS: dict[tuple[str, bytes], str] = {}
_BLOCKS_MAX = 1 << 12
_LEARN, _HIT, _TOP = 8, 3, 64


def _remembered(item: Any, indent: str, out: list[str], slots: dict[str, int], k: str) -> None:
    score = slots.get(k)
    if score is None:
        if len(slots) >= _BLOCKS_MAX:  # bounded for a long-lived process, as the blocks are
            slots.clear()
        score = _LEARN
    key: tuple[str, bytes] | None = None
    try:
        data = marshal.dumps(item)
    except ValueError:  # a subclass, a node marshal cannot write
        pass
    else:
        key = (indent, data)
        text = _BLOCKS.get(key)
        if text is not None:
            if score < _TOP:
                slots[k] = score + _HIT
            out.append(text)
            return
    slots[k] = score - 1
    block: list[str] = []
    if type(item) is dict:
        _mapping(item, indent + "  ", block, indent + "  ")
    else:
        _sequence(item, indent, block, indent)
    text = "".join(block)
    out.append(text)
    if key is not None and _json(item):
        if len(_BLOCKS) >= _BLOCKS_MAX:
            _BLOCKS.clear()
        _BLOCKS[key] = text


def _json(item: Any) -> bool:
    try:
        json.dumps(item)
    except (TypeError, ValueError):
        return False
    return True


def _sequence(value: Any, indent: str, out: list[str], lead: str) -> None:
    """Append the items of a non-empty list, each ``- `` at ``indent`` (``lead`` for the first)."""
    append = out.append
    decided = _DECIDED
    inner = indent + "  "
    for item in value:
        kind = type(item)
        if kind is dict and item:
            _mapping(item, inner, out, lead + "- ")
        elif kind is str:
            append(f"{lead}- {decided[item]}\n")
        elif isinstance(item, dict | list) and item:
            _block(item, inner, out, lead + "- ")
        else:
            append(f"{lead}- {_inline(item)}\n")
        lead = indent


def _block(value: Any, indent: str, out: list[str], first: str | None) -> None:
    """The lines of ``value`` under a key (``indent`` is its children's indent)."""
    lead = indent if first is None else first
    if isinstance(value, dict):
        if value:
            _mapping(value, indent, out, lead)
    elif isinstance(value, list):
        if value:
            _sequence(value, indent, out, lead)
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
    _block(doc, "", out, None)
    return "".join(out)
