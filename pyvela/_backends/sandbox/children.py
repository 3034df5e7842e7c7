"""What the sandbox's workload controllers create, as a real cluster's do: the Pods of a
Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or Rollout (owned by the workload and
labelled like its template, so anything that reads Pods finds them), and a StatefulSet's
PersistentVolumeClaims, one per volumeClaimTemplate and ordinal (``<tpl>-<sts>-<ordinal>``).

Deployments own their Pods directly (no ReplicaSet in between). Pods of an old template
are replaced when the template changes; PVCs stay when a StatefulSet scales down or goes,
as with the default retention policy (``whenDeleted: Delete`` makes the set own them).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pyvela._backends.sandbox.admission import Made
from pyvela._backends.sandbox.cluster import remove
from pyvela._backends.sandbox.replicas import first_of, replicate
from pyvela._backends.sandbox.rows import Row, SharedPart
from pyvela._backends.sandbox.settings import ANNOTATION_FAIL, ANNOTATION_READY_AFTER
from pyvela._backends.sandbox.simutil import count, m, replicas, short_hash
from pyvela._backends.sandbox.store import Store
from pyvela._core.objects import Obj, deep_copy
from pyvela.errors import AlreadyExistsError

#: Writes a child: ``(conn, object, mode)``, mode "apply" or "create" (as ``Sandbox._write``).
Write = Callable[[sqlite3.Connection, Mapping[str, Any], Literal["apply", "create"]], Obj]

#: (group, kind) of the workloads whose Pods the sandbox creates.
POD_OWNERS = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("argoproj.io", "Rollout"),
    }
)
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
_SIM_ANNOTATIONS = (ANNOTATION_FAIL, ANNOTATION_READY_AFTER)


def reconcile(conn: sqlite3.Connection, row: Row, write: Write, *, new: bool) -> None:
    """Bring the Pods (and PVCs) of the workload in ``row`` in line with its spec (a ``new``
    workload owns nothing yet: not looking keeps creating N workloads linear)."""
    if (row.grp, row.kind) not in POD_OWNERS:
        return
    spec = m(row.body.get("spec"))
    if row.grp == "apps" and row.kind == "StatefulSet":
        _claims(conn, row, spec, write)
    template = m(spec.get("template"))
    labels, hash_label, value = _labels(row, template)
    # One spec for all the Pods made now: stored before anything could change it, encoded once.
    pod_spec = SharedPart({"nodeName": "sandbox-node", **m(template.get("spec"))})
    owned = [] if new else _owned_pods(conn, row)
    current = [p for p in owned if (p.body["metadata"].get("labels") or {}).get(hash_label) == value]
    keep = {p.id for p in current}
    for stale in (p for p in owned if p.id not in keep):
        remove(conn, stale)
    want = _wanted(row, spec)
    if row.kind == "StatefulSet":
        names = {f"{row.name}-{i}" for i in range(want)}
        for pod in current:
            if pod.name not in names:
                remove(conn, pod)
        have = {p.name for p in current}
        for i in range(want):
            name = f"{row.name}-{i}"
            if name not in have:
                pod_labels = {**labels, "statefulset.kubernetes.io/pod-name": name}
                pod_labels["apps.kubernetes.io/pod-index"] = str(i)
                write(conn, _pod(row, template, pod_spec, name, pod_labels), "apply")
        return
    for extra in current[want:]:
        remove(conn, extra)
    prefix = f"{row.name}-{value}" if hash_label == "pod-template-hash" else row.name
    first: Row | None = None
    for _ in range(want - min(want, len(current))):
        while True:  # a random name, created only if no Pod has it (the write reads it anyway)
            name = f"{prefix}-{''.join(random.choices(_SUFFIX, k=5))}"
            if first is not None:  # admitted once: the others are its replicas
                if replicate(conn, first, name, pod_spec):
                    break
                continue
            try:
                write(conn, _pod(row, template, pod_spec, name, labels), "create")
            except AlreadyExistsError:
                continue
            first = first_of(conn, row.ns, name)
            break


def _owned_pods(conn: sqlite3.Connection, row: Row) -> list[Row]:
    """The Pods this workload made: all are named ``<workload>-...``, so a range of the
    (grp, kind, ns, name) index finds them without scanning the namespace."""
    prefix = f"{row.name}-"
    where = "grp='' AND kind='Pod' AND ns=? AND name >= ? AND name < ? AND owners LIKE ?"
    return Store.select(conn, where, (row.ns, prefix, prefix[:-1] + ".", f"% {row.uid} %"))


def _wanted(row: Row, spec: Mapping[str, Any]) -> int:
    if row.kind == "DaemonSet":
        return max(0, row.sim.nodes)
    if row.kind == "Job":
        if spec.get("suspend") is True:
            return 0
        completions = max(1, count(spec.get("completions"), 1))
        return min(max(0, count(spec.get("parallelism"), 1)), completions)
    return replicas(spec)


def _labels(row: Row, template: Mapping[str, Any]) -> tuple[dict[str, str], str, str]:
    """The Pods' labels, and the label (with its value) that says which template made a Pod."""
    labels = {k: v for k, v in m(m(template.get("metadata")).get("labels")).items() if isinstance(v, str)}
    digest = short_hash(template)
    if row.kind in ("Deployment", "ReplicaSet", "Rollout"):
        key, value = "pod-template-hash", digest
    elif row.kind == "Job":  # a Job's template is immutable: its Pods are told apart by the Job's uid
        key, value = "batch.kubernetes.io/controller-uid", row.uid
        labels.update(
            {"batch.kubernetes.io/job-name": row.name, "job-name": row.name, "controller-uid": row.uid}
        )
    else:
        key = "controller-revision-hash"
        value = f"{row.name}-{digest}" if row.kind == "StatefulSet" else digest
    labels[key] = value
    return labels, key, value


