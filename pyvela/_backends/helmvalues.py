"""A HelmRelease's ``valuesFrom``: values read from ConfigMap and Secret keys (FluxCD's rules).

Each entry names a ConfigMap or Secret in the release's namespace and a key (default
``values.yaml``). Without ``targetPath`` the key holds YAML, merged into the values; with one
(``a.b.c``), the key's text is put at that path. Entries merge in order, and the inline
``values`` last, over all of them. A missing object or key is an error unless ``optional``.
Both backends resolve the same way; the values go only to helm (a private file), never into
the HelmRelease, the state record or a message.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError

DEFAULT_KEY = "values.yaml"


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings key by key, anything else from ``over``."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def entries_of(spec: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    """The spec's ``valuesFrom`` entries, checked."""
    raw = spec.get("valuesFrom") or []
    if not isinstance(raw, list):
        raise ClusterError(f"{where}: spec.valuesFrom must be a list", object=where)
    for i, entry in enumerate(raw):
        ok = isinstance(entry, Mapping) and entry.get("kind") in ("ConfigMap", "Secret")
        if not ok or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise ClusterError(
                f"{where}: spec.valuesFrom[{i}]: kind (ConfigMap or Secret) and name are required",
                object=where,
                expected="{kind, name, valuesKey, targetPath, optional}",
            )
    return list(raw)


def resolve(
    spec: Mapping[str, Any], namespace: str, get: Callable[[ObjectRef], Obj | None], where: str
) -> dict[str, Any]:
    """The values helm gets: every ``valuesFrom`` entry, then the inline ``values``."""
    values: dict[str, Any] = {}
    for entry in entries_of(spec, where):
        kind, name = str(entry["kind"]), str(entry["name"])
        key = str(entry.get("valuesKey") or DEFAULT_KEY)
        optional = entry.get("optional") is True
        obj = get(ObjectRef("v1", kind, namespace, name))
        text = _read(obj, kind, key)
        if text is None:
            if optional:
                continue
            what = f"the {kind} {namespace}/{name}" + (
                " has no key " + repr(key) if obj is not None else " does not exist"
            )
            raise ClusterError(
                f"{where}: valuesFrom: {what}",
                object=where,
                fix=f"create it (key {key!r}), or mark the entry optional",
            )
        path = entry.get("targetPath")
        if path:
            values = merge(values, _at(str(path), text))
            continue
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError:
            loaded = None
        if not isinstance(loaded, Mapping):
            # The content stays unshown: it may be a Secret's.
            raise ClusterError(
                f"{where}: valuesFrom: key {key!r} of the {kind} {namespace}/{name} is not a YAML mapping",
                object=where,
                fix="give a targetPath to use the key's text as one value",
            )
        values = merge(values, loaded)
    inline = spec.get("values") or {}
    return merge(values, inline) if isinstance(inline, Mapping) else values


def _read(obj: Obj | None, kind: str, key: str) -> str | None:
    if obj is None:
        return None
    if kind == "Secret":
        data = obj.get("data") or {}
        if key in data:
            return base64.b64decode(data[key]).decode()
        string = obj.get("stringData") or {}
        return str(string[key]) if key in string else None
    data = obj.get("data") or {}
    return str(data[key]) if key in data else None


def _at(path: str, value: str) -> dict[str, Any]:
    """``a.b.c`` and a value as nested mappings (a ``\\.`` is a dot inside a key)."""
    parts = [p.replace("\0", ".") for p in path.replace("\\.", "\0").split(".")]
    out: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        out = {part: out}
    return out


def repo_credentials(
    get: Callable[[ObjectRef], Obj | None], namespace: str, name: str, what: str
) -> tuple[str, str]:
    """(username, password) of a chart repository from the Secret ``namespace/name`` (FluxCD's
    ``secretRef``), read through ``get``; ClusterError naming what is missing, never a value.
    Both backends refuse a release with the same words."""
    secret = get(ObjectRef("v1", "Secret", namespace, name))
    where = f"the Secret {namespace}/{name} (the chart repository's credentials)"
    if secret is None:
        raise ClusterError(
            f"{what}: {where} does not exist",
            object=what,
            fix=f"kubectl create secret generic {name} -n {namespace} --from-literal=username=... "
            "--from-literal=password=...",
        )
    data = secret.get("data") or {}
    found = {k: base64.b64decode(data[k]).decode() for k in ("username", "password") if data.get(k)}
    missing = [k for k in ("username", "password") if not found.get(k)]
    if missing:
        raise ClusterError(
            f"{what}: {where} has no {' and no '.join(missing)}",
            object=what,
            expected="keys username and password",
            got="keys " + (", ".join(sorted(data)) or "none"),
        )
    return found["username"], found["password"]
