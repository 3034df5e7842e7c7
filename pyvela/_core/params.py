"""Parameter classes: construction with runtime type checks, and deferred references.

A definition's parameters are a frozen, keyword-only attrs class. Its constructor is the
call site (so IDEs and type checkers see it); at run time :func:`build_params` checks
every value by typeguard's rules, every item of every collection (compiled checkers:
:mod:`pyvela._core.typecheck`), and lets a :class:`Ref` to another step's output through,
to be checked when the upstream step has finished.
"""

from __future__ import annotations

import functools
import sys
import typing
from collections.abc import Mapping
from typing import Annotated, Any

import attrs

from pyvela._core.assignable import may_assign
from pyvela._core.typecheck import Check, accepts, checker
from pyvela.errors import Location, ParameterError


class _ComponentRefMarker:
    """Marks a ``str`` parameter that names a component of the same app."""

    def __repr__(self) -> str:
        return "ComponentName"


#: A ``str`` parameter that must name a component of the app (checked at load time).
ComponentName = Annotated[str, _ComponentRefMarker()]


@attrs.frozen
class Ref:
    """A reference to one output field of a workflow step, resolved at run time.

    The app writes ``base.outputs.cluster_ip``; type checkers see the field's type, the
    runner sees this reference, which gives the step graph its data edge.
    """

    step: str
    field: str
    type: Any = attrs.field(eq=False, default=Any)
    where: Location | None = attrs.field(eq=False, default=None)

    def __str__(self) -> str:
        return f"{self.step}.outputs.{self.field}"


def caller_location(depth: int = 2) -> Location:
    """The file:line of the frame ``depth`` levels above the caller of this function."""
    frame = sys._getframe(depth)
    return Location(frame.f_code.co_filename, frame.f_lineno)


_FIELDS: dict[type[Any], dict[str, tuple[Any, bool]]] = {}


def param_fields(cls: type[Any]) -> dict[str, tuple[Any, bool]]:
    """``{name: (resolved type, required)}`` for an attrs parameter class (cached per class)."""
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls, include_extras=True)
    out: dict[str, tuple[Any, bool]] = {}
    for field in attrs.fields(cls):
        name = field.alias or field.name
        out[name] = (hints.get(field.name, Any), field.default is attrs.NOTHING)
    _FIELDS[cls] = out
    return out


