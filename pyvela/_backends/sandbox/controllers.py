"""Simulated controllers: pure functions from an object and the time to its status.

Each controller is ``(obj, prior, applied_at, now, sim) -> (status, next_change_at)``:

- ``obj`` is the stored object (its spec, metadata.generation);
- ``prior`` is the status the object had when its current generation was applied
  (``{}`` for a new object): what was running before this rollout;
- ``applied_at`` is when the current generation was written, ``now`` the time to compute
  the status for; ``sim`` holds the object's simulation parameters (delay, failure mode);
- ``status`` is ``None`` for "no status"; ``next_change_at`` is the next time the status
  will change by itself (``None``: it is settled).

The status is piecewise constant in ``now`` and changes only at the returned times, so
the sandbox computes it exactly when asked and sleeps until exactly the next change.
Count fields equal to zero are omitted, as Kubernetes omits them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pyvela._backends.sandbox.settings import Sim
from pyvela._backends.sandbox.simutil import (
    cond,
    count,
    fail_note,
    generation,
    iso,
    m,
    omit_zeros,
    ramp,
    short_hash,
)
from pyvela._backends.sandbox.workloads import (
    Result,
    daemon_set,
    deployment,
    replica_set,
    rollout,
    stateful_set,
)
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj

__all__ = ["CONTROLLERS", "Controller", "controller_for"]

Controller = Callable[[Obj, Mapping[str, Any], float, float, Sim], Result]


_SUCCEEDED = "Reached expected number of succeeded pods"


def job(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    completions = max(1, count(spec.get("completions"), 1))
    parallelism = max(1, count(spec.get("parallelism"), 1))
    if spec.get("suspend") is True:
        return {"conditions": [cond("Suspended", True, "JobSuspended", "Job suspended", t0)]}, None
    status: dict[str, Any] = {"startTime": iso(t0)}
    if sim.fail is not None:
        if sim.fail == "ImagePullBackOff":
            deadline = spec.get("activeDeadlineSeconds")
            end = t0 + deadline if isinstance(deadline, int) and deadline > 0 else None
            reason, message = "DeadlineExceeded", "Job was active longer than specified deadline"
        else:
            end = t0 + sim.delay
            reason, message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        if end is None or now < end:
            status["active"] = min(parallelism, completions)
            return status, end
        status["failed"] = max(0, count(spec.get("backoffLimit"), 6)) + 1
        status["conditions"] = [
            cond("FailureTarget", True, reason, message, end),
            cond("Failed", True, reason, message, end),
        ]
        return status, None
    done, nxt = ramp(completions, t0, sim.delay, now)
    status["succeeded"] = done
    if done < completions:
        status["active"] = status["ready"] = min(parallelism, completions - done)
        return omit_zeros(status, "succeeded"), nxt
    end = t0 + sim.delay
    status["completionTime"] = iso(end)
    status["conditions"] = [
        cond("SuccessCriteriaMet", True, "CompletionsReached", _SUCCEEDED, end),
        cond("Complete", True, "CompletionsReached", _SUCCEEDED, end),
    ]
    return status, None


def pod_ip(uid: Any) -> str:
    """A Pod's IP: the only part of its status its uid decides (``replicas`` relies on it)."""
    return f"10.244.0.{2 + int(short_hash(uid), 16) % 250}"


