"""The fast YAML emitter reads back as exactly the data it was given (property test)."""

from __future__ import annotations

from collections import OrderedDict

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._core.emitter import dump
from tests.core import yaml_reference

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(st.dictionaries(st.text(), data, max_size=6))
@settings(max_examples=400, deadline=None)
def test_round_trip(doc: dict) -> None:  # type: ignore[type-arg]
    assert yaml.safe_load(dump(doc)) == doc


def test_tricky_strings_stay_strings() -> None:
    doc = {
        "a": [
            "yes",
            "no",
            "on",
            "1",
            "1.0",
            "0x1F",
            "null",
            "~",
            "",
            " x",
            "a: b",
            "- x",
            "#c",
            "x #c",
            "2026-11-25",
            "*ref",
            "&a",
            "!tag",
            "%p",
            "@x",
            "`x",
            "'q'",
            '"d"',
            "multi\nline",
            "tab\t",
        ],
        "b": {"": 1, "key:": 2, "k": {}},
        "c": [],
    }
    assert yaml.safe_load(dump(doc)) == doc


def test_manifest_shape() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x", "labels": {"app.oam.dev/name": "a"}},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "x"}},
    }
    assert dump(doc) == (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels:\n    app.oam.dev/name: a\n"
        "spec:\n  ports:\n  - port: 80\n    targetPort: 8080\n  selector:\n    app: x\n"
    )


keys = st.text() | st.integers() | st.booleans() | st.none()
manifests = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(keys, inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(), inner, max_size=3).map(OrderedDict)
    ),
    max_leaves=30,
)


@given(manifests)
@settings(max_examples=400, deadline=None)
def test_same_text_as_the_reference_emitter(doc: object) -> None:
    # The fast paths (exact types first, decisions in a dict) must print what the plain
    # recursive emitter printed, byte for byte: golden files and `kubectl apply` see this text.
    assert dump(doc) == yaml_reference.dump(doc)
    assert dump(doc) == yaml_reference.dump(doc)  # again, from the decisions remembered


@given(manifests)
@settings(max_examples=200, deadline=None)
def test_bounded_decisions_cleared_mid_document_print_the_same_text(doc: object) -> None:
    # The decisions dict clears itself when full, possibly in the middle of a document (a long-
    # lived process); a bound of 2 clears it on nearly every new string.
    from pyvela._core import emitter

    bound = emitter._DECIDED_MAX
    emitter._DECIDED_MAX = 2
    try:
        assert dump(doc) == yaml_reference.dump(doc)
    finally:
        emitter._DECIDED_MAX = bound
