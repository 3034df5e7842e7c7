"""KubeVela properties (camelCase YAML) into a definition's parameters (snake_case attrs).

Conversion follows the parameter class's annotations, so only names of parameters and of
nested parameter classes are mapped: the keys of a ``Mapping`` (labels, Helm values, an
object) are the user's data and stay as written. Every error names the YAML line of the
offending key or value, the property's path as written, expected vs got, and the fix.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import attrs

from pyvela._app.kubevela.marked import Node
from pyvela._core.params import Ref, build_params, check_value, describe_value, param_fields, type_name
from pyvela.errors import Location, ParameterError, PyvelaError

_UNIONS = (typing.Union, types.UnionType)
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``repoUrl`` -> ``repo_url``, ``backendIP`` -> ``backend_ip``, ``HTTPPort`` -> ``http_port``."""
    return _BOUNDARY.sub("_", name).replace("-", "_").lower()


def camel(name: str) -> str:
    """A parameter's name as KubeVela writes it: ``repo_url`` -> ``repoUrl``."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def field_for(key: Any, fields: Mapping[str, Any]) -> str | None:
    """The parameter a YAML key sets: as written, snake_cased, or with a keyword's ``_``."""
    if not isinstance(key, str):
        return None
    for candidate in (key, snake(key), key + "_", snake(key) + "_"):
        if candidate in fields:
            return candidate
    return None


def build(
    cls: Any,
    node: Node | None,
    *,
    where: Location,
    extra: Mapping[str, Any] | None = None,
    **context: Any,
) -> Any:
    """The parameters of ``cls`` from a ``properties`` mapping (None: no properties).

    ``extra`` holds values set otherwise (inputs' step-output references, by parameter name).
    """
    fields = param_fields(cls)
    node = _whole(node, fields)
    kwargs = _kwargs(cls, node, where=where, path="", context=context)
    kwargs.update(extra or {})
    missing = [n for n, (_tp, required) in fields.items() if required and n not in kwargs]
    if missing:
        name = missing[0]
        raise ParameterError(
            f"missing required property {camel(name)!r}",
            where=node.where if node is not None else where,
            parameter=camel(name),
            expected=type_name(fields[name][0]),
            got="nothing",
            fix=f"add `{camel(name)}: ...` under properties",
            **context,
        )
    at = node.where if node is not None else where
    return build_params(cls, (), kwargs, where=at, **context)


def _whole(node: Node | None, fields: Mapping[str, tuple[Any, bool]]) -> Node | None:
    """KubeVela's ``labels``, ``annotations`` and ``json-merge-patch`` take the whole properties
    mapping as their one parameter (``parameter: [string]: string``): a class with one mapping
    field gets the properties as that field, unless they are already written as it."""
    if node is None or not node.is_map or len(fields) != 1:
        return node
    ((name, (tp, _required)),) = fields.items()
    if not is_mapping(tp):
        return node
    written = [k for k in node.keys() if field_for(k, fields) == name]  # noqa: SIM118 (a Node)
    if len(node.keys()) == 1 and written and (node[written[0]].is_map or node[written[0]].value is None):
        return node
    return Node({}, node.file, node.line).with_entry(camel(name), node)


def is_mapping(tp: Any) -> bool:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return is_mapping(args[0])
    if origin in _UNIONS:
        return all(is_mapping(a) for a in args if a is not type(None))
    return origin in (dict, Mapping) or tp in (dict, Mapping)


def _kwargs(
    cls: type[Any], node: Node | None, *, where: Location, path: str, context: dict[str, Any]
) -> dict[str, Any]:
    fields = param_fields(cls)
    if node is None or node.value is None:
        return {}
    if not node.is_map:
        raise ParameterError(
            f"{'properties' if not path else repr(path)} must be a mapping",
            where=node.where,
            parameter=path or None,
            expected="a mapping of " + ", ".join(camel(n) for n in fields),
            got=describe_value(node.value),
            **context,
        )
    out: dict[str, Any] = {}
    keys_of: dict[str, Any] = {}
    for key, child in node.entries():
        name = field_for(key, fields)
        shown = f"{path}.{key}" if path else str(key)
        if name is not None and name in keys_of:  # imagePullPolicy and image_pull_policy: one would be lost
            raise ParameterError(
                f"{key!r} and {keys_of[name]!r} are the same property ({camel(name)!r}) given twice",
                where=node.key_where(key),
                parameter=shown,
                got=f"{keys_of[name]!r} at line {node.key_where(keys_of[name]).line}",
                fix=f"keep one of them (KubeVela's name is {camel(name)!r})",
                **context,
            )
        if name is not None:
            keys_of[name] = key
        if name is None:
            known = [camel(n) for n in fields]
            close = difflib.get_close_matches(str(key), known, n=1)
            raise ParameterError(
                f"unknown property {shown!r}",
                where=node.key_where(key),
                parameter=shown,
                expected="one of " + ", ".join(known) if known else "no properties",
                got=repr(key),
                fix=f"did you mean {close[0]!r}?" if close else "remove it",
                **context,
            )
        out[name] = convert(child, fields[name][0], path=shown, context=context)
    return out


