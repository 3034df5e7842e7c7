"""The check of a patched workload's shape: its one-walk fast path never lets through what the
full check of every path refuses, and never refuses what it accepts."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._app.patched import _SHAPES, check_patched
from pyvela.errors import Location, RenderError

WHERE = Location("app.py", 1)


def refused_by_every_path(workload: Any) -> str | None:
    """The path the full check names (the first wrong one), walking each path on its own."""
    for path, tp in _SHAPES:
        value: Any = workload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                break
        if value is None:
            continue
        items = value if isinstance(value, list) and path[-1].endswith("ontainers") else []
        if not isinstance(value, tp) or not all(isinstance(i, dict) for i in items):
            return ".".join(path)
    return None


leaf = st.sampled_from([None, "x", 3, [], [{}], [{"name": "c"}, "oops"], {}, OrderedDict(a=1)])


def tree(depth: int) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(
        ["metadata", "labels", "spec", "template", "containers", "initContainers", "jobTemplate"]
    )
    if depth == 0:
        return leaf
    node = st.dictionaries(keys, tree(depth - 1), max_size=4)
    return leaf | node | node.map(OrderedDict) | st.lists(node, max_size=2)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(["metadata", "spec", "kind"]), tree(4), max_size=3))
def test_the_fast_path_agrees_with_every_path(workload: dict[str, Any]) -> None:
    expected = refused_by_every_path(workload)
    if expected is None:
        check_patched(workload, where=WHERE, component="c")
    else:
        with pytest.raises(RenderError) as info:
            check_patched(workload, where=WHERE, component="c")
        assert f"leaves {expected} of the workload" in str(info.value)


def test_a_container_list_holding_a_string_is_refused() -> None:
    workload = {"spec": {"template": {"spec": {"containers": [{"name": "a"}, "b"]}}}}
    with pytest.raises(RenderError, match=r"spec\.template\.spec\.containers"):
        check_patched(workload, where=WHERE, component="c", trait="t")
    check_patched({"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}, where=WHERE)
