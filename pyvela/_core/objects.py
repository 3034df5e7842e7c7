"""Kubernetes object helpers shared by every layer: references, labels, deep copies."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import attrs

#: An object as plain JSON-like data (what ``kubectl get -o json`` prints).
Obj = dict[str, Any]

LABEL_APP = "app.oam.dev/name"
LABEL_COMPONENT = "app.oam.dev/component"
LABEL_TRAIT = "trait.oam.dev/type"
LABEL_RESOURCE = "trait.oam.dev/resource"
#: The trait type KubeVela gives a component's extra outputs (not one of its traits' objects).
AUXILIARY = "AuxiliaryWorkload"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
ANNOTATION_NAMESPACE = "app.oam.dev/namespace"
MANAGER = "pyvela"

#: The kind pyvela uses to describe a Helm release. It is not a Kubernetes API
#: object: the sandbox simulates it and the Kubernetes backend drives the helm CLI.
HELM_API_VERSION = "pyvela.dev/v1alpha1"
HELM_KIND = "HelmRelease"


@attrs.frozen(order=True)
class ObjectRef:
    """Identifies one object: apiVersion, kind, namespace ('' if cluster-scoped), name."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        meta = obj.get("metadata") or {}
        return cls(
            api_version=str(obj.get("apiVersion", "")),
            kind=str(obj.get("kind", "")),
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name", "")),
        )

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    def to_dict(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> ObjectRef:
        return cls(data["apiVersion"], data["kind"], data.get("namespace", ""), data["name"])

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def is_helm_release(obj: Mapping[str, Any]) -> bool:
    return obj.get("apiVersion") == HELM_API_VERSION and obj.get("kind") == HELM_KIND


_ATOMS = frozenset({str, int, float, bool, type(None)})


def deep_copy(obj: Any) -> Any:
    """Copy plain JSON-like data fast (dicts, lists, scalars); no two places share a node.

    Renders copy every workload a few times, so scalars are not recursed into.
    """
    kind = type(obj)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else deep_copy(v) for k, v in obj.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else deep_copy(v) for v in obj]
    if kind in _ATOMS:
        return obj
    if isinstance(obj, dict):
        return {k: deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [deep_copy(v) for v in obj]
    if isinstance(obj, str | int | float | bool):
        return obj
    return copy.deepcopy(obj)


def get_path(obj: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    """``obj[a][b][c]`` or ``default`` when any step is missing (Kubernetes omits zeros)."""
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return default
        cur = cur[key]
    return cur
