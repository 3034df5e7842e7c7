"""attrs' generated methods from the cache behave as freshly compiled ones (pyvela/_core/codecache.py).

Each case runs a fresh interpreter (a class is created once per process), with its own hash
seed: the cached ``__hash__`` must give this process's hash, not the writer's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from pyvela._core import codecache
from tests.conftest import ROOT

_PROGRAM = textwrap.dedent(
    """
    import builtins, json, sys
    compiled = []
    _compile = builtins.compile
    def spy(source, filename, *args, **kwargs):
        if str(filename).startswith("<attrs generated") and "__main__." in str(filename):
            compiled.append(filename)
        return _compile(source, filename, *args, **kwargs)
    builtins.compile = spy
    from pyvela._core.codecache import install
    installed = install()
    import attrs

    @attrs.frozen(kw_only=True)
    class Params:
        a: int
        b: str = "x"
        FIELD_C

    @attrs.define
    class Mutable:
        items: list = attrs.field(factory=list)

    @attrs.frozen(eq=False)
    class Plain:
        name: str

    @attrs.frozen
    class Empty:  # hash((literal,)) is folded into one tuple constant
        pass

    p = Params(a=1)
    out = {
        "installed": installed,
        "compiled": compiled,
        "repr": repr(p),
        "eq": [p == Params(a=1), p != Params(a=2), p == Params(a=2)],
        "hash": hash(p),
        "expected_hash": hash((hash("<attrs generated hash __main__.Params>"), 1, "x") + EXTRA),
        "mutable": repr(Mutable()),
        "plain": [repr(Plain("n")), Plain("n") == Plain("n")],
        "annotations": sorted(Params.__init__.__annotations__),
        "empty": hash(Empty()) == hash((hash("<attrs generated hash __main__.Empty>"),)),
    }
    try:
        Params(b="y")
    except TypeError as exc:
        out["missing"] = str(exc)
    try:
        p.a = 3
    except attrs.exceptions.FrozenInstanceError as exc:
        out["frozen"] = type(exc).__name__
    print(json.dumps(out))
    """
)


def _run(cache: Path | str, seed: int, *, third_field: bool = False) -> dict[str, Any]:
    program = _PROGRAM.replace("FIELD_C", "c: int = 0" if third_field else "").replace(
        "EXTRA", "(0,)" if third_field else "()"
    )
    env = {**os.environ, "PYVELA_CACHE_DIR": str(cache), "PYTHONHASHSEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def _same_behaviour(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["empty"] is b["empty"] is True
    for key in ("repr", "eq", "mutable", "plain", "annotations", "missing", "frozen"):
        assert a[key] == b[key], key


def test_second_run_compiles_nothing_and_behaves_the_same(tmp_path: Path) -> None:
    first = _run(tmp_path, seed=1)
    assert first["installed"] is True
    assert len(first["compiled"]) == 4  # one script per class
    assert first["hash"] == first["expected_hash"]
    second = _run(tmp_path, seed=2)  # another hash seed: the hash literal differs
    assert second["compiled"] == []
    assert second["hash"] == second["expected_hash"] != first["hash"]
    _same_behaviour(first, second)
    third = _run(tmp_path, seed=2)
    assert third["compiled"] == [] and third["hash"] == second["hash"]


def test_a_changed_class_is_compiled_again(tmp_path: Path) -> None:
    _run(tmp_path, seed=1)
    changed = _run(tmp_path, seed=1, third_field=True)
    assert changed["compiled"] == ["<attrs generated methods __main__.Params>"]
    assert changed["hash"] == changed["expected_hash"]
    assert "c=0" in changed["repr"]


def test_unreadable_entries_compile(tmp_path: Path) -> None:
    clean = _run(tmp_path / "clean", seed=3)
    _run(tmp_path, seed=1)
    entries = list(tmp_path.glob("attrs/*/*.code"))
    assert len(entries) == 4
    entries[0].write_bytes(b"not marshal data")
    entries[1].write_bytes(b"")
    again = _run(tmp_path, seed=3)
    assert len(again["compiled"]) == 2
    _same_behaviour(clean, again)
    assert again["hash"] == again["expected_hash"]


def test_off_with_an_empty_cache_dir() -> None:
    off = _run("", seed=1)
    assert off["installed"] is False
    assert len(off["compiled"]) == 4


def test_cached_code_is_what_compile_gives(tmp_path: Path) -> None:
    script = "def __init__(self, a):\n    self.a = a\n\ndef __repr__(self):\n    return f'X(a={self.a!r})'\n"
    name = "<attrs generated methods tests.X>"
    fresh = compile(script, name, "exec", 0, dont_inherit=True)
    first = codecache.cached_code(str(tmp_path), script, name, 0)
    second = codecache.cached_code(str(tmp_path), script, name, 0)
    assert first == fresh == second
    assert second.co_filename == name
    other = codecache.cached_code(str(tmp_path), script.replace("X(", "Y("), name, 0)
    assert other != fresh  # another source: never the old code


def test_a_literal_like_the_old_hash_elsewhere_is_not_patched(tmp_path: Path) -> None:
    name = "<attrs generated methods tests.H>"
    value = codecache._type_hash(name)
    assert value is not None
    old = value + 1
    # as an entry written by another process (another seed), whose source also holds its literal
    key = f"def __hash__(self):\n    return hash((\n        {codecache._HASH_SLOT},\n    ))\nX = {old}\n"
    code = compile(key.replace(codecache._HASH_SLOT, str(old)), name, "exec", 0, dont_inherit=True)
    entry = (codecache._FORMAT, key, name, 0, old, code)
    assert codecache._from_entry(entry, key, name, 0, value) is None
    clean_key = key.replace(f"X = {old}", "X = 1")
    clean = compile(clean_key.replace(codecache._HASH_SLOT, str(old)), name, "exec", 0, dont_inherit=True)
    entry = (codecache._FORMAT, clean_key, name, 0, old, clean)
    patched = codecache._from_entry(entry, clean_key, name, 0, value)
    assert patched is not None
    space: dict[str, Any] = {}
    exec(patched, space)
    assert space["__hash__"](None) == hash((value,))
