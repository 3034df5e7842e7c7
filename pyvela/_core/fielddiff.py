"""Field-by-field differences between two Kubernetes objects, each named by its path.

``spec.template.spec.containers[name=web].image``: list items that carry a merge key
(containers by name, ports by containerPort, see :data:`~pyvela._core.merge.MERGE_KEYS`) are
matched on it, so an inserted container shows as one added item, not as every later one
changed; other lists are compared by position (``args[2]``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import yaml

from pyvela._core.merge import MERGE_KEYS

Change = Literal["changed", "missing", "unexpected"]


@attrs.frozen
class Difference:
    """One field that differs.

    Attributes:
        path: Where, from the object's root (``spec.replicas``).
        change: ``changed`` (both have it), ``missing`` (expected, absent) or
            ``unexpected`` (present, not expected; only in an exact comparison).
        expected: The value wanted (None when ``unexpected``).
        actual: The value found (None when ``missing``).
    """

    path: str
    change: Change
    expected: Any = None
    actual: Any = None

    def __str__(self) -> str:
        if self.change == "missing":
            return f"{self.path}: missing (expected {_short(self.expected)})"
        if self.change == "unexpected":
            return f"{self.path}: unexpected {_short(self.actual)}"
        return f"{self.path}: expected {_short(self.expected)}, got {_short(self.actual)}"


def differences(
    expected: Any, actual: Any, *, subset: bool = False, keys: Mapping[str, str] = MERGE_KEYS
) -> list[Difference]:
    """Every field where ``actual`` is not ``expected``.

    ``subset``: only the fields ``expected`` names are compared (a partial object: what a
    test cares about); fields ``actual`` has beyond them are not differences.
    """
    out: list[Difference] = []
    _walk(expected, actual, "", None, subset, keys, out)
    return out


def describe(obj: Any) -> str:
    """``Deployment default/web``: how a message names an object."""
    if not isinstance(obj, Mapping):
        return type(obj).__name__
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    name = meta.get("name", "?")
    namespace = meta.get("namespace")
    return f"{obj.get('kind', 'object')} {namespace + '/' if namespace else ''}{name}"


def looks_like_object(value: Any) -> bool:
    """Whether ``value`` is a Kubernetes object (a mapping with a kind)."""
    return isinstance(value, Mapping) and isinstance(value.get("kind"), str)


def report(expected: Any, actual: Any, *, subset: bool = False, limit: int = 40) -> list[str]:
    """Lines naming the object and each differing field (at most ``limit`` of them)."""
    found = differences(expected, actual, subset=subset)
    if not found:
        return []
    head = f"{describe(actual if looks_like_object(actual) else expected)}: {len(found)} field(s) differ"
    lines = [head] + [f"  {d}" for d in found[:limit]]
    if len(found) > limit:
        lines.append(f"  ... and {len(found) - limit} more")
    return lines


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion")),
        str(obj.get("kind")),
        str(meta.get("namespace", "")),
        str(meta.get("name")),
    )


def objects_report(
    expected: list[Any], actual: list[Any], *, want_in: str = "the golden file", got_in: str = "rendered"
) -> list[str]:
    """Objects matched by apiVersion, kind, namespace and name; each difference by field path."""
    want = {_key(o): o for o in expected if isinstance(o, Mapping)}
    got = {_key(o): o for o in actual if isinstance(o, Mapping)}
    if len(want) != len(expected) or len(got) != len(actual):  # not a list of objects: a text diff
        return list(
            difflib.unified_diff(
                yaml.safe_dump_all(expected, sort_keys=True).splitlines(),
                yaml.safe_dump_all(actual, sort_keys=True).splitlines(),
                fromfile=want_in,
                tofile=got_in,
                lineterm="",
            )
        )
    lines = [f"missing: {describe(o)} (in {want_in}, not {got_in})" for k, o in want.items() if k not in got]
    lines += [
        f"unexpected: {describe(o)} ({got_in}, not in {want_in})" for k, o in got.items() if k not in want
    ]
    for k, o in want.items():
        if k in got:
            lines += report(o, got[k])
    if not lines and list(want) != list(got):
        lines.append("the same objects, in another order: " + ", ".join(describe(o) for o in actual))
    return lines


def _join(path: str, name: Any) -> str:
    text = str(name)
    if text and all(ch.isalnum() or ch in "_-" for ch in text):
        return f"{path}.{text}" if path else text
    return f"{path}[{text}]"  # names with dots or slashes: metadata.labels[app.kubernetes.io/name]


def _walk(
    want: Any,
    got: Any,
    path: str,
    field: str | None,
    subset: bool,
    keys: Mapping[str, str],
    out: list[Difference],
) -> None:
    if isinstance(want, Mapping) and isinstance(got, Mapping):
        for name, value in want.items():
            here = _join(path, name)
            if name not in got:
                out.append(Difference(here, "missing", expected=value))
            else:
                _walk(value, got[name], here, str(name), subset, keys, out)
        if not subset:
            out.extend(
                Difference(_join(path, n), "unexpected", actual=v) for n, v in got.items() if n not in want
            )
        return
    if isinstance(want, list) and isinstance(got, list):
        key = keys.get(field or "")
        if key is not None and _keyed(want, key) and _keyed(got, key):
            _walk_keyed(want, got, path, key, subset, keys, out)
            return
        for i, value in enumerate(want):
            if i >= len(got):
                out.append(Difference(f"{path}[{i}]", "missing", expected=value))
            else:
                _walk(value, got[i], f"{path}[{i}]", None, subset, keys, out)
        if len(got) > len(want) and not subset:
            out.extend(
                Difference(f"{path}[{i}]", "unexpected", actual=got[i]) for i in range(len(want), len(got))
            )
        return
    if want != got or (type(want) is not type(got) and not _same_number(want, got)):
        out.append(Difference(path or "(object)", "changed", expected=want, actual=got))


def _walk_keyed(
    want: list[Any],
    got: list[Any],
    path: str,
    key: str,
    subset: bool,
    keys: Mapping[str, str],
    out: list[Difference],
) -> None:
    by_key = {item[key]: item for item in got}
    for item in want:
        here = f"{path}[{key}={item[key]}]"
        if item[key] not in by_key:
            out.append(Difference(here, "missing", expected=item))
        else:
            _walk(item, by_key[item[key]], here, None, subset, keys, out)
    if not subset:
        wanted = {item[key] for item in want}
        out.extend(
            Difference(f"{path}[{key}={item[key]}]", "unexpected", actual=item)
            for item in got
            if item[key] not in wanted
        )


def _keyed(items: list[Any], key: str) -> bool:
    seen = [item.get(key) for item in items if isinstance(item, Mapping)]
    return len(seen) == len(items) and None not in seen and len(set(map(repr, seen))) == len(seen)


def _same_number(a: Any, b: Any) -> bool:
    # 1 == 1.0 is the same field value; True == 1 is not (YAML and the API tell them apart).
    return not isinstance(a, bool) and not isinstance(b, bool) and isinstance(a, int | float) and a == b


def _short(value: Any, width: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
