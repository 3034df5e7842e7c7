"""json-merge-patch and json-patch: RFC 7396/6902 on the workload, expressed as pyvela merge patches."""

from __future__ import annotations

from typing import Any

import pytest
from stdlib_support import workload

from pyvela import errors
from pyvela import stdlib as s
from pyvela.stdlib._jsonpatch import json_patch, merge_patch


def base() -> Any:
    return s.webservice(
        "w",
        image="i",
        args=("--a", "--b"),
        env=(s.EnvVar(name="A", value="1"), s.EnvVar(name="B", value="2")),
        ports=(s.Port(port=80),),
    ).with_traits(s.sidecar(name="side", image="j"))


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return found


def test_rfc7396_examples() -> None:
    doc = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
    }
    patch = {"title": "Hello!", "author": {"familyName": None}, "tags": ["example"], "phoneNumber": "+01-123"}
    assert merge_patch(doc, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "phoneNumber": "+01-123",
    }
    assert merge_patch({"a": "b"}, {"a": {"bb": None}}) == {"a": {}}


def test_rfc6902_operations() -> None:
    doc = {"foo": ["bar", "baz"], "x": {"y": 1}}
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": "/foo/1", "value": "qux"},
        {"op": "add", "path": "/foo/-", "value": "end"},
        {"op": "remove", "path": "/foo/0"},
        {"op": "replace", "path": "/x/y", "value": 2},
        {"op": "copy", "from": "/x", "path": "/z"},
        {"op": "move", "from": "/z/y", "path": "/w"},
        {"op": "test", "path": "/w", "value": 2},
        {"op": "add", "path": "/a~1b", "value": True},
    ]
    assert json_patch(doc, ops) == {"foo": ["qux", "baz", "end"], "x": {"y": 2}, "z": {}, "w": 2, "a/b": True}
    with pytest.raises(errors.RenderError, match="test of '/w' failed"):
        json_patch({"w": 2}, [{"op": "test", "path": "/w", "value": 3}])
    with pytest.raises(errors.RenderError, match="does not exist"):
        json_patch(doc, [{"op": "remove", "path": "/nope"}])


def test_merge_patch_replaces_lists_and_removes_fields() -> None:
    w = workload(
        base().with_traits(
            s.json_merge_patch(
                patch={"spec": {"replicas": 2, "selector": None}, "metadata": {"labels": {"x": "y"}}}
            )
        )
    )
    assert w["spec"]["replicas"] == 2 and "selector" not in w["spec"]
    assert w["metadata"]["labels"]["x"] == "y"


def test_json_patch_changes_inside_lists_merged_by_key() -> None:
    ops = (
        {"op": "replace", "path": "/spec/template/spec/containers/0/args", "value": ["--c"]},
        {"op": "remove", "path": "/spec/template/spec/containers/0/env/0"},
        {"op": "remove", "path": "/spec/template/spec/containers/0/ports"},
        {"op": "add", "path": "/spec/template/spec/containers/1/env", "value": [{"name": "S", "value": "1"}]},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "third", "image": "k"}},
    )
    main, side, third = containers(workload(base().with_traits(s.json_patch(operations=ops))))
    assert main["args"] == ["--c"] and main["env"] == [{"name": "B", "value": "2"}] and "ports" not in main
    assert side["env"] == [{"name": "S", "value": "1"}]
    assert third == {"name": "third", "image": "k"}


def test_json_patch_removes_an_item_of_a_list_merged_by_key() -> None:
    ops = ({"op": "remove", "path": "/spec/template/spec/containers/1"},)
    (main,) = containers(workload(base().with_traits(s.json_patch(operations=ops))))
    assert main["name"] == "w"


def test_merge_patch_replaces_a_list_merged_by_key_whole() -> None:
    # RFC 7396: a list in the patch is the new list, even containers (merged by name elsewhere).
    patch = {
        "spec": {
            "template": {
                "metadata": {"labels": {"gone": None, "kept": "new"}},
                "spec": {"containers": [{"name": "other", "image": "k"}]},
            }
        }
    }
    before = base().with_traits(
        s.labels(labels={"gone": "x", "kept": "old"}), s.json_merge_patch(patch=patch)
    )
    w = workload(before)
    assert containers(w) == [{"name": "other", "image": "k"}]
    labels = w["spec"]["template"]["metadata"]["labels"]
    assert "gone" not in labels and labels["kept"] == "new"


def test_merge_patch_replaces_env_of_a_container_whole() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "w", "image": "i2", "env": []}]}}}}
    (main,) = containers(workload(base().with_traits(s.json_merge_patch(patch=patch))))
    assert main == {"name": "w", "image": "i2", "env": []}


def test_replace_in_a_patch_sets_the_value_instead_of_merging() -> None:
    from pyvela._core.merge import Replace, merge

    got = merge({"env": [{"name": "A", "value": "1"}]}, {"env": Replace([{"name": "B", "value": "2"}])})
    assert got == {"env": [{"name": "B", "value": "2"}]}


@pytest.mark.parametrize(
    ("ops", "words"),
    [
        (({"op": "frobnicate", "path": "/a"},), "op must be one of"),
        (({"op": "add", "path": "/a"},), "needs value"),
        (({"op": "move", "path": "/a"},), "needs from"),
    ],
)
def test_operations_are_checked_at_the_call_site(ops: tuple[dict[str, Any], ...], words: str) -> None:
    with pytest.raises(errors.ParameterError, match=words):
        s.json_patch(operations=ops)
