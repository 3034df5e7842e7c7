"""The emitter's remembered blocks (text of a repeated sub-tree, keyed by its content) never
print stale or wrong text: after a change, a reordering, a value equal but of another type."""

from __future__ import annotations

import enum
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._core import emitter
from pyvela._core.emitter import dump
from tests.core import yaml_reference


class Colour(str, enum.Enum):  # noqa: UP042  (str() is "Colour.RED", its value "red")
    RED = "red"


class Text(str):
    def __str__(self) -> str:
        return "other"


def _doc(env: list[Any]) -> dict[str, Any]:
    return {"kind": "Deployment", "spec": {"containers": [{"name": "c", "env": env, "ports": [{"p": 1}]}]}}


def _same(doc: Any) -> None:
    assert dump(doc) == yaml_reference.dump(doc)


def test_a_changed_object_prints_its_new_text() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    doc = _doc(env)
    for _ in range(emitter._LEARN + 4):  # remembered (and the slot kept on by its hits)
        _same(doc)
    assert any(key[1] for key in emitter._BLOCKS)
    env[1]["value"] = "3"
    _same(doc)
    env.append({"name": "C", "value": "4"})
    _same(doc)
    env[0].pop("name")
    env[0]["name"] = "A"  # the same content, another key order: another text
    _same(doc)


def test_equal_values_of_other_types_are_not_taken_for_each_other() -> None:
    for value in [1, True, 1.0, "1", "red", Colour.RED, Text("red"), OrderedDict(a=1), (1,)]:
        for _ in range(3):
            _same(_doc([{"name": "A", "value": value}]))
            _same(_doc([{"name": "A", "value": {"v": value}}]))


def test_a_slot_whose_blocks_never_repeat_stops_being_tried() -> None:
    for i in range(3 * emitter._LEARN):
        _same({"unique-slot-for-this-test": {"name": f"n{i}"}})
    assert emitter._SLOTS[""]["unique-slot-for-this-test"] <= 0
    _same({"unique-slot-for-this-test": {"name": "n0"}})  # still printed right, not remembered


leaves = st.sampled_from([None, True, False, 0, 1, 1.0, -0.0, "1", "a", "yes", Colour.RED, Text("a")])
trees = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=12,
)


@given(st.lists(trees, min_size=1, max_size=6), st.data())
@settings(max_examples=300, deadline=None)
def test_repeated_and_changed_blocks_print_the_reference_text(blocks: list[Any], data: st.DataObject) -> None:
    # Few distinct small sub-trees under the same keys, so blocks repeat, printed again after
    # each is changed in place.
    docs = [{"x": {"y": b, "z": [b]}} for b in blocks]
    for doc in docs * 2:
        _same(doc)
    for b in blocks:
        if isinstance(b, dict) and b:
            b[data.draw(st.sampled_from(sorted(b)))] = data.draw(leaves)
        elif isinstance(b, list):
            b.append(data.draw(leaves))
    for doc in docs:
        _same(doc)
