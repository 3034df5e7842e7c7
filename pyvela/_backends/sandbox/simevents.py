"""The Kubernetes Events the sandbox's simulated controllers would have recorded.

A real cluster's scheduler, kubelet and controllers record Events as they act; the sandbox
computes its objects' statuses from time instead of acting, so its Events are derived the
same way: from each object's simulated status, when a list of Events asks. They say what
the status says happened (a Pod scheduled, its image pulled or failing to pull, its
containers started; a Job's Pods created, the Job complete or failed), with kubelet's and
the controllers' reasons and wording, at the times the status gives. Events written through
the API (pyvela's own on its state records) are stored as any object and listed with these.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pyvela._backends.sandbox.simutil import m
from pyvela._core.objects import Obj

#: The kinds whose simulated controllers record Events: (apiVersion, kind).
SOURCES = (
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
)
NODE_HOST = "sandbox-node"


def event(
    obj: Mapping[str, Any], reason: str, message: str, at: str, source: str, warning: bool = False
) -> Obj:
    meta = m(obj.get("metadata"))
    name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or "default")
    # Stable names: the same status gives the same Events on every list (as stored ones would).
    digest = hashlib.blake2b(f"{meta.get('uid')}/{reason}/{message}".encode(), digest_size=8).hexdigest()
    src: dict[str, str] = {"component": source}
    if source == "kubelet":
        src["host"] = NODE_HOST
    involved = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "namespace": ns, "name": name}
    if meta.get("uid"):
        involved["uid"] = meta["uid"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{digest}", "namespace": ns, "creationTimestamp": at},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": src,
        "reportingComponent": source,
        "reportingInstance": NODE_HOST if source == "kubelet" else source,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
    }


def _created(obj: Mapping[str, Any]) -> str:
    return str(m(obj.get("metadata")).get("creationTimestamp") or "")


def pod_events(pod: Mapping[str, Any]) -> list[Obj]:
    """The scheduler's and kubelet's Events of one Pod, from its status."""
    meta, spec, status = m(pod.get("metadata")), m(pod.get("spec")), m(pod.get("status"))
    if not status:
        return []
    start = str(status.get("startTime") or _created(pod))
    node = str(spec.get("nodeName") or NODE_HOST)
    out = [
        event(
            pod,
            "Scheduled",
            f"Successfully assigned {meta.get('namespace')}/{meta.get('name')} to {node}",
            start,
            "default-scheduler",
        )
    ]
    for cs in status.get("containerStatuses") or []:
        cs = m(cs)
        name, image, state = cs.get("name"), cs.get("image"), m(cs.get("state"))
        waiting, running, done = m(state.get("waiting")), m(state.get("running")), m(state.get("terminated"))
        out.append(event(pod, "Pulling", f'Pulling image "{image}"', start, "kubelet"))
        if waiting.get("reason") == "ImagePullBackOff":
            why = f'Failed to pull image "{image}": the sandbox simulates an image that cannot be pulled'
            out += [
                event(pod, "Failed", why, start, "kubelet", warning=True),
                event(pod, "Failed", "Error: ErrImagePull", start, "kubelet", warning=True),
                event(pod, "BackOff", f'Back-off pulling image "{image}"', start, "kubelet"),
                event(pod, "Failed", "Error: ImagePullBackOff", start, "kubelet", warning=True),
            ]
            continue
        began = str(running.get("startedAt") or done.get("startedAt") or "")
        if not began:
            continue  # still ContainerCreating: only the pull has begun
        out += [
            event(pod, "Pulled", f'Successfully pulled image "{image}"', began, "kubelet"),
            event(pod, "Created", f"Created container: {name}", began, "kubelet"),
            event(pod, "Started", f"Started container {name}", began, "kubelet"),
        ]
    return out


def _pods_of(owner: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    uid = m(owner.get("metadata")).get("uid")
    return [
        p
        for p in pods
        if any(m(o).get("uid") == uid for o in m(p.get("metadata")).get("ownerReferences") or [])
    ]


def workload_events(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> list[Obj]:
    """The controller's Events of one workload: the Pods it created, a Job's end, a
    Deployment's scaling (the sandbox's Deployments own their Pods without a ReplicaSet, but
    say which ReplicaSet a real one would scale, as their Progressing condition does)."""
    kind, status = obj.get("kind"), m(obj.get("status"))
    name = m(obj.get("metadata")).get("name")
    out: list[Obj] = []
    if kind == "Deployment":
        conditions = [m(c) for c in status.get("conditions") or []]
        progressing = next((c for c in conditions if c.get("type") == "Progressing"), {})
        message = str(progressing.get("message") or "")
        if message.startswith('ReplicaSet "'):
            rs = message.split('"')[1]
            replicas = m(obj.get("spec")).get("replicas", 1)
            msg = f"Scaled up replica set {rs} from 0 to {replicas}"
            out.append(event(obj, "ScalingReplicaSet", msg, _created(obj), "deployment-controller"))
        return out
    controller = {
        "ReplicaSet": "replicaset-controller",
        "StatefulSet": "statefulset-controller",
        "DaemonSet": "daemonset-controller",
        "Job": "job-controller",
    }.get(str(kind))
    if controller is None:
        return out
    for pod in _pods_of(obj, pods):
        pod_name = m(pod.get("metadata")).get("name")
        msg = (
            f"create Pod {pod_name} in StatefulSet {name} successful"
            if kind == "StatefulSet"
            else f"Created pod: {pod_name}"
        )
        out.append(event(obj, "SuccessfulCreate", msg, _created(pod), controller))
    if kind == "Job":
        for c in (m(c) for c in status.get("conditions") or []):
            at = str(c.get("lastTransitionTime") or "")
            if c.get("type") == "Complete" and c.get("status") == "True":
                out.append(event(obj, "Completed", "Job completed", at, controller))
            elif c.get("type") == "Failed" and c.get("status") == "True":
                out.append(
                    event(obj, str(c.get("reason")), str(c.get("message")), at, controller, warning=True)
                )
    return out


def simulated_events(objects: Mapping[str, list[Obj]]) -> list[Obj]:
    """Every Event the objects' simulated controllers recorded (``objects``: by kind), oldest first."""
    pods = objects.get("Pod") or []
    out = [e for p in pods for e in pod_events(p)]
    for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        out += [e for o in objects.get(kind) or [] for e in workload_events(o, pods)]
    return sorted(out, key=lambda e: str(e["lastTimestamp"]))  # stable: in the order they happened


def listed(
    list_objects: Callable[[str, str, str | None], list[Obj]],
    namespace: str | None,
    more: Iterable[Obj] = (),
) -> list[Obj]:
    """The simulated Events in ``namespace`` (all when None), from the objects ``list_objects``
    lists, with ``more`` (the Argo Rollouts controller's: ``rolloutevents``), oldest first."""
    out = simulated_events({kind: list_objects(av, kind, namespace) for av, kind in SOURCES})
    if more:
        out = sorted([*out, *more], key=lambda e: str(e["lastTimestamp"]))
    return out
