"""What ``python -m pyvela controller manifests`` prints: the CRD, a least-privilege RBAC,
the ServiceAccount and the Deployment running the controller.

Least privilege: the controller may write only the kinds the catalogue renders (its
component definitions' workloads, the objects the given apps render, and ``--kind``
extras), pyvela's own state objects (the record's Secrets, the app Lease, the control
ConfigMap, Events, the apps' Namespaces) and its own ``applications.pyvela.dev``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from pyvela._app.catalogue import Catalogue
from pyvela._app.loader import LoadedApp
from pyvela._app.render import render_component
from pyvela._backends.sandbox.kinds import BUILTIN_BY_KEY
from pyvela._controller.crd import crd
from pyvela._controller.kubevela import KUBEVELA
from pyvela._controller.kubevela_crd import crd as kubevela_crd_object
from pyvela._controller.served import PYVELA, Served
from pyvela._controller.shard_manifests import shard_deployments
from pyvela._core.definitions import ComponentDefinition
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, LABEL_MANAGED_BY, MANAGER

NAME = "pyvela-controller"
#: Where the pod serves /metrics and the probes (all its addresses: the kubelet probes them).
BIND = "0.0.0.0:8080"
RESOURCES: dict[str, Any] = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"]
#: What every app's objects include whatever its definitions (traits' Services, Ingresses…).
DEFAULT_KINDS: tuple[tuple[str, str], ...] = (
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("networking.k8s.io/v1", "Ingress"),
)
#: pyvela's own state: (group, resource, verbs).
STATE_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("", "secrets", ("get", "list", "watch", "create", "update", "patch", "delete")),
    ("coordination.k8s.io", "leases", ("get", "list", "watch", "create", "update", "patch", "delete")),
    ("", "configmaps", ("get", "list", "watch", "create", "update", "patch", "delete")),
    ("", "events", ("get", "list", "watch", "create", "patch", "update")),
    ("events.k8s.io", "events", ("get", "list", "watch", "create", "patch", "update")),
    ("", "namespaces", ("get", "list", "watch", "create")),
    # kopf finds the resources it serves through the CRDs.
    ("apiextensions.k8s.io", "customresourcedefinitions", ("get", "list", "watch")),
)


def plural(api_version: str, kind: str) -> str:
    """The resource name of a kind: the built-in table's, else English's regular plural."""
    group = api_version.rpartition("/")[0]
    known = BUILTIN_BY_KEY.get((group, kind))
    if known is not None:
        return known.plural
    low = kind.lower()
    if low.endswith(("s", "x", "ch", "sh")):
        return low + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    return low + "s"


def catalogue_kinds(catalogue: Catalogue) -> set[tuple[str, str]]:
    """The workload kinds of the catalogue's component definitions (wildcards and helm's
    pseudo-kind left out: a helm release's objects are the chart's, given with ``--kind``)."""
    out: set[tuple[str, str]] = set()
    for key in catalogue.definitions:
        d = catalogue.definitions[key]
        if isinstance(d, ComponentDefinition):
            w = d.workload
            if "*" not in (w.api_version, w.kind) and (w.api_version, w.kind) != (
                HELM_API_VERSION,
                HELM_KIND,
            ):
                out.add((w.api_version, w.kind))
    return out


def rendered_kinds(apps: Iterable[LoadedApp]) -> set[tuple[str, str]]:
    """The kinds of every object the apps render (offline, as ``pyvela render``)."""
    out: set[tuple[str, str]] = set()
    for loaded in apps:
        for use in loaded.app.components:
            for o in render_component(loaded.app, use, revision=loaded.revision).objects:
                api, kind = str(o.object.get("apiVersion")), str(o.object.get("kind"))
                if (api, kind) != (HELM_API_VERSION, HELM_KIND):
                    out.add((api, kind))
    return out


def owned_kinds(
    catalogue: Catalogue | None, apps: Iterable[LoadedApp] = (), extra: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    kinds = set(DEFAULT_KINDS) | set(extra) | rendered_kinds(apps)
    if catalogue is not None:
        kinds |= catalogue_kinds(catalogue)
    return sorted(kinds)


def cluster_role(kinds: Sequence[tuple[str, str]], served: Served = PYVELA) -> dict[str, Any]:
    """The ClusterRole: the served Applications (pyvela's or KubeVela's), their status and
    finalizers, pyvela's state objects and the owned ``kinds``."""
    by_group: dict[str, set[str]] = {}
    for api, kind in kinds:
        by_group.setdefault(api.rpartition("/")[0], set()).add(plural(api, kind))
    group, apps = served.group, served.plural
    rules: list[dict[str, Any]] = [
        {"apiGroups": [group], "resources": [apps], "verbs": ["get", "list", "watch", "patch", "update"]},
        {"apiGroups": [group], "resources": [f"{apps}/status"], "verbs": ["get", "patch", "update"]},
        {"apiGroups": [group], "resources": [f"{apps}/finalizers"], "verbs": ["update"]},
    ]
    state: dict[str, dict[str, set[str]]] = {}
    for group, resource, state_verbs in STATE_RULES:
        state.setdefault(group, {})[resource] = set(state_verbs)
    for group, plurals in sorted(by_group.items()):
        for r in plurals:
            state.setdefault(group, {}).setdefault(r, set()).update(WRITE)
    for group in sorted(state):
        by_verbs: dict[tuple[str, ...], list[str]] = {}
        for resource, verbs in sorted(state[group].items()):
            by_verbs.setdefault(tuple(sorted(verbs)), []).append(resource)
        for granted, resources in sorted(by_verbs.items()):
            rules.append({"apiGroups": [group], "resources": sorted(resources), "verbs": list(granted)})
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": NAME, "labels": {LABEL_MANAGED_BY: MANAGER}},
        "rules": rules,
    }


