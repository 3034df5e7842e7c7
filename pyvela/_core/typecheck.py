"""Run-time type checks of parameter values: a compiled checker per annotation, typeguard's verdict.

Every call site checks every parameter (every item of every collection). typeguard does it by
interpreting the annotation for each value, and importing it costs more than a whole small
render (it pulls in asyncio and unittest.mock). Here each annotation is compiled once into a
function that can only *accept*: for the annotations parameter classes use (classes, None,
Literal, unions, Annotated, NewType, dict/Mapping/list/Sequence/tuple/set with their items)
it accepts exactly what typeguard accepts, and for anything else, or any value it does not
accept, typeguard (imported then) gives the verdict. So a wrong value is always refused by
typeguard itself, and the fast path can only make an accepted value cheaper.
"""

from __future__ import annotations

import collections.abc as abc
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal

Check = Callable[[Any], bool]

_UNIONS = (typing.Union, types.UnionType)
_MAPPINGS: dict[Any, Any] = {
    dict: dict,
    typing.Dict: dict,  # noqa: UP006 - the annotation as written
    abc.Mapping: abc.Mapping,
    typing.Mapping: abc.Mapping,
    abc.MutableMapping: abc.MutableMapping,
    typing.MutableMapping: abc.MutableMapping,
}
_SEQUENCES: dict[Any, Any] = {
    list: list,
    typing.List: list,  # noqa: UP006
    abc.Sequence: abc.Sequence,
    typing.Sequence: abc.Sequence,
}
_SETS: dict[Any, Any] = {
    set: abc.Set,
    typing.Set: abc.Set,  # noqa: UP006
    abc.Set: abc.Set,
    typing.AbstractSet: abc.Set,
    frozenset: frozenset,
    typing.FrozenSet: frozenset,  # noqa: UP006
}
#: Classes typeguard checks by a rule of its own rather than by isinstance.
_NUMBERS: dict[Any, tuple[type, ...]] = {float: (float, int), complex: (complex, float, int)}

_CACHE: dict[Any, Check] = {}
_UNHASHABLE: dict[int, tuple[Any, Check]] = {}


def typeguard_accepts(value: Any, tp: Any) -> bool:
    """typeguard's verdict, every item of every collection checked."""
    import typeguard

    try:
        typeguard.check_type(value, tp, collection_check_strategy=typeguard.CollectionCheckStrategy.ALL_ITEMS)
    except typeguard.TypeCheckError:
        return False
    return True


def accepts(value: Any, tp: Any) -> bool:
    """True when ``value`` matches the annotation ``tp`` (as typeguard, with ALL_ITEMS)."""
    return checker(tp)(value) or typeguard_accepts(value, tp)


def checker(tp: Any) -> Check:
    """The compiled fast check of ``tp`` (cached); False means "ask typeguard", not "wrong"."""
    try:
        found = _CACHE.get(tp)
    except TypeError:  # Annotated[...] with unhashable metadata
        entry = _UNHASHABLE.get(id(tp))
        if entry is not None and entry[0] is tp:
            return entry[1]
        check = _compile(tp)
        _UNHASHABLE[id(tp)] = (tp, check)  # holding tp keeps its id from being reused
        return check
    if found is None:
        found = _CACHE[tp] = _compile(tp)
    return found


def _never(value: Any) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


def _compile(tp: Any) -> Check:
    if tp is Any or tp is object:
        return _always
    if tp is None or tp is type(None):
        return lambda v: v is None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Annotated:
        return _compile(args[0])
    if origin is Literal:
        if not all(a is None or type(a) in (str, int, bool, bytes) for a in args):
            return _never  # enums and the like: typeguard's rules
        allowed = frozenset((type(a), a) for a in args)
        kinds = frozenset(type(a) for a in args)  # exact types: only they can be in allowed
        return lambda v: type(v) in kinds and (type(v), v) in allowed
    if origin in _UNIONS:
        return _union(args)
    if type(tp).__name__ == "NewType":
        return _compile(tp.__supertype__)
    if origin is None and isinstance(tp, type):
        return _class(tp)
    if origin in _MAPPINGS and len(args) == 2:
        return _mapping(_MAPPINGS[origin], args)
    if origin in _SEQUENCES and len(args) == 1:
        return _items(_SEQUENCES[origin], args[0])
    if origin in _SETS and len(args) == 1:
        return _items(_SETS[origin], args[0])
    if origin is tuple:
        return _tuple(args)
    return _never


