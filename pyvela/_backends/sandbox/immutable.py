"""What the API server refuses on an update (immutable fields) and on decoding (well-known
integer fields of the wrong JSON type). Messages follow the API server's own wording, so a
change the sandbox refuses is one a real cluster refuses, with the same words."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pyvela._backends.protocol import refuses_update
from pyvela._backends.sandbox.admission import invalid
from pyvela._backends.sandbox.kinds import KindInfo
from pyvela._core.objects import Obj
from pyvela.errors import ClusterError, ImmutableFieldError

_WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
#: StatefulSet spec fields an update may change (everything else is refused).
_STS_MUTABLE = (
    "replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)  # fmt: skip
_STS_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)
_PVC_FORBIDDEN = (
    "spec is immutable after creation except resources.requests "
    "and volumeAttributesClassName for bound claims"
)

#: Integer fields by (group, kind): the Go struct holding them, and their paths under the object.
_INTEGER_FIELDS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("apps", "Deployment"): (
        "DeploymentSpec",
        ("replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"),
    ),
    ("apps", "ReplicaSet"): ("ReplicaSetSpec", ("replicas", "minReadySeconds")),
    ("apps", "StatefulSet"): ("StatefulSetSpec", ("replicas", "minReadySeconds", "revisionHistoryLimit")),
    ("apps", "DaemonSet"): ("DaemonSetSpec", ("minReadySeconds", "revisionHistoryLimit")),
    ("batch", "Job"): (
        "JobSpec",
        ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"),
    ),
    ("batch", "CronJob"): (
        "CronJobSpec",
        ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"),
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): (
        "HorizontalPodAutoscalerSpec",
        ("minReplicas", "maxReplicas"),
    ),
}
_INT32 = range(-(2**31), 2**31)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, float):
        return f"number {json.dumps(value)}"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _undecodable(info: KindInfo, struct: str, field: str, value: Any) -> ClusterError:
    version = info.versions[0]
    return ClusterError(
        f'{info.kind} in version "{version}" cannot be handled as a {info.kind}: json: cannot unmarshal '
        f"{_json_type(value)} into Go struct field {struct}.{field} of type int32",
        object=info.kind,
        expected="an integer",
        got=repr(value),
    )


def check_types(info: KindInfo, name: str, body: Mapping[str, Any]) -> None:
    """Refuse well-known integer fields that are not integers (as the API server's decoder
    does: ``replicas: "three"`` never reaches validation) or are negative."""
    known = _INTEGER_FIELDS.get((info.group, info.kind))
    spec = body.get("spec")
    if known is None or not isinstance(spec, Mapping):
        return
    struct, fields = known
    for field in fields:
        if field not in spec or spec[field] is None:
            continue
        value = spec[field]
        whole = isinstance(value, float) and value.is_integer()
        if (not isinstance(value, int) or isinstance(value, bool)) and not whole:
            raise _undecodable(info, struct, f"spec.{field}", value)
        if int(value) not in _INT32:
            raise _undecodable(info, struct, f"spec.{field}", value)
        if int(value) < 0:
            raise invalid(info.kind, name, f"spec.{field}", value, "must be greater than or equal to 0")
        spec[field] = int(value)  # type: ignore[index]
    template = spec.get("template")
    pod_spec = template.get("spec") if isinstance(template, Mapping) else None
    grace = pod_spec.get("terminationGracePeriodSeconds") if isinstance(pod_spec, Mapping) else None
    if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
        raise _undecodable(info, "PodSpec", "spec.template.spec.terminationGracePeriodSeconds", grace)


def check_selector(info: KindInfo, name: str, body: Mapping[str, Any]) -> None:
    """apps/v1 workloads need ``spec.selector``, and their template's labels must match it."""
    if info.group != "apps" or info.kind not in _WORKLOADS:
        return
    spec = _spec(body)
    selector = spec.get("selector")
    if not isinstance(selector, Mapping) or not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        raise ClusterError(
            f'{info.kind}.apps "{name}" is invalid: spec.selector: Required value',
            object=f"{info.kind} {name}",
            fix="set spec.selector.matchLabels to labels of spec.template.metadata.labels",
        )
    template = spec.get("template")
    meta = template.get("metadata") if isinstance(template, Mapping) else None
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    labels = labels if isinstance(labels, Mapping) else {}
    match = selector.get("matchLabels")
    wanted = match if isinstance(match, Mapping) else {}
    if any(labels.get(k) != v for k, v in wanted.items()) or not _expressions_match(selector, labels):
        raise invalid(
            info.kind,
            name,
            "spec.template.metadata.labels",
            dict(labels),
            "`selector` does not match template `labels`",
        )


