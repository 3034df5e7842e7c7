"""The kinds the sandbox serves: a built-in table plus the kinds of installed CRDs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from pyvela._core.objects import HELM_API_VERSION, HELM_KIND
from pyvela.errors import ClusterError, UnknownKindError

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"


@attrs.frozen
class KindInfo:
    """One served kind: its group, the versions served, scope and plural."""

    group: str
    kind: str
    versions: tuple[str, ...]
    namespaced: bool
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.versions[0]}" if self.group else self.versions[0]


def _k(api_version: str, kind: str, namespaced: bool, plural: str) -> KindInfo:
    group, _, version = api_version.rpartition("/")
    return KindInfo(group, kind, (version,), namespaced, plural)


_HELM_GROUP, _, _HELM_VERSION = HELM_API_VERSION.rpartition("/")

BUILTIN: tuple[KindInfo, ...] = (
    _k("v1", "Namespace", False, "namespaces"),
    _k("v1", "Service", True, "services"),
    _k("v1", "ConfigMap", True, "configmaps"),
    _k("v1", "Secret", True, "secrets"),
    _k("v1", "Pod", True, "pods"),
    _k("v1", "PersistentVolumeClaim", True, "persistentvolumeclaims"),
    _k("v1", "ServiceAccount", True, "serviceaccounts"),
    _k("v1", "Endpoints", True, "endpoints"),
    _k("v1", "Event", True, "events"),
    _k("apps/v1", "Deployment", True, "deployments"),
    _k("apps/v1", "StatefulSet", True, "statefulsets"),
    _k("apps/v1", "DaemonSet", True, "daemonsets"),
    _k("apps/v1", "ReplicaSet", True, "replicasets"),
    _k("batch/v1", "Job", True, "jobs"),
    _k("batch/v1", "CronJob", True, "cronjobs"),
    _k("networking.k8s.io/v1", "Ingress", True, "ingresses"),
    _k("networking.k8s.io/v1", "NetworkPolicy", True, "networkpolicies"),
    _k("coordination.k8s.io/v1", "Lease", True, "leases"),
    _k("policy/v1", "PodDisruptionBudget", True, "poddisruptionbudgets"),
    _k("rbac.authorization.k8s.io/v1", "Role", True, "roles"),
    _k("rbac.authorization.k8s.io/v1", "RoleBinding", True, "rolebindings"),
    _k("rbac.authorization.k8s.io/v1", "ClusterRole", False, "clusterroles"),
    _k("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False, "clusterrolebindings"),
    _k("autoscaling/v2", "HorizontalPodAutoscaler", True, "horizontalpodautoscalers"),
    _k(f"{CRD_GROUP}/v1", CRD_KIND, False, "customresourcedefinitions"),
    _k(HELM_API_VERSION, HELM_KIND, True, "helmreleases"),
)
BUILTIN_BY_KEY: dict[tuple[str, str], KindInfo] = {(k.group, k.kind): k for k in BUILTIN}

#: Namespaces that exist from the start and cannot be deleted.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

#: Argo Rollouts' CRD (abridged: no schema), installed with every new sandbox.
ROLLOUT_CRD: dict[str, Any] = {
    "apiVersion": f"{CRD_GROUP}/v1",
    "kind": CRD_KIND,
    "metadata": {
        "name": "rollouts.argoproj.io",
        "labels": {"app.kubernetes.io/part-of": "argo-rollouts"},
    },
    "spec": {
        "group": "argoproj.io",
        "names": {
            "kind": "Rollout",
            "listKind": "RolloutList",
            "plural": "rollouts",
            "shortNames": ["ro"],
            "singular": "rollout",
        },
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "subresources": {
                    "status": {},
                    "scale": {
                        "labelSelectorPath": ".status.selector",
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.HPAReplicas",
                    },
                },
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            },
        ],
    },
}

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def kind_from_crd(crd: Mapping[str, Any]) -> KindInfo:
    """The kind a CRD defines; ClusterError when the CRD is malformed (as the API server would)."""
    spec = crd.get("spec")
    name = (crd.get("metadata") or {}).get("name")
    if not isinstance(spec, Mapping):
        raise ClusterError("CustomResourceDefinition has no spec", object=f"{CRD_KIND} {name}")
    names = spec.get("names")
    names = names if isinstance(names, Mapping) else {}
    group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
    problems = []
    if not isinstance(group, str) or "." not in group:
        problems.append("spec.group must be a domain such as example.com")
    if not isinstance(kind, str) or not kind[:1].isupper():
        problems.append("spec.names.kind must be a CamelCase kind")
    if not isinstance(plural, str) or not _DNS_LABEL.fullmatch(plural):
        problems.append("spec.names.plural must be a lower-case DNS label")
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        problems.append("spec.scope must be Namespaced or Cluster")
    raw_versions = spec.get("versions")
    versions = []
    for version in raw_versions if isinstance(raw_versions, list) else []:
        named = isinstance(version, Mapping) and isinstance(version.get("name"), str)
        if named and version.get("served", True):
            versions.append(version["name"])
    if not versions:
        problems.append("spec.versions must list at least one served version")
    if not problems and name != f"{plural}.{group}":
        problems.append(f'metadata.name must be spec.names.plural + "." + spec.group: {plural}.{group}')
    if problems:
        raise ClusterError(
            f"CustomResourceDefinition {name!r} is invalid: " + "; ".join(problems),
            object=f"{CRD_KIND} {name}",
        )
    assert isinstance(group, str) and isinstance(kind, str) and isinstance(plural, str)
    return KindInfo(group, kind, tuple(versions), scope == "Namespaced", plural)


def unknown_kind(api_version: str, kind: str, known: Iterable[KindInfo]) -> UnknownKindError:
    group, _ = split_api_version(api_version)
    prefix = f"{group}/" if group else ""
    in_group = sorted({f"{k.kind} ({prefix}{v})" for k in known if k.group == group for v in k.versions})
    listing = "the group has no known kinds"
    if in_group:
        listing = f"known kinds in that group: {', '.join(in_group)}"
    return UnknownKindError(
        f'no kind "{kind}" in group "{api_version}" on the sandbox: is its CustomResourceDefinition '
        f"installed? apply it first ({listing})",
        object=f"{kind} ({api_version})",
        fix=f"apply the CustomResourceDefinition that defines {kind} in {api_version}",
    )
