"""What ``status --tree`` and ``status --pods`` add: the ReplicaSets, Jobs and Pods the app's
objects own (by ``ownerReferences``, as the garbage collector links them), why Pods are not
running, and the recent Kubernetes Events of every object that is not healthy, the way
``kubectl describe`` shows them.

The namespaces' Pods, ReplicaSets, Jobs and Events are listed once each, whatever the
number of objects; a plain ``status`` reads them only when some object is not healthy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pyvela._backends.fields import count, mapping, text
from pyvela._backends.pods import problems_of
from pyvela._backends.protocol import Backend
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import UnknownKindError

#: Kinds whose objects own the app's Pods, directly or through one of these.
CHILD_KINDS = (("apps/v1", "ReplicaSet"), ("batch/v1", "Job"), ("v1", "Pod"))
#: Events shown per object (the newest), as ``kubectl describe`` lists them.
EVENTS_SHOWN = 10


class Cluster:
    """The children and Events of the app's namespaces, each kind listed once."""

    def __init__(self, backend: Backend, namespaces: Iterable[str]) -> None:
        self.children: dict[str, list[Obj]] = {}  # owner uid -> owned objects
        self.events: dict[str, list[Obj]] = {}  # involved object's uid (or kind/ns/name) -> Events
        for ns in sorted(set(namespaces)):
            for api_version, kind in CHILD_KINDS:
                for obj in _list(backend, api_version, kind, ns):
                    for owner in mapping(obj.get("metadata")).get("ownerReferences") or []:
                        uid = text(mapping(owner).get("uid"))
                        if uid:
                            self.children.setdefault(uid, []).append(obj)
            for event in _list(backend, "v1", "Event", ns):
                involved = mapping(event.get("involvedObject"))
                for key in (text(involved.get("uid")), _key(involved)):
                    if key:
                        self.events.setdefault(key, []).append(event)

    def owned(self, obj: Mapping[str, Any]) -> list[Obj]:
        uid = text(mapping(obj.get("metadata")).get("uid"))
        found = self.children.get(uid, []) if uid else []
        return sorted(found, key=lambda o: (str(o.get("kind")), text(mapping(o.get("metadata")).get("name"))))

    def events_of(self, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
        meta = mapping(obj.get("metadata"))
        uid = text(meta.get("uid"))
        ref = {"kind": obj.get("kind"), "namespace": meta.get("namespace"), "name": meta.get("name")}
        seen: dict[str, Obj] = {}
        for key in (uid, _key(ref)):
            for e in self.events.get(key, []) if key else []:
                involved_uid = text(mapping(e.get("involvedObject")).get("uid"))
                if not uid or not involved_uid or involved_uid == uid:  # not an earlier namesake's
                    seen[text(mapping(e.get("metadata")).get("name"))] = e
        ordered = sorted(seen.values(), key=_when)
        return [describe_event(e) for e in ordered[-EVENTS_SHOWN:]]


def _list(backend: Backend, api_version: str, kind: str, namespace: str) -> list[Obj]:
    try:
        return backend.list(api_version, kind, namespace)
    except UnknownKindError:
        return []


def _key(ref: Mapping[str, Any]) -> str:
    kind, name = text(ref.get("kind")), text(ref.get("name"))
    return f"{kind}/{text(ref.get('namespace'))}/{name}" if kind and name else ""


def _when(event: Mapping[str, Any]) -> str:
    series = mapping(event.get("series"))
    return (
        text(series.get("lastObservedTime"))
        or text(event.get("lastTimestamp"))
        or text(event.get("eventTime"))
        or text(event.get("firstTimestamp"))
        or text(mapping(event.get("metadata")).get("creationTimestamp"))
    )


def describe_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """One Event as ``kubectl describe`` lists it: type, reason, when, from, message, count."""
    source = mapping(event.get("source"))
    origin = text(source.get("component")) or text(event.get("reportingComponent"))
    if text(source.get("host")) and origin == "kubelet":
        origin += f", {text(source.get('host'))}"
    return {
        "type": text(event.get("type")) or "Normal",
        "reason": text(event.get("reason")),
        "last": _when(event),
        "from": origin,
        "message": text(event.get("message")),
        "count": max(1, count(event.get("count"))) + count(mapping(event.get("series")).get("count")),
    }


def pod_summary(pod: Mapping[str, Any]) -> dict[str, Any]:
    """A Pod as ``kubectl get pods`` and the top of ``kubectl describe pod`` show it."""
    meta, status = mapping(pod.get("metadata")), mapping(pod.get("status"))
    statuses = [mapping(c) for c in status.get("containerStatuses") or []]
    init = [mapping(c) for c in status.get("initContainerStatuses") or []]
    containers = []
    for cs in [*init, *statuses]:
        state, last = mapping(cs.get("state")), mapping(mapping(cs.get("lastState")).get("terminated"))
        entry: dict[str, Any] = {
            "name": text(cs.get("name")),
            "ready": cs.get("ready") is True,
            "restarts": count(cs.get("restartCount")),
            "state": next(iter(state), "unknown"),
        }
        reason = text(mapping(state.get("waiting")).get("reason")) or text(
            mapping(state.get("terminated")).get("reason")
        )
        if reason:
            entry["reason"] = reason
            detail = text(mapping(state.get("waiting")).get("message")) or text(
                mapping(state.get("terminated")).get("message")
            )
            if detail:
                entry["message"] = detail
        if last:
            entry["lastTermination"] = {
                "reason": text(last.get("reason")),
                "exitCode": last.get("exitCode"),
                "finishedAt": text(last.get("finishedAt")),
            }
        containers.append(entry)
    spec_containers = mapping(pod.get("spec")).get("containers") or []
    ready = sum(1 for c in statuses if c.get("ready") is True)
    return {
        "name": text(meta.get("name")),
        "namespace": text(meta.get("namespace")),
        "phase": text(status.get("phase")) or "Pending",
        "ready": f"{ready}/{len(spec_containers) or len(statuses)}",
        "restarts": sum(count(c.get("restartCount")) for c in statuses),
        "node": text(mapping(pod.get("spec")).get("nodeName")),
        "started": text(status.get("startTime")),
        "containers": containers,
        "problems": [str(p) for p in problems_of(pod, crash_restarts=1)],
        "healthy": pod_healthy(pod),
    }


def pod_healthy(pod: Mapping[str, Any]) -> bool:
    status = mapping(pod.get("status"))
    if text(status.get("phase")) == "Succeeded":
        return True
    conditions = [mapping(c) for c in status.get("conditions") or []]
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _node(cluster: Cluster, obj: Obj, *, ready: bool | None, message: str, depth: int) -> dict[str, Any]:
    meta = mapping(obj.get("metadata"))
    ref = ObjectRef.of(obj)
    node: dict[str, Any] = {"object": ref.to_dict()}
    if obj.get("kind") == "Pod":
        node["pod"] = pod_summary(obj)
        healthy = bool(node["pod"]["healthy"])
    elif ready is None:  # a child the app did not apply: its replicas say
        status, spec = mapping(obj.get("status")), mapping(obj.get("spec"))
        if obj.get("kind") == "ReplicaSet":
            want, have = count(spec.get("replicas"), 1), count(status.get("readyReplicas"))
            healthy, message = have >= want, f"{have}/{want} ready"
        else:
            conditions = {text(mapping(c).get("type")): mapping(c) for c in status.get("conditions") or []}
            failed = conditions.get("Failed", {}).get("status") == "True"
            healthy = not failed
            message = "failed" if failed else ("complete" if "Complete" in conditions else "running")
    else:
        healthy = ready
    node["ready"], node["message"] = healthy, message
    if not healthy:
        node["events"] = cluster.events_of(obj)
    if depth < 3:
        children = cluster.owned(obj)
        if obj.get("kind") == "Deployment":  # old ReplicaSets scaled to nothing: history, not state
            children = [c for c in children if c.get("kind") != "ReplicaSet" or _has_replicas(c, cluster)]
        node["children"] = [_node(cluster, c, ready=None, message="", depth=depth + 1) for c in children]
    if meta.get("deletionTimestamp"):
        node["message"] = (node["message"] + "; " if node["message"] else "") + "terminating"
    return node


def _has_replicas(rs: Mapping[str, Any], cluster: Cluster) -> bool:
    return count(mapping(rs.get("spec")).get("replicas"), 1) > 0 or bool(cluster.owned(rs))


def describe_app(
    backend: Backend, status: Mapping[str, Any], lives: Mapping[ObjectRef, Obj | None]
) -> dict[str, Any]:
    """The tree (by component), the app's Pods, and the problems of what is not healthy."""
    namespaces = {r.namespace for r in lives if r.namespace} | {str(status.get("namespace") or "")}
    cluster = Cluster(backend, (n for n in namespaces if n))
    components: dict[str, list[dict[str, Any]]] = {}
    problems = []
    for o in status.get("objects") or []:
        ref = ObjectRef.from_dict(o["object"])
        live = lives.get(ref)
        if live is None:
            node: dict[str, Any] = {
                "object": o["object"],
                "ready": False,
                "message": "missing",
                "children": [],
            }
        else:
            node = _node(cluster, live, ready=bool(o["ready"]), message=str(o.get("message") or ""), depth=0)
        components.setdefault(str(o.get("component") or ""), []).append(node)
        if not node["ready"]:
            problems.append(_problem(node))
    tree = [{"component": c or None, "objects": nodes} for c, nodes in components.items()]
    pods = [n["pod"] | {"owner": _owner_name(path)} for path, n in _walk(tree) if "pod" in n]
    return {"tree": tree, "pods": pods, "problems": problems}


def _problem(node: Mapping[str, Any]) -> dict[str, Any]:
    """An unhealthy object: its message and Events, and those of its unhealthy Pods."""
    pods, owned = [], []
    for _path, n in _walk([{"objects": [node]}]):
        if "pod" in n and not n["ready"]:
            pods.append({**n["pod"], "events": n.get("events") or []})
        elif n is not node and not n["ready"]:  # a ReplicaSet or Job between it and its Pods
            owned.append(
                {"object": n["object"], "message": n.get("message") or "", "events": n.get("events") or []}
            )
    return {
        "object": node["object"],
        "message": node.get("message") or "",
        "events": node.get("events") or [],
        "owned": owned,
        "pods": pods,
    }


def _walk(tree: list[dict[str, Any]]) -> Iterable[tuple[tuple[str, ...], dict[str, Any]]]:
    def down(node: dict[str, Any], path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], dict[str, Any]]]:
        here = (*path, f"{node['object']['kind']}/{node['object']['name']}")
        yield here, node
        for child in node.get("children") or []:
            yield from down(child, here)

    for group in tree:
        for node in group["objects"]:
            yield from down(node, (str(group.get("component") or ""),))


def _owner_name(path: tuple[str, ...]) -> str:
    return path[1] if len(path) > 2 else (path[0] or "")
