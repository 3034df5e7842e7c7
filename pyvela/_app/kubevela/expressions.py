"""KubeVela's expressions (CUE in KubeVela) for ``valueFrom`` and ``if``, without CUE.

The subset KubeVela's documentation and examples use is parsed with lark into a small
tree and evaluated over plain data: field paths (``output.value.spec.clusterIP``,
``outputs.name``, ``inputs.name``, ``status.<step>.phase``/``.succeeded``/``.timeout``,
``context.name``/``.namespace``), string/number/bool literals, ``==``, ``!=``, ``<``, ``>``,
``&&``, ``||``, ``!``, parentheses and ``+``, and the few imported package functions of
``cuefuncs`` (``strconv.FormatInt``). Anything else (interpolation, other functions,
comprehensions, unification) is refused with a message that quotes the expression:
nothing is evaluated by a general-purpose evaluator.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import lark

from pyvela._app.kubevela import cuefuncs

SUPPORTED = (
    "field paths (output.value.spec.clusterIP, outputs.name, inputs.name, "
    "status.<step>.phase / .succeeded / .timeout, context.name / context.namespace; "
    'a segment that is not an identifier as ["my-step"], a list index as [0]), '
    "string, number and bool literals, == != < > && || ! ( ) and + (strings, numbers), "
    'after import "strconv": ' + ", ".join(cuefuncs.FUNCTIONS)
)

_GRAMMAR = r"""
?start: or_
?or_: and_ | or_ "||" and_ -> or_op
?and_: cmp | and_ "&&" cmp -> and_op
?cmp: sum | sum CMP sum -> cmp_op
?sum: unary | sum "+" unary -> add_op
?unary: atom | "!" unary -> not_op
?atom: literal | call | path | "(" or_ ")"
call: NAME "." NAME "(" [or_ ("," or_)*] ")"
literal: STRING -> string
       | NUMBER -> number
       | "true" -> true
       | "false" -> false
path: NAME segment*
segment: "." NAME -> field
       | "[" STRING "]" -> key
       | "[" INT "]" -> index
