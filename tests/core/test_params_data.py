"""Parameters as data (what the revision hashes and ``status`` shows): the fast reader of
attrs fields gives what reading every field one by one gives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._core.params import Ref, params_to_data


@attrs.frozen
class Empty:
    pass


@attrs.frozen
class One:
    a: Any


@attrs.frozen
class Many:
    a: Any
    b: Any = None
    _private: Any = 0
    d: Any = ()


def reference(value: Any) -> Any:
    """Field by field, as params_to_data did before it read fields in one go."""
    if type(value) in (str, int, float, bool, type(None)):
        return value
    if isinstance(value, Ref):
        return {"$ref": str(value)}
    if attrs.has(type(value)):
        return {f.name: reference(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(k): reference(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [reference(v) for v in value]
    return value


leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.floats(allow_nan=False)
values = st.recursive(
    leaves | st.just(Ref("build", "image")) | st.just(Empty()),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
        | st.frozensets(leaves, max_size=3)
        | inner.map(One)
        | st.builds(Many, a=inner, b=inner, private=inner, d=inner)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.builds(Many, a=values, b=values, private=values, d=values) | values.map(One) | st.just(Empty()))
def test_params_to_data_reads_every_field_as_one_by_one(params: Any) -> None:
    assert params_to_data(params) == reference(params)


def test_field_order_and_private_names_are_kept() -> None:
    data = params_to_data(Many(a=(1, "x"), b=One(a=Ref("s", "f")), private=2.5))
    assert list(data) == ["a", "b", "_private", "d"]
    assert data == {"a": [1, "x"], "b": {"a": {"$ref": "s.outputs.f"}}, "_private": 2.5, "d": []}
