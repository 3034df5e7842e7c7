"""Whether a step output's declared type fits the parameter it is passed to.

An output reference (``apply_base_service.outputs.cluster_ip``) carries the output field's
type, and the receiving parameter has its own: both are known when the app is loaded, so a
mismatch is reported at the call site, not after the upstream step (and maybe a manual gate)
has run. Only a certain mismatch is an error; what cannot be decided without a value (a
``str`` for a ``Literal``, type arguments of generics) is left to the check at run time.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

_UNIONS = (typing.Union, types.UnionType)


def _strip(tp: Any) -> Any:
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):  # NewType
            tp = tp.__supertype__
        else:
            return tp


def may_assign(source: Any, target: Any) -> bool:
    """False only when no value of type ``source`` can be a valid ``target``."""
    source, target = _strip(source), _strip(target)
    if source is Any or target is Any or target is object:
        return True
    if typing.get_origin(target) in _UNIONS:
        return any(may_assign(source, t) for t in typing.get_args(target))
    if typing.get_origin(source) in _UNIONS:
        return any(may_assign(s, target) for s in typing.get_args(source))
    if typing.get_origin(source) is Literal:
        return any(may_assign(type(v), target) for v in typing.get_args(source))
    if typing.get_origin(target) is Literal:
        return any(may_assign(source, type(v)) for v in typing.get_args(target))
    if source is type(None) or target is type(None):
        return source is target
    s_cls = typing.get_origin(source) or source
    t_cls = typing.get_origin(target) or target
    if not isinstance(s_cls, type) or not isinstance(t_cls, type):
        return True  # TypeVars, protocols written oddly...: the run-time check decides
    if t_cls is float and s_cls is int:
        return True  # the numeric tower, as type checkers allow
    if s_cls is bool and t_cls is int:
        return True
    try:
        return issubclass(s_cls, t_cls)
    except TypeError:
        return True
