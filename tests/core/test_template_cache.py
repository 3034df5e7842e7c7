"""A plain template's parsed skeleton, kept between runs: the same objects, no PyYAML import,
and a cache that is missing, stale, corrupt or switched off changes nothing but the speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._core import template as t
from pyvela._core.template import yaml_template
from tests.conftest import ROOT

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ name }}
  labels: {app: {{ name }}, tier: web}
data:
  replicas: "3"
  ratio: 0.5
  enabled: true
  none: null
  list: [1, 2.5, "x", {{ value }}]
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("PYVELA_CACHE_DIR", str(root))
    return root


def _fresh(path: Path, **variables: Any) -> Any:
    """A render as a new process would do it: nothing of the file remembered in memory."""
    for cached in (t._builder, t._plain_text, t._text):
        cached.cache_clear()
    return yaml_template(path, **variables)


def _files(root: Path) -> list[Path]:
    return sorted((root / "templates").glob("*.json")) if (root / "templates").exists() else []


def test_the_cached_skeleton_builds_the_same_object(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    first = _fresh(path, name="web", value={"k": [1]})
    assert len(_files(cache)) == 1
    again = _fresh(path, name="web", value={"k": [1]})
    assert again == first and json.dumps(again) == json.dumps(first)  # key order and types too
    assert again["data"]["enabled"] is True and type(again["data"]["ratio"]) is float


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(),
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.floats(allow_nan=False, allow_infinity=False),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=6,
    ),
)
def test_cached_and_parsed_agree_for_any_value(
    tmp_path_factory: pytest.TempPathFactory, name: str, value: Any
) -> None:
    folder = tmp_path_factory.mktemp("t")
    path = folder / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    os.environ["PYVELA_CACHE_DIR"] = str(folder / "cache")
    try:
        parsed = _fresh(path, name=name, value=value)
        cached = _fresh(path, name=name, value=value)
    finally:
        del os.environ["PYVELA_CACHE_DIR"]
    assert json.dumps(cached) == json.dumps(parsed)


def test_a_changed_template_is_parsed_again(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    _fresh(path, name="web", value=1)
    path.write_text(TEMPLATE.replace("tier: web", "tier: db"))
    assert _fresh(path, name="web", value=1)["metadata"]["labels"]["tier"] == "db"
    assert len(_files(cache)) == 2  # by the text's hash: the old entry is simply not read


def test_a_corrupt_or_foreign_entry_is_ignored_and_rewritten(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    expected = _fresh(path, name="web", value=1)
    (entry,) = _files(cache)
    for junk in ("{not json", '["a list"]', '{"mark": 1, "skeleton": {}}'):
        entry.write_text(junk)
        assert _fresh(path, name="web", value=1) == expected
        assert json.loads(entry.read_text())["skeleton"]["kind"] == "ConfigMap"


def test_keys_json_would_change_are_not_cached(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "cm.yaml.j2"
    path.write_text("kind: ConfigMap\nmetadata: {name: {{ name }}}\ndata:\n  1: one\n  ~: nothing\n")
    first = _fresh(path, name="web")
    assert _files(cache) == [] and first["data"] == {1: "one", None: "nothing"}
    assert _fresh(path, name="web") == first


def test_an_empty_cache_dir_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    _fresh(path, name="web", value=1)
    assert not (tmp_path / "xdg").exists()


def test_an_unwritable_cache_costs_nothing_but_a_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("PYVELA_CACHE_DIR", str(blocker / "below-a-file"))
    path = tmp_path / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    assert _fresh(path, name="web", value=1)["metadata"]["name"] == "web"


def test_a_second_run_does_not_import_pyyaml(tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml.j2"
    path.write_text(TEMPLATE)
    code = (
        "import sys\nfrom pyvela._core.template import yaml_template\n"
        f"obj = yaml_template({str(path)!r}, name='web', value=1)\n"
        "print(obj['metadata']['name'], 'yaml' in sys.modules)"
    )
    env = {**os.environ, "PYVELA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]
    assert [r.stdout.split() for r in runs] == [["web", "True"], ["web", "False"]], runs[-1].stderr
