"""Templates whose values are all strings, numbers, booleans or None: built without a copy per
use (they are shared as they are), and still exactly what rendering and parsing gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._core import template as t
from pyvela._core.template import yaml_template
from tests.core.test_template import TEMPLATE, slow

atoms = st.none() | st.booleans() | st.integers() | st.text()


@settings(max_examples=150, deadline=None)
@given(name=st.text(), labels=atoms, replicas=atoms, args=atoms | st.lists(atoms, max_size=2))
def test_atoms_and_not_build_what_rendering_gives(
    tmp_path_factory: Any, name: str, labels: Any, replicas: Any, args: Any
) -> None:
    p = tmp_path_factory.mktemp("t") / "deploy.yaml.j2"
    p.write_text(TEMPLATE)
    variables = {"name": name, "labels": labels, "replicas": replicas, "args": args}
    assert yaml_template(p, **variables) == slow(p, variables)


def test_the_variant_follows_the_values(tmp_path: Path) -> None:
    p = tmp_path / "deploy.yaml.j2"
    p.write_text(TEMPLATE)
    key = (str(p), p.stat().st_mtime, frozenset({"name", "labels", "replicas", "args"}))
    t._builder.cache_clear()
    yaml_template(p, name="web", labels="x", replicas=2, args=None)
    yaml_template(p, name="web", labels={"a": "b"}, replicas=2, args=["x"])
    assert t._builder(*key, False) is t._builder(*key, False)
    assert t._builder.cache_info().misses == 2  # one builder per variant, each made once
    shared = ["x"]
    one = yaml_template(p, name="web", labels={"a": "b"}, replicas=2, args=shared)
    one["spec"]["template"]["spec"]["containers"][0]["args"].append("changed")
    assert shared == ["x"]  # a list value is still copied per use


def test_a_float_value_is_copied_variant(tmp_path: Path) -> None:
    p = tmp_path / "deploy.yaml.j2"
    p.write_text(TEMPLATE)
    variables = {"name": "web", "labels": 1.5, "replicas": 1e-05, "args": -0.0}
    assert yaml_template(p, **variables) == slow(p, variables)
