"""valuesFrom: values from ConfigMap and Secret keys, merged as FluxCD's helm-controller does."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pyvela._backends.helmvalues import merge, resolve
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError

OBJECTS: dict[tuple[str, str], dict[str, Any]] = {
    ("ConfigMap", "base"): {"data": {"values.yaml": "replicas: 1\nimage: {repo: a, tag: '1'}\n", "x": "[1]"}},
    ("Secret", "creds"): {"data": {"password": base64.b64encode(b"s3cr3t").decode(),
                                   "extra.yaml": base64.b64encode(b"image: {tag: '2'}").decode()}},
}  # fmt: skip


def get(ref: ObjectRef) -> dict[str, Any] | None:
    return OBJECTS.get((ref.kind, ref.name))


def spec(*entries: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"valuesFrom": list(entries), "values": values or {}}


def test_entries_merge_in_order_and_inline_values_win() -> None:
    got = resolve(
        spec(
            {"kind": "ConfigMap", "name": "base"},
            {"kind": "Secret", "name": "creds", "valuesKey": "extra.yaml"},
            {"kind": "Secret", "name": "creds", "valuesKey": "password", "targetPath": "db.auth.password"},
            values={"replicas": 3},
        ),
        "ns",
        get,
        "HelmRelease ns/r",
    )
    assert got == {"replicas": 3, "image": {"repo": "a", "tag": "2"}, "db": {"auth": {"password": "s3cr3t"}}}


def test_missing_objects_and_keys_fail_unless_optional_and_never_show_content() -> None:
    with pytest.raises(ClusterError, match="the ConfigMap ns/nope does not exist"):
        resolve(spec({"kind": "ConfigMap", "name": "nope"}), "ns", get, "r")
    with pytest.raises(ClusterError, match="has no key 'other'"):
        resolve(spec({"kind": "Secret", "name": "creds", "valuesKey": "other"}), "ns", get, "r")
    assert resolve(spec({"kind": "ConfigMap", "name": "nope", "optional": True}), "ns", get, "r") == {}
    with pytest.raises(ClusterError, match="is not a YAML mapping") as exc:
        resolve(spec({"kind": "Secret", "name": "creds", "valuesKey": "password"}), "ns", get, "r")
    assert "s3cr3t" not in str(exc.value)
    with pytest.raises(ClusterError, match="kind"):
        resolve(spec({"kind": "Deployment", "name": "x"}), "ns", get, "r")


def test_merge_is_deep_and_replaces_lists() -> None:
    assert merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2], "d": 3}}) == {"a": {"b": 1, "c": [2], "d": 3}}
