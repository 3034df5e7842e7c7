"""The few CUE package functions KubeVela's ``valueFrom``/``if`` examples call, in Python.

Only small, total functions of plain values, with CUE's argument rules (an int is an int,
not a float or a bool); anything else is refused where the expression is parsed. A problem
is a ValueError, which the expression evaluator quotes with the expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int, not {value!r:.40}")
    return value


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {value!r:.40}")
    return value


def _format_int(args: list[Any]) -> str:
    number, base = _int(args[0], "its first argument"), _int(args[1], "the base")
    if not 2 <= base <= 36:
        raise ValueError(f"the base must be 2 to 36, not {base}")
    digits, rest = "", abs(number)
    while True:
        rest, digit = divmod(rest, base)
        digits = _DIGITS[digit] + digits
        if rest == 0:
            break
    return "-" + digits if number < 0 else digits


def _atoi(args: list[Any]) -> int:
    text = _string(args[0], "its argument")
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        raise ValueError(f"{text!r:.40} is not a decimal integer")
    return int(text)


#: CUE function -> (how many arguments, the function over their values).
FUNCTIONS: Mapping[str, tuple[int, Callable[[list[Any]], Any]]] = {
    "strconv.FormatInt": (2, _format_int),
    "strconv.Itoa": (1, lambda args: str(_int(args[0], "its argument"))),
    "strconv.Atoi": (1, _atoi),
}


def call(name: str, args: list[Any]) -> Any:
    """``name(*args)``; ValueError when an argument does not fit."""
    return FUNCTIONS[name][1](args)