CMP: "==" | "!=" | "<" | ">"
NAME: /(?!(true|false)\b)[A-Za-z_$][A-Za-z0-9_$]*/
STRING: /"(?:[^"\\\n]|\\(?:["\\\/bfnrt]|u[0-9a-fA-F]{4}))*"/
NUMBER: /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/
INT: /0|[1-9][0-9]*/
%ignore /[ \t\n]+/
"""


# --------------------------------------------------------------------------- the tree


@attrs.frozen
class Lit:
    value: str | int | float | bool


@attrs.frozen
class Path:
    root: str
    segments: tuple[str | int, ...] = ()


@attrs.frozen
class Not:
    operand: Expr


@attrs.frozen
class Bin:
    op: str  # "||", "&&", "==", "!=", "<", ">", "+"
    left: Expr
    right: Expr


@attrs.frozen
class Call:
    func: str  # "strconv.FormatInt"
    args: tuple[Expr, ...]


Expr = Lit | Path | Not | Bin | Call

_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 3, ">": 3, "+": 4}


class ExpressionError(Exception):
    """An expression outside the subset, or one that cannot be evaluated over the data."""

    def __init__(self, expression: str, problem: str) -> None:
        super().__init__(f"{problem} in {expression!r}")
        self.expression, self.problem = expression, problem


def _unquote(token: str) -> str:
    value: str = json.loads(token)  # the accepted escapes are JSON's
    return value


class _Build(lark.Transformer[Any, Expr]):
    def string(self, items: list[lark.Token]) -> Lit:
        return Lit(_unquote(items[0]))

    def number(self, items: list[lark.Token]) -> Lit:
        text = str(items[0])
        return Lit(int(text) if re.fullmatch(r"-?\d+", text) else float(text))

    def true(self, _items: list[Any]) -> Lit:
        return Lit(True)

    def false(self, _items: list[Any]) -> Lit:
        return Lit(False)

    def field(self, items: list[lark.Token]) -> str:
        return str(items[0])

    def key(self, items: list[lark.Token]) -> str:
        return _unquote(items[0])

    def index(self, items: list[lark.Token]) -> int:
        return int(items[0])

    def path(self, items: list[Any]) -> Path:
        return Path(str(items[0]), tuple(items[1:]))

    def call(self, items: list[Any]) -> Call:
        return Call(f"{items[0]}.{items[1]}", tuple(a for a in items[2:] if a is not None))

    def not_op(self, items: list[Expr]) -> Not:
        return Not(items[0])

    def or_op(self, items: list[Expr]) -> Bin:
        return Bin("||", items[0], items[1])

    def and_op(self, items: list[Expr]) -> Bin:
        return Bin("&&", items[0], items[1])

    def add_op(self, items: list[Expr]) -> Bin:
        return Bin("+", items[0], items[1])

    def cmp_op(self, items: list[Any]) -> Bin:
        return Bin(str(items[1]), items[0], items[2])


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(_GRAMMAR, parser="lalr", transformer=_Build(), maybe_placeholders=False)


# A backslash that is not itself escaped, then "(": CUE's interpolation inside a string.
_INTERPOLATION = re.compile(r"(?<!\\)(?:\\\\)*\\\(")


def parse(text: str) -> Expr:
    """The tree of ``text``.

    Raises:
        ExpressionError: ``text`` is outside the subset (quoting what was not understood).
    """
    if _INTERPOLATION.search(text):
        raise ExpressionError(text, "string interpolation \\(...) is not supported")
    imported, body = set(), text
    while found := _IMPORT.match(body):
        imported.add(found.group(1))
        body = body[found.end() :]
    try:
        tree = _parser().parse(body)
    except lark.exceptions.UnexpectedCharacters as exc:
        raise ExpressionError(
            text, f"unexpected {text[exc.pos_in_stream or 0]!r} at column {exc.column}"
        ) from None
    except lark.exceptions.UnexpectedEOF:
        raise ExpressionError(text, "the expression ends too early") from None
    except lark.exceptions.UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise ExpressionError(text, "the expression ends too early") from None
        raise ExpressionError(text, f"unexpected {str(exc.token)!r} at column {exc.column}") from None
    except lark.exceptions.LarkError as exc:
        raise ExpressionError(text, str(exc).splitlines()[0]) from None
    assert isinstance(tree, Lit | Path | Not | Bin | Call)
    for c in _calls(tree):
        if c.func not in cuefuncs.FUNCTIONS:
            raise ExpressionError(text, f"the function {c.func} is not supported")
        if c.func.split(".")[0] not in imported:
            raise ExpressionError(text, f'{c.func} needs import "{c.func.split(".")[0]}"')
        if len(c.args) != cuefuncs.FUNCTIONS[c.func][0]:
            raise ExpressionError(text, f"{c.func} takes {cuefuncs.FUNCTIONS[c.func][0]} argument(s)")
    return tree


_IMPORT = re.compile(r'\s*import\s+"([a-z]+)"[ \t]*(?:\n|;)')


def _calls(expr: Expr) -> list[Call]:
    if isinstance(expr, Call):
        return [expr, *(c for a in expr.args for c in _calls(a))]
    if isinstance(expr, Not):
        return _calls(expr.operand)
    return _calls(expr.left) + _calls(expr.right) if isinstance(expr, Bin) else []


# --------------------------------------------------------------------------- printing

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def show(expr: Expr) -> str:
    """The canonical text of ``expr`` (``parse(show(e)) == e``)."""
    packages = sorted({c.func.split(".")[0] for c in _calls(expr)})
    return "".join(f'import "{p}"\n' for p in packages) + _show(expr, 0)


def _show(expr: Expr, outer: int) -> str:
    if isinstance(expr, Lit):
        return _literal(expr.value)
    if isinstance(expr, Path):
        return expr.root + "".join(_segment(s) for s in expr.segments)
    if isinstance(expr, Not):
        return "!" + _show(expr.operand, 5)
    if isinstance(expr, Call):
        return expr.func + "(" + ", ".join(_show(a, 0) for a in expr.args) + ")"
    level = _PRECEDENCE[expr.op]
    # Left-associative chains (|| && +) print bare on the left; comparisons do not chain.
    left = _show(expr.left, level + 1 if level == 3 else level)
    right = _show(expr.right, level + 1)
    text = f"{left} {expr.op} {right}"
    return f"({text})" if level < outer else text


def _literal(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _segment(segment: str | int) -> str:
    if isinstance(segment, int):
        return f"[{segment}]"
    if _IDENT.fullmatch(segment) and segment not in ("true", "false"):
        return "." + segment
    return f"[{json.dumps(segment)}]"


# --------------------------------------------------------------------------- evaluation


def roots(expr: Expr) -> set[str]:
    """The top-level names ``expr`` reads (``status``, ``inputs``...)."""
    if isinstance(expr, Path):
        return {expr.root}
    if isinstance(expr, Not):
        return roots(expr.operand)
    if isinstance(expr, Bin):
        return roots(expr.left) | roots(expr.right)
    return {r for a in expr.args for r in roots(a)} if isinstance(expr, Call) else set()


def map_paths(expr: Expr, fn: Callable[[Path], Path]) -> Expr:
    """``expr`` with each path replaced by ``fn(path)``."""
    if isinstance(expr, Path):
        return fn(expr)
    if isinstance(expr, Not):
        return Not(map_paths(expr.operand, fn))
    if isinstance(expr, Bin):
        return Bin(expr.op, map_paths(expr.left, fn), map_paths(expr.right, fn))
    if isinstance(expr, Call):
        return Call(expr.func, tuple(map_paths(a, fn) for a in expr.args))
    return expr


def paths(expr: Expr) -> list[Path]:
    if isinstance(expr, Path):
        return [expr]
    if isinstance(expr, Not):
        return paths(expr.operand)
    if isinstance(expr, Bin):
        return paths(expr.left) + paths(expr.right)
    return [p for a in expr.args for p in paths(a)] if isinstance(expr, Call) else []


Lookup = Callable[[Path], Any]


def evaluate(expr: Expr, lookup: Lookup, text: str) -> Any:
    """The value of ``expr``; ``lookup`` resolves its paths. ``text`` is quoted in errors.

    Raises:
        ExpressionError: a type mismatch (``&&`` on a string, ``<`` on a bool...).
    """
    if isinstance(expr, Lit):
        return expr.value
    if isinstance(expr, Path):
        return lookup(expr)
    if isinstance(expr, Not):
        return not _bool(evaluate(expr.operand, lookup, text), "!", text)
    if isinstance(expr, Call):
        try:
            return cuefuncs.call(expr.func, [evaluate(a, lookup, text) for a in expr.args])
        except ValueError as exc:
            raise ExpressionError(text, f"{expr.func}: {exc}") from None
    if expr.op in ("&&", "||"):
        left = _bool(evaluate(expr.left, lookup, text), expr.op, text)
        if left == (expr.op == "||"):
            return left
        return _bool(evaluate(expr.right, lookup, text), expr.op, text)
    a, b = evaluate(expr.left, lookup, text), evaluate(expr.right, lookup, text)
    if expr.op == "==":
        return _same(a, b)
    if expr.op == "!=":
        return not _same(a, b)
    if expr.op == "+":
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if _number(a) and _number(b):
            return a + b
        raise ExpressionError(text, f"+ joins two strings or adds two numbers, not {_kind(a)} and {_kind(b)}")
    if (_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str)):
        return a < b if expr.op == "<" else a > b
    raise ExpressionError(
        text, f"{expr.op} compares two numbers or two strings, not {_kind(a)} and {_kind(b)}"
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False  # CUE: true != 1
    return bool(a == b)


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def _bool(value: Any, op: str, text: str) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(text, f"{op} needs a bool, got {_kind(value)} {value!r:.40}")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Mapping):
        return "struct"
    if isinstance(value, list | tuple):
        return "list"
    return "null" if value is None else type(value).__name__


def walk(value: Any, segments: tuple[str | int, ...], start: str, text: str) -> Any:
    """Follow ``segments`` from ``value`` (``start`` names where it came from, for errors).

    A struct field is looked up as written, then snake_cased (a Python outputs field
    ``cluster_ip`` answers ``clusterIP``); an attrs object is read as a struct.
    """
    from pyvela._app.kubevela.props import snake

    here = start
    for seg in segments:
        if attrs.has(type(value)):
            value = attrs.asdict(value)
        if isinstance(seg, int):
            if not isinstance(value, list | tuple) or seg >= len(value):
                got = f"a list of {len(value)}" if isinstance(value, list | tuple) else _kind(value)
                raise ExpressionError(text, f"{here}[{seg}] does not exist ({here} is {got})")
            value, here = value[seg], f"{here}[{seg}]"
            continue
        if not isinstance(value, Mapping):
            raise ExpressionError(text, f"{here}.{seg} does not exist ({here} is {_kind(value)})")
        key = seg if seg in value else snake(seg)
        if key not in value:
            known = ", ".join(sorted(map(str, value))[:12]) or "nothing"
            raise ExpressionError(text, f"{here}{_segment(seg)} does not exist ({here} has {known})")
        value, here = value[key], here + _segment(seg)
    return value
