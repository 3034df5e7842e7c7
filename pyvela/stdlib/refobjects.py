"""``ref-objects``: objects read from the target cluster when the component is applied.

Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/ref-objects.cue and
its special handling (pkg/component/ref_objects.go): each selector names objects by
``resource`` (and ``group``) or, as KubeVela's legacy form, ``api_version`` and ``kind``; by
``name`` (default: the component's) or ``label_selector``; in ``namespace`` (default: the
app's). What is read is stripped of what the API server owns (status, uid, resourceVersion,
generation, timestamps, managed fields, owner references, a Service's cluster IPs) and
applied as the component's objects: the first is the workload, the others ``objects-1``...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela import ComponentContext, Obj, ObjectRef, Rendered, cluster_reads, component
from pyvela.errors import RenderError

from ._types import Checked, Params, as_map
from ._urls import objects_at
from .objects import ANY

#: Built-in resources by every name kubectl knows them by: (apiVersion, kind, namespaced).
_BUILTIN: dict[str, tuple[str, str, bool]] = {}
for _api, _kind, _plural, _short, _namespaced in (
    ("v1", "ConfigMap", "configmaps", "cm", True),
    ("v1", "Secret", "secrets", "", True),
    ("v1", "Service", "services", "svc", True),
    ("v1", "ServiceAccount", "serviceaccounts", "sa", True),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", "pvc", True),
    ("v1", "Pod", "pods", "po", True),
    ("v1", "Endpoints", "endpoints", "ep", True),
    ("v1", "LimitRange", "limitranges", "limits", True),
    ("v1", "ResourceQuota", "resourcequotas", "quota", True),
    ("v1", "Namespace", "namespaces", "ns", False),
    ("v1", "PersistentVolume", "persistentvolumes", "pv", False),
    ("apps/v1", "Deployment", "deployments", "deploy", True),
    ("apps/v1", "StatefulSet", "statefulsets", "sts", True),
    ("apps/v1", "DaemonSet", "daemonsets", "ds", True),
    ("apps/v1", "ReplicaSet", "replicasets", "rs", True),
    ("batch/v1", "Job", "jobs", "", True),
    ("batch/v1", "CronJob", "cronjobs", "cj", True),
    ("networking.k8s.io/v1", "Ingress", "ingresses", "ing", True),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", "netpol", True),
    ("networking.k8s.io/v1", "IngressClass", "ingressclasses", "", False),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "hpa", True),
    ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", "pdb", True),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", "", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", "", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", "", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", "", False),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", "sc", False),
    ("coordination.k8s.io/v1", "Lease", "leases", "", True),
):
    _group = _api.rpartition("/")[0]
    for _name in {_kind.lower(), _plural, _short} - {""}:
        _BUILTIN[f"{_name}.{_group}" if _group else _name] = (_api, _kind, _namespaced)
        _BUILTIN.setdefault(_name, (_api, _kind, _namespaced))
_CLUSTER_SCOPED = frozenset(kind for _a, kind, namespaced in _BUILTIN.values() if not namespaced)


@attrs.frozen(kw_only=True)
class ObjectSelector(Checked):
    """Which objects to read.

    Attributes:
        resource: The resource type (``secret``, ``deployments``, ``cm``...).
        group: The resource's API group (``apps``; none for the core group).
        api_version: KubeVela's legacy form, with ``kind``: the objects' apiVersion.
        kind: KubeVela's legacy form, with ``api_version``: the objects' kind.
        name: The object's name (default: the component's); not with ``label_selector``.
        namespace: The namespace to read from (default: the app's).
        cluster: The cluster to read from (only the target cluster, ``local``, for now).
        label_selector: Read every object of the type whose labels match; not with ``name``.
    """

    resource: str | None = None
    group: str | None = None
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    cluster: str | None = None
    label_selector: Mapping[str, str] | None = None

    def validate(self) -> None:
        if self.name is not None and self.label_selector is not None:
            raise ValueError("name and label_selector cannot both be set: one selects by name, one by labels")
        if self.resource is None and (self.api_version is None or self.kind is None):
            raise ValueError("give resource (and group), or api_version and kind")
        if self.resource is not None and self.resolved() is None:
            known = sorted(k for k in _BUILTIN if "." not in k)
            raise ValueError(
                f"unknown resource {self.resource!r}"
                + (f" in group {self.group!r}" if self.group else "")
                + f": give api_version and kind for it (known resources: {', '.join(known)})"
            )
        if self.cluster not in (None, "", "local"):
            raise ValueError(
                f"cluster {self.cluster!r}: ref-objects reads only the target cluster ('local') for now"
            )

    def resolved(self) -> tuple[str, str, bool] | None:
        """(apiVersion, kind, namespaced) of the objects selected; None for an unknown resource."""
        if self.resource is None:
            assert self.api_version is not None and self.kind is not None
            return self.api_version, self.kind, self.kind not in _CLUSTER_SCOPED
        key = self.resource.lower()
        return _BUILTIN.get(f"{key}.{self.group}" if self.group else key)


@attrs.frozen(kw_only=True)
class RefObjectsParams(Params):
    """Parameters of ``ref-objects``.

    Attributes:
        objects: The objects to read: by name or by labels, of a resource type.
        urls: Addresses (http/https) of YAML files of objects, read at deploy time like the
            cluster's; their objects come after the selected ones, annotated
            ``app.oam.dev/resource-url``.
    """

    objects: tuple[ObjectSelector, ...] = ()
    urls: tuple[str, ...] | None = None

    def validate(self) -> None:
        if not self.objects and not self.urls:
            raise ValueError(
                "objects or urls: at least one selector or URL is needed (the first object is the workload)"
            )
        for url in self.urls or ():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"urls: {url!r} is not an http or https URL")


@component(name="ref-objects", params=RefObjectsParams, workload=ANY)
def ref_objects(p: RefObjectsParams, ctx: ComponentContext) -> Obj | Rendered:
    """Objects that already exist in the cluster, read when the component is applied.

    An offline ``render`` cannot know them and says so; ``deploy`` and ``diff`` read them
    from the target cluster (and the files at ``urls``).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/ref-objects.cue.
    """
    reads = cluster_reads("ref-objects")
    found: dict[tuple[str, str, str, str], Obj] = {}  # later selectors replace, in place (KubeVela)
    for i, sel in enumerate(p.objects):
        kind = sel.resolved()
        assert kind is not None  # checked with the parameters
        api_version, kind_name, namespaced = kind
        namespace = (sel.namespace or ctx.namespace) if namespaced else ""
        where = f"objects[{i}]"
        if sel.label_selector is not None:
            items = reads.list(api_version, kind_name, namespace or None, dict(sel.label_selector))
            items = sorted(items, key=lambda o: str(as_map(o.get("metadata")).get("name")))
        else:
            name = sel.name or ctx.name
            obj = reads.get(ObjectRef(api_version, kind_name, namespace, name))
            if obj is None:
                raise RenderError(
                    f"{where}: {kind_name} {namespace + '/' if namespace else ''}{name} does not exist",
                    component=ctx.name,
                    parameter=f"objects[{i}]",
                    fix="create it first, or name an object that exists",
                )
            items = [obj]
        for obj in items:
            meta = as_map(obj.get("metadata"))
            key = (api_version, kind_name, str(meta.get("namespace") or ""), str(meta.get("name")))
            found[key] = _cleared(obj)
    for i, url in enumerate(p.urls or ()):
        for obj in objects_at(url, component=ctx.name, parameter=f"urls[{i}]"):
            meta = as_map(obj.get("metadata"))
            found[
                (
                    str(obj["apiVersion"]),
                    str(obj["kind"]),
                    str(meta.get("namespace") or ""),
                    str(meta["name"]),
                )
            ] = obj
    if not found:
        raise RenderError(
            "no object matched the selectors",
            component=ctx.name,
            parameter="objects",
            fix="check the label selectors and namespaces: ref-objects needs at least one object",
        )
    first, *rest = found.values()
    if not rest:
        return first
    return Rendered(workload=first, outputs={f"objects-{i}": o for i, o in enumerate(rest, start=1)})


_SERVER_FIELDS = (
    "resourceVersion",
    "generation",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "uid",
    "creationTimestamp",
)


def _cleared(obj: Mapping[str, Any]) -> Obj:
    """What is read, without what the API server owns: applied elsewhere it must not carry them."""
    out: Obj = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(as_map(obj.get("metadata")))
    for key in _SERVER_FIELDS:
        meta.pop(key, None)
    out["metadata"] = meta
    if (
        out.get("apiVersion") == "v1"
        and out.get("kind") == "Service"
        and isinstance(out.get("spec"), Mapping)
    ):
        spec = dict(as_map(out.get("spec")))
        # A headless Service keeps "None"; an allocated address belongs to the Service read.
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        out["spec"] = spec
    return out