def _union(args: tuple[Any, ...]) -> Check:
    # Members whose check is an instance check are one isinstance call (``int | None``).
    classes: list[type] = []
    others: list[Check] = []
    for a in args:
        plain = _instance_of(a)
        if plain is None:
            others.append(_compile(a))
        else:
            classes.extend(plain)
    kinds = tuple(classes)
    if not others:
        return lambda v: isinstance(v, kinds)
    if len(others) == 1:
        [other] = others
        return lambda v: isinstance(v, kinds) or other(v)
    rest = tuple(others)
    return lambda v: isinstance(v, kinds) or any(part(v) for part in rest)


def _instance_of(tp: Any) -> tuple[type, ...] | None:
    """The classes whose instance check is ``tp``'s whole check, or None for any other check."""
    if tp is None or tp is type(None):
        return (type(None),)
    if typing.get_origin(tp) is Annotated:
        return _instance_of(typing.get_args(tp)[0])
    if type(tp).__name__ == "NewType":
        return _instance_of(tp.__supertype__)
    if typing.get_origin(tp) is None and isinstance(tp, type) and tp is not object and tp is not Any:
        return _class_bases(tp)
    return None


def _class_bases(tp: type) -> tuple[type, ...] | None:
    """What an instance of ``tp`` is checked against, or None where typeguard's rules apply."""
    numbers = _NUMBERS.get(tp)
    if numbers is not None:
        return numbers
    if (
        getattr(tp, "_is_protocol", False)
        or typing.is_typeddict(tp)
        or (issubclass(tp, tuple) and tp is not tuple)  # NamedTuple: typeguard checks fields
        or tp in (bytes, type, abc.Callable)  # checked by rules of typeguard's own
    ):
        return None
    if tp in _MAPPINGS or tp in _SEQUENCES or tp in _SETS or tp is tuple:
        # Bare collections: an instance check, as typeguard's for unparametrised ones.
        return (_MAPPINGS.get(tp) or _SEQUENCES.get(tp) or _SETS.get(tp) or tuple,)
    return (tp,)


def _class(tp: type) -> Check:
    bases = _class_bases(tp)
    if bases is None:
        return _never
    return lambda v: isinstance(v, bases)


def _mapping(base: Any, args: tuple[Any, ...]) -> Check:
    if args[0] is Any and args[1] is Any:
        return lambda v: isinstance(v, base)
    key, item = _compile(args[0]), _compile(args[1])
    if key is _always:
        return lambda v: isinstance(v, base) and all(item(x) for x in v.values())
    return lambda v: isinstance(v, base) and all(key(k) and item(x) for k, x in v.items())


def _items(base: Any, arg: Any) -> Check:
    if arg is Any:
        return lambda v: isinstance(v, base)
    item = _compile(arg)
    return lambda v: isinstance(v, base) and all(item(x) for x in v)


def _tuple(args: tuple[Any, ...]) -> Check:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _compile(args[0])
        return lambda v: isinstance(v, tuple) and all(item(x) for x in v)
    if not args or Ellipsis in args:
        return _never  # tuple[()] and odd forms: typeguard's rules
    parts = tuple(_compile(a) for a in args)
    return lambda v: (
        isinstance(v, tuple) and len(v) == len(parts) and all(p(x) for p, x in zip(parts, v, strict=True))
    )