def _owner(row: Row, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": row.body.get("apiVersion"),
        "kind": row.kind,
        "name": row.name,
        "uid": row.uid,
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def _sim_annotations(row: Row, extra: Mapping[str, Any]) -> dict[str, str]:
    """The Pod's annotations: its template's, plus the workload's simulation knobs (so a
    failure the workload simulates shows on its Pods too)."""
    own = m(row.body["metadata"].get("annotations"))
    out = {k: v for k, v in extra.items() if isinstance(v, str)}
    out.update({k: own[k] for k in _SIM_ANNOTATIONS if isinstance(own.get(k), str)})
    return out


def _pod(
    row: Row, template: Mapping[str, Any], spec: SharedPart, name: str, labels: Mapping[str, str]
) -> Obj:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": row.ns,
        "labels": dict(labels),
        "ownerReferences": [_owner(row)],
    }
    annotations = _sim_annotations(row, m(m(template.get("metadata")).get("annotations")))
    if annotations:
        meta["annotations"] = annotations
    # Shared: the write stores it at once (``Made``: admitted without copying it whole).
    return Made(apiVersion="v1", kind="Pod", metadata=meta, spec=spec)


def _claims(conn: sqlite3.Connection, row: Row, spec: Mapping[str, Any], write: Write) -> None:
    templates = spec.get("volumeClaimTemplates")
    selector = {k: v for k, v in m(m(spec.get("selector")).get("matchLabels")).items() if isinstance(v, str)}
    policy = m(spec.get("persistentVolumeClaimRetentionPolicy")).get("whenDeleted")
    for template in templates if isinstance(templates, list) else []:
        tpl_meta = m(m(template).get("metadata"))
        tpl_name = tpl_meta.get("name")
        if not isinstance(tpl_name, str) or not tpl_name:
            continue
        for i in range(replicas(spec)):
            name = f"{tpl_name}-{row.name}-{i}"
            if Store.exists(conn, "", "PersistentVolumeClaim", row.ns, name):
                continue  # an existing claim is never changed or replaced by its set
            labels = {
                **{k: v for k, v in m(tpl_meta.get("labels")).items() if isinstance(v, str)},
                **selector,
            }
            meta: dict[str, Any] = {"name": name, "namespace": row.ns, "labels": labels}
            annotations = _sim_annotations(row, m(tpl_meta.get("annotations")))
            annotations.pop(ANNOTATION_FAIL, None)  # a failing workload's claims still bind
            if annotations:
                meta["annotations"] = annotations
            if policy == "Delete":
                meta["ownerReferences"] = [_owner(row, controller=True)]
            claim_spec = deep_copy(dict(m(m(template).get("spec"))))
            write(
                conn,
                {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": claim_spec},
                "apply",
            )