def pod(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    ip = pod_ip(m(obj.get("metadata")).get("uid"))
    started = now >= t0 + sim.delay and sim.fail != "ImagePullBackOff"
    # A Job's Pods run to completion (the sandbox's Job completes after the same delay).
    owners = m(obj.get("metadata")).get("ownerReferences")
    completes = isinstance(owners, list) and any(m(o).get("kind") == "Job" for o in owners)
    containers = spec.get("containers")
    statuses = []
    for container in containers if isinstance(containers, list) else []:
        c = m(container)
        entry: dict[str, Any] = {"name": c.get("name"), "image": c.get("image"), "restartCount": 0}
        if sim.fail == "ImagePullBackOff":
            why = f'Back-off pulling image "{c.get("image")}"'
            entry.update(
                ready=False, started=False, state={"waiting": {"reason": "ImagePullBackOff", "message": why}}
            )
        elif not started:
            entry.update(ready=False, started=False, state={"waiting": {"reason": "ContainerCreating"}})
        elif sim.fail is not None:
            end = iso(t0 + sim.delay)
            terminated = {"exitCode": 1, "reason": "Error", "startedAt": iso(t0), "finishedAt": end}
            entry.update(ready=False, started=False, state={"terminated": terminated})
        elif completes:
            end = iso(t0 + sim.delay)
            terminated = {"exitCode": 0, "reason": "Completed", "startedAt": iso(t0), "finishedAt": end}
            entry.update(ready=False, started=False, state={"terminated": terminated})
        else:
            entry.update(ready=True, started=True, state={"running": {"startedAt": iso(t0 + sim.delay)}})
        statuses.append(entry)
    ready = started and sim.fail is None and not completes
    phase = "Failed" if started and sim.fail is not None else "Running" if ready else "Pending"
    if started and sim.fail is None and completes:
        phase = "Succeeded"
    not_ready = "PodCompleted" if phase == "Succeeded" else "ContainersNotReady"
    status: dict[str, Any] = {
        "phase": phase,
        "hostIP": "10.0.0.1",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": iso(t0),
        "containerStatuses": statuses,
        "conditions": [
            cond("PodScheduled", True, "", "", t0),
            cond("Initialized", True, "", "", t0),
            cond("ContainersReady", ready, "" if ready else not_ready, "", t0 + sim.delay),
            cond("Ready", ready, "" if ready else not_ready, "", t0 + sim.delay),
        ],
    }
    if phase == "Failed":
        status["message"] = fail_note(sim)
    return status, (None if started or sim.fail == "ImagePullBackOff" else t0 + sim.delay)


def _load_balanced(prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    had = m(prior.get("loadBalancer")).get("ingress")
    if had or now >= t0 + sim.delay:
        return {"loadBalancer": {"ingress": [{"ip": "127.0.0.1", "ipMode": "VIP"}]}}, None
    return {"loadBalancer": {}}, t0 + sim.delay


def service(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    if m(obj.get("spec")).get("type") != "LoadBalancer":
        return None, None
    return _load_balanced(prior, t0, now, sim)


def ingress(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    return _load_balanced(prior, t0, now, sim)


def pvc(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    if prior.get("phase") != "Bound" and now < t0 + sim.delay:
        return {"phase": "Pending"}, t0 + sim.delay
    spec = m(obj.get("spec"))
    storage = m(m(spec.get("resources")).get("requests")).get("storage", "1Gi")
    modes = spec.get("accessModes") if isinstance(spec.get("accessModes"), list) else ["ReadWriteOnce"]
    return {"phase": "Bound", "accessModes": modes, "capacity": {"storage": storage}}, None


def namespace(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    return {"phase": "Active"}, None


def crd(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    versions = spec.get("versions")
    versions = versions if isinstance(versions, list) else []
    stored = [m(v).get("name") for v in versions if m(v).get("storage")]
    return {
        "acceptedNames": dict(m(spec.get("names"))),
        "conditions": [
            cond("NamesAccepted", True, "NoConflicts", "no conflicts found", t0),
            cond("Established", True, "InitialNamesAccepted", "the initial names have been accepted", t0),
        ],
        "storedVersions": stored,
    }, None


def helm_release(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    revision = count(prior.get("revision")) + 1
    chart = spec.get("chart")
    status: dict[str, Any] = {"revision": revision}
    if isinstance(chart, str | Mapping):
        status["chart"] = chart if isinstance(chart, str) else m(chart).get("name")
    if isinstance(spec.get("version"), str):
        status["version"] = spec["version"]
    end = t0 + sim.delay
    if now < end:
        status["phase"] = "pending-install" if revision == 1 else "pending-upgrade"
        if "observedGeneration" in prior:
            status["observedGeneration"] = prior["observedGeneration"]
        return status, end
    status["observedGeneration"] = generation(obj)
    status["lastDeployed"] = iso(end)
    if sim.fail is not None and spec.get("atomic") is True:
        return _undone(status, revision, end, now, sim)
    if sim.fail is not None:
        status.update(phase="failed", message=fail_note(sim))
    else:
        done = "Install complete" if revision == 1 else "Upgrade complete"
        status.update(phase="deployed", description=done)
    return status, None


#: Seconds an atomic release's failure shows before the rollback that undoes it has happened.
ROLLBACK_AFTER = 5.0


def _undone(status: dict[str, Any], revision: int, end: float, now: float, sim: Sim) -> Result:
    """An atomic release that failed, as pyvela's helm driver leaves it: a failed upgrade rolled
    back to the revision before it (helm's next revision, deployed), a failed install uninstalled."""
    if revision == 1:
        note = "atomic: the failed install was uninstalled (helm uninstall)"
        status.update(phase="failed", message=f"{fail_note(sim)}; {note}")
        return status, None
    note = f"atomic: rolled back to revision {revision - 1} (helm rollback)"
    back = end + max(ROLLBACK_AFTER, sim.delay)
    if now < back:
        status.update(phase="failed", message=f"{fail_note(sim)}; {note}")
        return status, back
    status.update(revision=revision + 1, phase="deployed", description=f"Rollback to {revision - 1}")
    status["lastDeployed"] = iso(back)
    return status, None


CONTROLLERS: dict[tuple[str, str], Controller] = {
    ("apps", "Deployment"): deployment,
    ("apps", "StatefulSet"): stateful_set,
    ("apps", "DaemonSet"): daemon_set,
    ("apps", "ReplicaSet"): replica_set,
    ("argoproj.io", "Rollout"): rollout,
    ("batch", "Job"): job,
    ("", "Pod"): pod,
    ("", "Service"): service,
    ("networking.k8s.io", "Ingress"): ingress,
    ("", "PersistentVolumeClaim"): pvc,
    ("", "Namespace"): namespace,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): crd,
    (HELM_API_VERSION.rpartition("/")[0], HELM_KIND): helm_release,
}


def controller_for(group: str, kind: str) -> Controller | None:
    return CONTROLLERS.get((group, kind))