def convert(node: Node, tp: Any, *, path: str, context: dict[str, Any]) -> Any:
    """``node``'s value as a value of annotation ``tp`` (nested attrs classes built)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return convert(node, args[0], path=path, context=context)
    if tp is Any or tp is object:
        return node.value
    if origin in _UNIONS:
        return _union(node, tp, args, path=path, context=context)
    if isinstance(tp, type) and attrs.has(tp):
        if not node.is_map:
            raise _wrong(node, tp, path, context)
        kwargs = _kwargs(tp, node, where=node.where, path=path, context=context)
        missing = [n for n, (_t, required) in param_fields(tp).items() if required and n not in kwargs]
        if missing:
            raise ParameterError(
                f"missing required property {path + '.' + camel(missing[0])!r}",
                where=node.where,
                parameter=f"{path}.{camel(missing[0])}",
                expected=type_name(param_fields(tp)[missing[0]][0]),
                got="nothing",
                fix=f"add `{camel(missing[0])}: ...` under {path}",
                **context,
            )
        try:
            return tp(**kwargs)
        except PyvelaError:
            raise
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"property {path!r} is invalid: {exc}", where=node.where, parameter=path, **context
            ) from None
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        if not node.is_map:
            raise _wrong(node, tp, path, context)
        value_tp = args[1] if len(args) == 2 else Any
        return {
            k: convert(child, value_tp, path=f"{path}[{k!r}]", context=context) for k, child in node.entries()
        }
    if origin in (tuple, list) or (
        origin is not None and origin.__name__ in ("Sequence", "Collection", "Iterable")
    ):
        if not node.is_list:
            raise _wrong(node, tp, path, context)
        items = node.items()
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(items):
                raise _wrong(node, tp, path, context)
            return tuple(
                convert(i, t, path=f"{path}[{n}]", context=context)
                for n, (i, t) in enumerate(zip(items, args, strict=True))
            )
        item_tp = args[0] if args else Any
        converted = [convert(i, item_tp, path=f"{path}[{n}]", context=context) for n, i in enumerate(items)]
        return converted if origin is list else tuple(converted)
    if origin is Literal:
        if not any(node.value == a and type(node.value) is type(a) for a in args):
            raise _wrong(node, tp, path, context, fix="use one of " + ", ".join(repr(a) for a in args))
        return node.value
    if isinstance(node.value, bool) and tp in (int, float):
        raise _wrong(node, tp, path, context)  # YAML's true is no number (Python's bool is an int)
    if not check_value(node.value, tp):
        raise _wrong(node, tp, path, context)
    return node.value


def _union(node: Node, tp: Any, args: tuple[Any, ...], *, path: str, context: dict[str, Any]) -> Any:
    if node.value is None:
        if type(None) in args:
            return None
        raise _wrong(node, tp, path, context)
    candidates = [a for a in args if a is not type(None) and _shape_fits(node, a)]
    for i, alternative in enumerate(candidates):
        try:
            return convert(node, alternative, path=path, context=context)
        except ParameterError:
            if i == len(candidates) - 1 and len(candidates) == 1:
                raise  # the only alternative of this shape: its own message is the precise one
    raise _wrong(node, tp, path, context)


def _shape_fits(node: Node, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _shape_fits(node, typing.get_args(tp)[0])
    if tp is Any or tp is object:
        return True
    structured = (
        (isinstance(tp, type) and attrs.has(tp)) or origin in (dict, Mapping) or tp in (dict, Mapping)
    )
    sequence = origin in (tuple, list) or (
        origin is not None and getattr(origin, "__name__", "") == "Sequence"
    )
    if node.is_map:
        return structured
    if node.is_list:
        return sequence
    return not structured and not sequence


def _wrong(
    node: Node, tp: Any, path: str, context: dict[str, Any], *, fix: str | None = None
) -> ParameterError:
    return ParameterError(
        f"property {path!r} has the wrong type",
        where=node.where,
        parameter=path,
        expected=_yaml_type(tp),
        got=describe_value(node.value),
        fix=fix or _give(path, _yaml_type(tp)),
        **context,
    )


def _give(path: str, shown: str) -> str:
    # "a mapping of type, value" already reads as a value: not "a value of type a mapping..."
    if shown.startswith(("a ", "an ")):
        return f"give {path} {shown}"
    return f"give {path} a value of type {shown}"


def _yaml_type(tp: Any) -> str:
    """``tp`` as a YAML author reads it: ``a list of str``, not ``tuple[str, ...] | None``."""
    if isinstance(tp, type) and attrs.has(tp):
        return "a mapping of " + ", ".join(camel(n) for n in param_fields(tp))
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return _yaml_type(args[0])
    if origin in _UNIONS:
        shown = [_yaml_type(a) for a in args if a is not type(None)]
        return " or ".join(shown) if shown else type_name(tp)
    if origin in (tuple, list) and args and (origin is list or (len(args) == 2 and args[1] is Ellipsis)):
        item = _yaml_type(args[0])
        return f"a list of {item[2:] if item.startswith('a ') else item}"
    return type_name(tp)


def is_ref(value: Any) -> bool:
    return isinstance(value, Ref)
