"""The compiled parameter checks accept only what typeguard accepts (and reject what it rejects)."""

from __future__ import annotations

import collections.abc as abc
import enum
import typing
from typing import Annotated, Any, Literal, NamedTuple, NewType, Optional, Union

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pyvela import WorkloadType, component
from pyvela._core.typecheck import accepts, checker, typeguard_accepts
from pyvela.errors import ParameterError


class Color(enum.Enum):
    RED = "red"


class Point(NamedTuple):
    x: int
    y: int


@attrs.frozen
class Inner:
    n: int


UserId = NewType("UserId", int)

LEAVES: list[Any] = [
    Any,
    object,
    str,
    int,
    float,
    bool,
    bytes,
    complex,
    type(None),
    None,
    Inner,
    Point,
    Color,
    UserId,
    Literal["a", "b"],
    Literal[1, True],
    Literal[None, "x"],
    Literal[Color.RED],
    dict,
    list,
    tuple,
    abc.Mapping,
    typing.Mapping,
]


def _types() -> st.SearchStrategy[Any]:
    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda a: dict[a[0], a[1]]),  # type: ignore[index]
            st.tuples(inner, inner).map(lambda a: abc.Mapping[a[0], a[1]]),  # type: ignore[index]
            st.tuples(inner, inner).map(lambda a: typing.MutableMapping[a[0], a[1]]),  # type: ignore[index]
            inner.map(lambda a: list[a]),  # type: ignore[valid-type]
            inner.map(lambda a: abc.Sequence[a]),  # type: ignore[valid-type]
            inner.map(lambda a: set[a]),  # type: ignore[valid-type]
            inner.map(lambda a: frozenset[a]),  # type: ignore[valid-type]
            inner.map(lambda a: tuple[a, ...]),  # type: ignore[valid-type]
            st.tuples(inner, inner).map(lambda a: tuple[a[0], a[1]]),  # type: ignore[valid-type]
            st.tuples(inner, inner).map(lambda a: Union[a[0], a[1]]),  # noqa: UP007
            inner.map(lambda a: Optional[a]),  # noqa: UP045
            inner.map(lambda a: Annotated[a, "meta"]),
        )

    types = st.recursive(st.sampled_from(LEAVES), extend, max_leaves=4)
    # Unhashable metadata cannot go inside a Union (typing hashes the members): only on top.
    return types | types.map(lambda a: Annotated[a, ["unhashable"]])


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.sampled_from(["a", "b", "x", "", "str"]),
    st.just(b"a"),
    st.just(1j),
    st.just(Color.RED),
    st.just(Inner(n=1)),
    st.just(Point(1, 2)),
    st.just(Point("x", 2)),  # type: ignore[arg-type] # a NamedTuple with a wrong field
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.frozensets(st.sampled_from(["a", 1, None])),
        st.sets(st.sampled_from(["a", 1])),
        st.dictionaries(st.sampled_from(["a", "b", 1]), inner, max_size=3),
    ),
    max_leaves=8,
)


@given(_types(), VALUES)
@settings(max_examples=1500, deadline=None)
def test_verdict_is_typeguards(tp: Any, value: Any) -> None:
    try:
        verdict = typeguard_accepts(value, tp)
    except TypeError:  # annotations typeguard itself cannot check (Annotated[Any] in a union)
        assume(False)
    # The compiled check may only accept what typeguard accepts...
    if checker(tp)(value):
        assert verdict, f"{tp} accepted {value!r}, typeguard refuses it"
    # ...and the verdict is typeguard's either way.
    assert accepts(value, tp) == verdict


def test_a_cached_check_still_refuses_a_wrong_value() -> None:
    tp = dict[str, list[int]]
    assert accepts({"a": [1, 2]}, tp)  # compiles and caches the check
    assert not accepts({"a": [1, "2"]}, tp)
    assert not accepts({1: [1]}, tp)
    assert not accepts([("a", [1])], tp)
    lit = Literal["Always", "Never"]
    assert accepts("Always", lit)
    assert not accepts("always", lit)
    assert not accepts(True, Literal[1])  # bool is not the int 1 for a Literal
    assert accepts(1, float) and accepts(True, float)  # PEP 484's numeric tower, as typeguard
    assert not accepts(Point("x", 2), Point)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class _Params:
    """Parameters."""

    ports: tuple[int, ...] = ()
    labels: dict[str, str] | None = None
    mode: Literal["a", "b"] = "a"


@component(name="checked-thing", params=_Params, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def _thing(p: _Params, ctx: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ctx.name}}


@pytest.mark.parametrize(
    ("kwargs", "parameter", "expected", "got"),
    [
        ({"ports": (80, "443")}, "ports", "tuple[int, ...]", "(80, '443') (tuple)"),
        ({"labels": {"a": 1}}, "labels", "dict[str, str] | None", "{'a': 1} (dict)"),
        ({"mode": "c"}, "mode", "Literal['a', 'b']", "'c' (str)"),
    ],
)
def test_call_site_errors_after_a_good_call(
    kwargs: dict[str, Any], parameter: str, expected: str, got: str
) -> None:
    _thing("good", ports=(80, 443), labels={"a": "b"}, mode="b")  # the checks are compiled and cached now
    with pytest.raises(ParameterError) as info:
        _thing("bad", **kwargs)
    err = info.value
    assert err.context["parameter"] == parameter
    assert err.expected == expected
    assert err.got == got
    assert err.where is not None and err.where.file == __file__