def param_schema(cls: type[Any]) -> dict[str, dict[str, Any]]:
    """A definition's parameter schema: ``{name: {"type", "required", "default"?, "description"?}}``.

    Descriptions come from the class docstring's ``Attributes:`` section (Google style).
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):  # inherited fields keep their base's descriptions
        docs.update(_attribute_docs(klass.__doc__ or ""))
    out: dict[str, dict[str, Any]] = {}
    for field in attrs.fields(cls):
        name = field.alias or field.name
        tp, required = param_fields(cls)[name]
        entry: dict[str, Any] = {"type": type_name(tp), "required": required}
        if not required and not isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            entry["default"] = field.default
        if name in docs:
            entry["description"] = docs[name]
        out[name] = entry
    return out


def _attribute_docs(doc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    inside, current = False, ""
    for raw in doc.splitlines():
        line = raw.strip()
        if line == "Attributes:":
            inside = True
            continue
        if not inside:
            continue
        if not line:
            current = ""
            continue
        name, sep, text = line.partition(":")
        if sep and name.isidentifier() and raw.startswith(" " * 8) and not raw.startswith(" " * 12):
            current = name
            out[name] = text.strip()
        elif current:
            out[current] = (out[current] + " " + line).strip()
    return out


def check_params_class(cls: Any, *, definition: str, where: Location) -> None:
    """Refuse, at decoration time, a parameter class that cannot serve as one."""
    from pyvela.errors import DefinitionError

    if not (isinstance(cls, type) and attrs.has(cls)):
        raise DefinitionError(
            "parameters must be an attrs class",
            where=where,
            definition=definition,
            got=repr(cls),
            fix="decorate the class with @attrs.frozen(kw_only=True)",
        )
    params = attrs.fields(cls)
    if cls.__setattr__ is object.__setattr__:
        raise DefinitionError(
            "parameter class must be frozen",
            where=where,
            definition=definition,
            fix="use @attrs.frozen(kw_only=True)",
        )
    positional = [a.name for a in params if not a.kw_only]
    if positional:
        raise DefinitionError(
            f"parameters must be keyword-only, but {', '.join(positional)} can be given by position",
            where=where,
            definition=definition,
            fix="use @attrs.frozen(kw_only=True)",
        )
    try:
        param_fields(cls)
    except Exception as exc:
        raise DefinitionError(
            f"cannot resolve the parameter annotations of {cls.__qualname__}: {exc}",
            where=where,
            definition=definition,
        ) from exc


def type_name(tp: Any) -> str:
    """A readable name for a type annotation (``dict[str, int]``, ``str | None``)."""
    if typing.get_origin(tp) is Annotated:
        meta = typing.get_args(tp)[1:]
        if any(isinstance(m, _ComponentRefMarker) for m in meta):
            return "ComponentName (str)"
        return type_name(typing.get_args(tp)[0])
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return str(tp).replace("typing.", "").replace("collections.abc.", "")


def describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def check_value(value: Any, tp: Any) -> bool:
    """True when ``value`` matches ``tp``, checking every item of collections (typeguard's rules)."""
    return accepts(value, tp)


def build_params(
    cls: type[Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    where: Location,
    **context: Any,
) -> Any:
    """Construct ``cls(**kwargs)`` after checking names and types; refs are deferred.

    Raises:
        ParameterError: naming ``where``, the context (component/trait/step), the parameter,
            what was expected and what was given.
    """
    fast = _FAST.get(cls)
    if fast is None:
        fast = _FAST[cls] = _fast_checks(cls)
    checks, needed = fast
    if not args and needed <= kwargs.keys():
        # The usual call: every value accepted by its compiled check. Anything else (an unknown
        # name, a Ref, a value the check leaves to typeguard) takes the full path below, which
        # raises the same errors in the same order as it always has.
        for name, value in kwargs.items():
            check = checks.get(name)
            if check is None or not check(value):
                break
        else:
            return _construct(cls, kwargs, where, context)
    fields = param_fields(cls)
    if args:
        raise ParameterError(
            f"parameters are keyword-only, got {len(args)} positional value(s)",
            where=where,
            expected=", ".join(f"{n}=" for n in fields),
            got=describe_value(args[0]),
            fix="pass every parameter by name",
            **context,
        )
    for name in kwargs:
        if name not in fields:
            import difflib  # only for an error: not imported by every load

            close = difflib.get_close_matches(name, list(fields), n=1)
            raise ParameterError(
                f"unknown parameter {name!r}",
                where=where,
                parameter=name,
                expected="one of " + ", ".join(fields),
                got=f"{name}=",
                fix=f"did you mean {close[0]!r}?" if close else "remove it",
                **context,
            )
    for name, (tp, required) in fields.items():
        if name not in kwargs:
            if required:
                raise ParameterError(
                    f"missing required parameter {name!r}",
                    where=where,
                    parameter=name,
                    expected=type_name(tp),
                    got="nothing",
                    fix=f"add {name}=...",
                    **context,
                )
            continue
        value = kwargs[name]
        if isinstance(value, Ref):
            if not may_assign(value.type, tp):
                raise ParameterError(
                    f"parameter {name!r} gets step output {value} of the wrong type",
                    where=where,
                    parameter=name,
                    expected=type_name(tp),
                    got=f"{value}: {type_name(value.type)}",
                    fix="pass an output of the parameter's type, or change the step's outputs class",
                    **context,
                )
            continue
        if not check_value(value, tp):
            raise ParameterError(
                f"parameter {name!r} has the wrong type",
                where=where,
                parameter=name,
                expected=type_name(tp),
                got=describe_value(value),
                fix=f"pass {name}= a value of type {type_name(tp)}",
                **context,
            )
    return _construct(cls, kwargs, where, context)


def _construct(cls: type[Any], kwargs: Mapping[str, Any], where: Location, context: dict[str, Any]) -> Any:
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        shown = context.get("definition") or "NAME"
        fix = f"give the value at that path its declared type (`pyvela defs {shown}` lists them)"
        if not isinstance(exc, TypeError):  # a rule of the class (a range, a name's shape), not a type
            fix = f"change the value as the message says (`pyvela defs {shown}` describes the parameters)"
        raise ParameterError(f"invalid parameters: {exc}", where=where, fix=fix, **context) from exc


#: parameter class -> ({name: compiled check}, required names), for build_params' usual path
_FAST: dict[type[Any], tuple[dict[str, Check], frozenset[str]]] = {}
_SAMPLE_REF = Ref("step", "field")


def _fast_checks(cls: type[Any]) -> tuple[dict[str, Check], frozenset[str]]:
    checks: dict[str, Check] = {}
    for name, (tp, _required) in param_fields(cls).items():
        check = checker(tp)
        # Any, object: a Ref must still reach may_assign on the full path.
        checks[name] = functools.partial(_not_ref, check) if check(_SAMPLE_REF) else check
    return checks, frozenset(n for n, (_tp, required) in param_fields(cls).items() if required)


def _not_ref(check: Check, value: Any) -> bool:
    return not isinstance(value, Ref) and check(value)


def refs_in(params: Any) -> list[tuple[str, Ref]]:
    """The (parameter name, Ref) pairs held by a parameter instance."""
    return [
        (field.name, value)
        for field in attrs.fields(type(params))
        if isinstance(value := getattr(params, field.name), Ref)
    ]


def component_names_in(params: Any) -> list[tuple[str, str]]:
    """The (parameter name, value) pairs of ``ComponentName`` parameters."""
    cls = type(params)
    names = _COMPONENT_NAMES.get(cls)
    if names is None:
        names = _COMPONENT_NAMES[cls] = tuple(
            name
            for name, (tp, _required) in param_fields(cls).items()
            if typing.get_origin(tp) is Annotated
            and any(isinstance(m, _ComponentRefMarker) for m in typing.get_args(tp)[1:])
        )
    out = []
    for name in names:
        value = getattr(params, name)
        if isinstance(value, str):
            out.append((name, value))
    return out


#: parameter class -> its ComponentName parameters (a workflow of a thousand steps asks per step)
_COMPONENT_NAMES: dict[type[Any], tuple[str, ...]] = {}


def field_names(cls: type[Any]) -> tuple[str, ...]:
    """An attrs class's field names, read once per class."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in attrs.fields(cls))
    return names


_PLAIN = frozenset({str, int, float, bool, type(None)})
#: attrs class -> its field names (read once: not an Attribute's name per field and value)
_NAMES: dict[type, tuple[str, ...]] = {}


def params_to_data(params: Any) -> dict[str, Any]:
    """Parameters as JSON-like data (refs as ``{"$ref": "step.outputs.field"}``)."""

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN:  # most values: no instance checks against ABCs
            return value
        if isinstance(value, Ref):
            return {"$ref": str(value)}
        names = _NAMES.get(kind)
        if names is not None or attrs.has(kind):
            if names is None:
                names = _NAMES[kind] = tuple(f.name for f in attrs.fields(kind))
            out = {}
            for name in names:
                item = getattr(value, name)
                out[name] = item if type(item) in _PLAIN else convert(item)  # a call saved per field
            return out
        if kind is tuple or kind is list:
            return [v if type(v) in _PLAIN else convert(v) for v in value]
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [convert(v) for v in value]
        return value

    result: dict[str, Any] = convert(params)
    return result
