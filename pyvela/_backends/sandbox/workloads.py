"""Simulated controllers of replicated workloads: Deployment, StatefulSet, DaemonSet,
ReplicaSet and Argo Rollout (see ``_controllers`` for the contract).

Replicas become ready one at a time over the object's delay. An update starts from what
was available before (``prior``), as a rolling update keeps old pods serving. A failing
image keeps new pods unready for ever; a Deployment then reports ProgressDeadlineExceeded
after ``spec.progressDeadlineSeconds`` and a Rollout goes Degraded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pyvela._backends.sandbox.settings import Sim
from pyvela._backends.sandbox.simutil import (
    cond,
    count,
    fail_note,
    generation,
    iso,
    m,
    name_of,
    omit_zeros,
    ramp,
    replicas,
    short_hash,
)
from pyvela._core.objects import Obj

Result = tuple[Obj | None, float | None]
_MORE = "more replicas need to be updated"
_COUNTS = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")


def _max_unavailable(spec: Mapping[str, Any], n: int) -> int:
    value = m(m(spec.get("strategy")).get("rollingUpdate")).get("maxUnavailable", "25%")
    if isinstance(value, int) and not isinstance(value, bool):
        return max(0, value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,3}%", value):
        return math.floor(n * int(value[:-1]) / 100)
    return 0


def _progress(
    n: int, spec: Mapping[str, Any], t0: float, now: float, sim: Sim
) -> tuple[int, float | None, bool]:
    """New replicas ready by ``now``, the next change, and whether the progress deadline passed."""
    if n == 0:
        return 0, None, False
    if sim.fail is None:
        k, nxt = ramp(n, t0, sim.delay, now)
        return k, nxt, False
    deadline = t0 + max(1, count(spec.get("progressDeadlineSeconds"), 600))
    return 0, (None if now >= deadline else deadline), now >= deadline


def deployment(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    n = replicas(spec)
    recreate = m(spec.get("strategy")).get("type") == "Recreate"
    before = 0 if recreate else min(count(prior.get("availableReplicas")), n)
    k, nxt, exceeded = _progress(n, spec, t0, now, sim)
    complete = k >= n
    if complete:
        updated = total = ready = n
    elif before == 0:
        updated, total, ready = n, n, k
    else:  # rolling update: old pods keep serving, one surge pod at a time
        updated, total, ready = min(n, k + 1), n + 1, min(n, max(k, before))
    rs = f'ReplicaSet "{name_of(obj)}-{short_hash(spec.get("template"))}"'
    if exceeded:
        deadline = t0 + max(1, count(spec.get("progressDeadlineSeconds"), 600))
        timed_out = f"{rs} has timed out progressing."
        progressing = cond("Progressing", False, "ProgressDeadlineExceeded", timed_out, deadline)
    elif complete:
        done = f"{rs} has successfully progressed."
        progressing = cond("Progressing", True, "NewReplicaSetAvailable", done, t0)
    else:
        progressing = cond("Progressing", True, "ReplicaSetUpdated", f"{rs} is progressing.", t0)
    minimum = ready >= n - _max_unavailable(spec, n)
    if minimum:
        available = cond(
            "Available", True, "MinimumReplicasAvailable", "Deployment has minimum availability.", t0
        )
    else:
        missing = "Deployment does not have minimum availability."
        available = cond("Available", False, "MinimumReplicasUnavailable", missing, t0)
    status: dict[str, Any] = {
        "observedGeneration": generation(obj),
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(0, n - ready),
        "conditions": [available, progressing],
    }
    return omit_zeros(status, *_COUNTS), nxt


def replica_set(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    n = replicas(m(obj.get("spec")))
    k, nxt = (0, None) if sim.fail is not None else ramp(n, t0, sim.delay, now)
    ready = max(k, min(n, count(prior.get("readyReplicas"))))
    status = {
        "observedGeneration": generation(obj),
        "replicas": n,
        "fullyLabeledReplicas": n,
        "readyReplicas": ready,
        "availableReplicas": ready,
    }
    return omit_zeros(status, "replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"), nxt


def stateful_set(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    n = replicas(spec)
    revision = f"{name_of(obj)}-{short_hash(spec.get('template'))}"
    old_revision = prior.get("updateRevision")
    old_revision = old_revision if isinstance(old_revision, str) else revision
    k, nxt = (0, None) if sim.fail is not None else ramp(n, t0, sim.delay, now)
    complete = k >= n
    if old_revision == revision:  # creation or scaling: pods start one at a time (OrderedReady)
        before = min(n, count(prior.get("readyReplicas")))
        ready = max(k, before)
        total = n if complete else min(n, max(before, k + 1))
        updated, current = total, revision
    else:  # rolling update: pods are replaced one at a time, from the highest ordinal
        before = min(n, count(prior.get("readyReplicas")))
        ready = n if complete else min(n, max(k, before - 1))
        total, updated = n, k
        current = revision if complete else old_revision
    status = {
        "observedGeneration": generation(obj),
        "replicas": total,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": n if current == revision else n - updated,
        "updatedReplicas": updated,
        "currentRevision": current,
        "updateRevision": revision,
        "collisionCount": 0,
    }
    omit_zeros(status, "replicas", "readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas")
    return status, nxt


def daemon_set(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    desired = max(0, sim.nodes)
    k, nxt = (0, None) if sim.fail is not None else ramp(desired, t0, sim.delay, now)
    ready = desired if k >= desired else max(k, min(desired, count(prior.get("numberReady"))))
    status = {
        "observedGeneration": generation(obj),
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": desired,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "numberUnavailable": desired - ready,
        "updatedNumberScheduled": k,
    }
    omit_zeros(status, "numberReady", "numberAvailable", "numberUnavailable", "updatedNumberScheduled")
    return status, nxt


def _indefinite_pause(spec: Mapping[str, Any]) -> int | None:
    """The index of the first canary ``pause: {}`` step (None without one)."""
    steps = m(m(spec.get("strategy")).get("canary")).get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        pause = m(step).get("pause")
        if isinstance(pause, Mapping) and pause.get("duration") in (None, "", 0):
            return i
    return None


#: Where the sandbox keeps what an operator asked of a Rollout (``pyvela rollout promote``,
#: ``abort``, ``retry``): in the status it had when its generation was applied, which only
#: its simulated controller reads. A new generation starts without it, as a new update
#: clears the controller's ``abort``.
OPERATOR = "pyvela.dev/operator"


def rollout(obj: Obj, prior: Mapping[str, Any], t0: float, now: float, sim: Sim) -> Result:
    spec = m(obj.get("spec"))
    n = replicas(spec)
    pod_hash = short_hash(spec.get("template"))
    stable = prior.get("stableRS") if isinstance(prior.get("stableRS"), str) else None
    before = min(n, count(prior.get("availableReplicas"))) if stable else 0
    rs = f'ReplicaSet "{name_of(obj)}-{pod_hash}"'
    status: dict[str, Any] = {
        "observedGeneration": str(generation(obj)),
        "currentPodHash": pod_hash,
        "replicas": n,
        "HPAReplicas": n,
        "selector": ",".join(f"{k}={v}" for k, v in m(m(spec.get("selector")).get("matchLabels")).items()),
    }
    if stable:
        status["stableRS"] = stable
    nxt: float | None = None
    abort = ""
    operator = m(prior.get(OPERATOR))
    pause_at = _indefinite_pause(spec)
    updating = bool(stable) and stable != pod_hash
    if operator.get("abort") is True and updating:
        ready, phase = before, "Degraded"
        abort = "RolloutAborted"
        message = f"{abort}: Rollout aborted update to revision {generation(obj)}"
        status.update(abort=True, currentStepIndex=0)
    elif spec.get("paused") is True:
        ready, phase, message = before, "Paused", "manually paused"
        status["pauseConditions"] = [{"reason": "PausedByUser", "startTime": iso(t0)}]
    elif sim.fail is not None:
        if sim.fail == "ImagePullBackOff":
            end = t0 + max(1, count(spec.get("progressDeadlineSeconds"), 600))
            abort = "ProgressDeadlineExceeded"
            why = f"{abort}: {rs} has timed out progressing."
        else:
            end, abort, why = t0 + sim.delay, "RolloutAborted", f"RolloutAborted: {fail_note(sim)}"
        ready = before
        phase, message = ("Degraded", why) if now >= end else ("Progressing", _MORE)
        nxt = None if now >= end else end
    else:
        k, nxt = ramp(n, t0, sim.delay, now)
        ready = n if k >= n else max(k, before)
        if k < n:
            phase, message = "Progressing", _MORE
        elif updating and sim.honour_pauses and pause_at is not None and not operator.get("promoted"):
            phase, message = "Paused", "CanaryPauseStep"
            status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": iso(t0 + sim.delay)}]
            status["controllerPause"] = True
            status["currentStepIndex"] = pause_at
        else:
            phase, message = "Healthy", ""
            status["stableRS"] = pod_hash
            steps = m(m(spec.get("strategy")).get("canary")).get("steps")
            if isinstance(steps, list) and steps:
                status["currentStepIndex"] = len(steps)  # every step done, as the controller says
    status.update(
        phase=phase,
        updatedReplicas=n if phase in ("Healthy", "Paused") else min(n, ready),
        readyReplicas=ready,
        availableReplicas=ready,
    )
    if message:
        status["message"] = message
    reason = {"Healthy": "NewReplicaSetAvailable", "Paused": "RolloutPaused", "Degraded": abort}
    progress = message or f"{rs} has successfully progressed."
    healthy = phase == "Healthy"
    status["conditions"] = [
        cond("Available", ready >= n, "AvailableReason", f"Rollout has {ready} available replicas", t0),
        cond("Progressing", phase != "Degraded", reason.get(phase, "ReplicaSetUpdated"), progress, t0),
        cond("Healthy", healthy, "RolloutHealthy" if healthy else "RolloutHealthyIncomplete", "", t0),
    ]
    return omit_zeros(status, "updatedReplicas", "readyReplicas", "availableReplicas"), nxt
