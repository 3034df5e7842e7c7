"""Templates: the parsed-once fast path builds exactly what rendering and parsing would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._core import template as t
from pyvela._core.template import yaml_template
from pyvela.errors import DefinitionError

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ name }}
  labels: {{ labels }}
spec:
  replicas: {{ replicas }}
  template:
    metadata:
      labels:
        app: {{ name }}
    spec:
      containers:
        - name: {{ name }}
          image: nginx
          args: {{ args }}
"""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def slow(path: Path, variables: dict[str, Any]) -> Any:
    """What rendering then parsing gives (the reference the fast path must match)."""
    template, _ = t._compiled(str(path), path.stat().st_mtime)
    return t._load(str(path), t._render(str(path), template, variables))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "deploy.yaml.j2"
    p.write_text(TEMPLATE)
    return p


@settings(max_examples=150, deadline=None)
@given(name=st.text(), labels=json_values, replicas=json_values, args=json_values)
def test_the_fast_path_equals_render_then_parse(
    tmp_path_factory: pytest.TempPathFactory, name: str, labels: Any, replicas: Any, args: Any
) -> None:
    p = tmp_path_factory.mktemp("t") / "deploy.yaml.j2"
    p.write_text(TEMPLATE)
    variables = {"name": name, "labels": labels, "replicas": replicas, "args": args}
    assert yaml_template(p, **variables) == slow(p, variables)


def test_plain_templates_are_parsed_once(path: Path) -> None:
    t._builder.cache_clear()
    for i in range(20):
        obj = yaml_template(path, name=f"web-{i}", labels={"a": "b"}, replicas=i, args=["x"])
        assert obj["metadata"]["name"] == f"web-{i}" and obj["spec"]["replicas"] == i
    assert t._builder.cache_info().misses == 1


def test_no_two_nodes_share_a_value(path: Path) -> None:
    obj = yaml_template(path, name="web", labels={"tier": "front"}, replicas=1, args=["a"])
    obj["metadata"]["labels"]["tier"] = "changed"
    again = yaml_template(path, name="web", labels={"tier": "front"}, replicas=1, args=["a"])
    assert again["metadata"]["labels"] == {"tier": "front"}


def test_a_value_inside_a_longer_string_or_control_flow_takes_the_full_path(tmp_path: Path) -> None:
    inside = tmp_path / "inside.yaml.j2"
    inside.write_text("name: x-{{ name }}\n")
    with pytest.raises(DefinitionError):  # JSON in the middle of a plain scalar: not one node
        yaml_template(inside, name="a b: c")
    looped = tmp_path / "loop.yaml.j2"
    looped.write_text("items:\n{% for i in items %}  - {{ i }}\n{% endfor %}")
    assert yaml_template(looped, items=[1, "two"]) == {"items": [1, "two"]}


def test_missing_variables_are_errors(path: Path) -> None:
    with pytest.raises(DefinitionError, match="replicas"):
        yaml_template(path, name="web", labels={}, args=[])


def test_a_changed_template_is_read_again(tmp_path: Path) -> None:
    p = tmp_path / "cm.yaml.j2"
    p.write_text("kind: ConfigMap\nname: {{ name }}\n")
    assert yaml_template(p, name="a") == {"kind": "ConfigMap", "name": "a"}
    p.write_text("kind: Secret\nname: {{ name }}\n")
    import os

    os.utime(p, (1, 1))  # a different mtime, whatever the clock's resolution
    assert yaml_template(p, name="a") == {"kind": "Secret", "name": "a"}


@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_any_value_survives_the_full_path(tmp_path_factory: pytest.TempPathFactory, value: Any) -> None:
    # Control flow keeps a template on the render-then-parse path: the value must come back
    # as it went in (as JSON carries it), whatever characters it holds.
    p = tmp_path_factory.mktemp("t") / "if.yaml.j2"
    p.write_text("kind: ConfigMap\nvalue: {% if true %}{{ value }}{% endif %}\n")
    assert yaml_template(p, value=value) == {"kind": "ConfigMap", "value": value}


def test_floats_stay_floats_and_keys_become_strings(path: Path, tmp_path: Path) -> None:
    obj = yaml_template(path, name="web", labels={1: "a", None: "b"}, replicas=1e-05, args=[0.5, "1e-05"])
    assert obj["spec"]["replicas"] == 1e-05 and isinstance(obj["spec"]["replicas"], float)
    assert obj["metadata"]["labels"] == {"1": "a", "null": "b"}
    assert obj["spec"]["template"]["spec"]["containers"][0]["args"] == [0.5, "1e-05"]
    looped = tmp_path / "f.yaml.j2"
    looped.write_text("v: {% if true %}{{ v }}{% endif %}\n")
    assert yaml_template(looped, v=1e-05) == {"v": 1e-05}  # the full path too


FRAGMENTS = [
    "a: ",
    "\n",
    " ",
    "\t",
    "{{ name }}",
    "{{name}}",
    "{{\tother }}",
    "{# a comment #}",
    "{# {{ name }} inside #}",
    "{#- trimmed #}",
    "{# trimmed -#}",
    "{{- name }}",
    "{{ name -}}",
    "{{ name.attr }}",
    "{{ true }}",
    "{{ None }}",
    "{{ in }}",
    "{{ if }}",
    "{% if name %}",
    "{% endif %}",
    "{",
    "}",
    "}}",
    "#}",
    "%}",
    "{ {",
    "\r\n",
    "é",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8))
def test_plain_templates_are_recognised_as_jinja_reads_them(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    # Without importing Jinja, a template is taken as plain only when Jinja would take it so,
    # with the same names and the same text once each name is replaced by its marker.
    p = tmp_path_factory.mktemp("t") / "x.yaml.j2"
    p.write_bytes("".join(parts).encode())
    mtime = p.stat().st_mtime
    plain = t._plain_text(str(p), mtime)
    if plain is None:
        return
    template, names = t._compiled(str(p), mtime)
    assert names == plain[1]
    assert t._render(str(p), template, {n: t._MARK + n for n in names}) == plain[0]


def test_a_plain_template_renders_without_jinja(tmp_path: Path) -> None:
    import subprocess
    import sys

    p = tmp_path / "cm.yaml.j2"
    p.write_text("{# a ConfigMap #}\nkind: ConfigMap\nmetadata:\n  name: {{ name }}\ndata: {{ data }}\n")
    code = (
        "import sys; from pyvela._core.template import yaml_template; "
        f"assert yaml_template({str(p)!r}, name='a', data={{'k': 'v'}}) == "
        "{'kind': 'ConfigMap', 'metadata': {'name': 'a'}, 'data': {'k': 'v'}}; "
        "print('jinja2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