def manifests(
    *,
    kinds: Sequence[tuple[str, str]],
    namespace: str = "pyvela-system",
    image: str = "pyvela:latest",
    watch_namespaces: Sequence[str] = (),
    shards: int = 1,
    replicas: int = 1,
    kubevela: bool = False,
    kubevela_crd: bool = False,
    bind: str = BIND,
) -> list[dict[str, Any]]:
    """Every object of an install, in the order ``kubectl apply -f`` needs them; with
    ``shards``/``replicas`` one Deployment per shard (``shard_deployments``). ``kubevela``:
    the controller reconciles KubeVela's Applications, whose CRD vela-core installed (ours,
    ``kubevela_crd``, only for a cluster that never had it)."""
    labels = {"app.kubernetes.io/name": NAME, LABEL_MANAGED_BY: MANAGER}
    args = ["controller", "--in-cluster", "--bind", bind] + (["--kubevela"] if kubevela else [])
    for watched in watch_namespaces:
        args += ["--namespace", watched]
    port = int(bind.rpartition(":")[2])
    probe = {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 10}
    crds = [kubevela_crd_object()] if kubevela_crd else [] if kubevela else [crd()]
    objects = [
        *crds,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": dict(labels)}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": namespace, "labels": dict(labels)},
        },
        cluster_role(kinds, KUBEVELA if kubevela else PYVELA),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME, "labels": dict(labels)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": namespace, "labels": dict(labels)},
            "spec": {
                # One replica without --shard; `--shards/--replicas` make one Deployment per shard.
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "serviceAccountName": NAME,
                        "containers": [
                            {
                                "name": "controller",
                                "image": image,
                                "command": ["python", "-m", "pyvela"],
                                "args": args,
                                "ports": [{"name": "metrics", "containerPort": port}],
                                "livenessProbe": probe,
                                "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": port}},
                                "resources": copy.deepcopy(RESOURCES),
                                "securityContext": {
                                    "runAsNonRoot": True,
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                },
                            }
                        ],
                    },
                },
            },
        },
    ]
    if shards == 1 and replicas == 1:
        return objects
    return objects[:-1] + shard_deployments(objects[-1], namespace, shards, replicas)