def _expressions_match(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    expressions = selector.get("matchExpressions")
    for expr in expressions if isinstance(expressions, list) else []:
        if not isinstance(expr, Mapping):
            return False
        key, op, values = str(expr.get("key")), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _immutable(kind: str, name: str, field: str, value: Any) -> ClusterError:
    return invalid(kind, name, field, value, "field is immutable")


def _forbidden(kind: str, name: str, field: str, why: str) -> ClusterError:
    cls = ImmutableFieldError if refuses_update(why) else ClusterError
    return cls(f'{kind} "{name}" is invalid: {field}: Forbidden: {why}', object=f"{kind} {name}")


_QUANTITY = re.compile(r"([0-9.]+)([A-Za-z]*)")
_SUFFIX: dict[str, int | Decimal] = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "m": Decimal("0.001"),
}  # fmt: skip


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (``10Gi``, ``500M``, ``1e3`` not included) as a number; None if not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if match is None or match.group(2) not in _SUFFIX:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        return None


def _storage(spec: Mapping[str, Any]) -> Any:
    resources = spec.get("resources")
    requests = resources.get("requests") if isinstance(resources, Mapping) else None
    return requests.get("storage") if isinstance(requests, Mapping) else None


def _without_requests(spec: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if k != "volumeAttributesClassName"}
    resources = out.get("resources")
    if isinstance(resources, Mapping):
        out["resources"] = {k: v for k, v in resources.items() if k != "requests"}
    return out


def _pvc(name: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> None:
    if _without_requests(new) != _without_requests(old):
        raise _forbidden("PersistentVolumeClaim", name, "spec", _PVC_FORBIDDEN)
    before, after = quantity(_storage(old)), quantity(_storage(new))
    if before is not None and after is not None and after < before:
        raise _forbidden(
            "PersistentVolumeClaim",
            name,
            "spec.resources.requests.storage",
            f"field can not be less than previous value ({_storage(old)})",
        )


def _spec(body: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = body.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def check_update(info: KindInfo, name: str, new: Obj, old: Obj, given_uid: Any) -> None:
    """Refuse changes to fields the API server keeps immutable once the object exists."""
    kind = info.kind
    if given_uid not in (None, "") and given_uid != old["metadata"].get("uid"):
        raise _immutable(kind, name, "metadata.uid", given_uid)
    spec, old_spec = _spec(new), _spec(old)
    group = info.group
    if group == "apps" and kind in _WORKLOADS and spec.get("selector") != old_spec.get("selector"):
        raise _immutable(kind, name, "spec.selector", spec.get("selector"))
    if group == "apps" and kind == "StatefulSet":
        changed = sorted(
            k for k in {*spec, *old_spec} if k not in _STS_MUTABLE and spec.get(k) != old_spec.get(k)
        )
        if changed:
            raise _forbidden(kind, name, "spec", _STS_FORBIDDEN + f" (changed: {', '.join(changed)})")
    elif group == "batch" and kind == "Job":
        for field in ("selector", "template", "completions", "completionMode", "podFailurePolicy"):
            if field == "completions" and _elastic_indexed(spec, old_spec):
                continue
            if spec.get(field) != old_spec.get(field):
                raise _immutable(kind, name, f"spec.{field}", _short(spec.get(field)))
    elif group == "" and kind == "PersistentVolumeClaim":
        _pvc(name, spec, old_spec)
    elif group == "" and kind == "Pod":
        if _pod_fixed(spec) != _pod_fixed(old_spec) or not _tolerations_added(spec, old_spec):
            raise _forbidden(kind, name, "spec", _POD_FORBIDDEN)
    elif group == "" and kind in ("ConfigMap", "Secret") and old.get("immutable") is True:
        if new.get("immutable") is not True:
            raise _forbidden(kind, name, "immutable", "field is immutable when `immutable` is set")
        for field in ("data", "binaryData") if kind == "ConfigMap" else ("data", "type"):
            if new.get(field) != old.get(field):
                raise _forbidden(kind, name, field, "field is immutable when `immutable` is set")
    elif group == "" and kind == "Secret" and new.get("type") != old.get("type"):
        raise _immutable(kind, name, "type", new.get("type"))


_POD_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _pod_fixed(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A Pod spec without what an update may change (images, deadline, tolerations, grace)."""
    out = {
        k: v
        for k, v in spec.items()
        if k not in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")
    }
    for field in ("containers", "initContainers"):
        containers = out.get(field)
        if isinstance(containers, list):
            out[field] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, Mapping) else c
                for c in containers
            ]
    return out


def _tolerations_added(spec: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    new_list, old_list = spec.get("tolerations") or [], old.get("tolerations") or []
    return isinstance(new_list, list) and isinstance(old_list, list) and all(t in new_list for t in old_list)


def _elastic_indexed(spec: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Indexed Jobs may change completions together with parallelism (elastic Indexed Jobs)."""
    return (
        spec.get("completionMode") == "Indexed"
        and spec.get("completions") == spec.get("parallelism")
        and old.get("completions") == old.get("parallelism")
    )


def _short(value: Any) -> Any:
    text = json.dumps(value, sort_keys=True, default=str)
    return value if len(text) <= 80 else text[:77] + "..."
