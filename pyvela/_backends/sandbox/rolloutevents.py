"""The Events Argo Rollouts' controller records on a Rollout, for the sandbox's simulated one.

The real controller (``rollouts-controller``) records an Event as it acts on an update:
``RolloutUpdated``, ``NewReplicaSetCreated``, ``RolloutNotCompleted`` and
``ScalingReplicaSet`` when the new revision starts; ``RolloutStepCompleted`` for each canary
step; ``RolloutPaused`` at a ``pause: {}`` step; on promote the remaining steps and
``RolloutCompleted`` (``Full promotion requested`` after ``promote --full``, with
``RolloutResumed``); a Warning ``RolloutAborted`` on abort, and the steps again on retry (the
same Events, their ``count`` 2). Like ``simevents``, the sandbox derives them when Events are
listed, from what its simulated controller holds: the Rollout's status, the stable revision
before the update and what an operator asked (``OPERATOR``, with the times). Only the
latest update's Events are derived (a real cluster keeps older ones until their TTL).
Wording and reasons are the controller's, as the test control plane's Argo Rollouts records
them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from pyvela._backends.sandbox.cluster import view
from pyvela._backends.sandbox.rows import Row
from pyvela._backends.sandbox.settings import Sim
from pyvela._backends.sandbox.simevents import event
from pyvela._backends.sandbox.simutil import generation, iso, m, replicas
from pyvela._backends.sandbox.store import Store
from pyvela._backends.sandbox.workloads import OPERATOR
from pyvela._core.objects import Obj

__all__ = ["SOURCE", "listed", "rollout_events"]

SOURCE = "rollouts-controller"


def _step_text(step: Mapping[str, Any]) -> str:
    """How the controller names a step in ``RolloutStepCompleted``: ``setWeight: 50``, ``pause``."""
    if "setWeight" in step:
        return f"setWeight: {step['setWeight']}"
    if "pause" in step:
        duration = m(step.get("pause")).get("duration")
        return f"pause: {duration}" if duration else "pause"
    return next(iter(step), "step")


def _indefinite(step: Mapping[str, Any]) -> bool:
    pause = step.get("pause")
    return isinstance(pause, Mapping) and pause.get("duration") in (None, "", 0)


def rollout_events(obj: Obj, prior: Mapping[str, Any], t0: float, sim: Sim) -> list[Obj]:
    """The controller's Events for the Rollout ``obj``'s latest update (``prior``: what its
    simulated controller kept; ``t0``: when the update was applied; ``sim``: how it is
    simulated)."""
    meta, spec, status = m(obj.get("metadata")), m(obj.get("spec")), m(obj.get("status"))
    pod_hash = str(status.get("currentPodHash") or "")
    stable = prior.get("stableRS") if isinstance(prior.get("stableRS"), str) else None
    if not pod_hash or stable == pod_hash:
        return []  # no update in this generation (a scale, a pause): nothing of its own recorded
    rev, n, rs = generation(obj), replicas(spec), f"{meta.get('name')}-{pod_hash}"
    started, ready = iso(t0), iso(t0 + sim.delay)
    phase = status.get("phase")
    out: list[Obj] = []

    def add(reason: str, message: str, at: str, *, warning: bool = False, again: str | None = None) -> None:
        done = event(obj, reason, message, at, SOURCE, warning)
        done["reportingInstance"] = ""  # the controller leaves it empty
        if again is not None:  # the same Event recorded again: client-go counts it
            done.update(count=2, lastTimestamp=again)
        out.append(done)

    add("RolloutUpdated", f"Rollout updated to revision {rev}", started)
    add("NewReplicaSetCreated", f"Created ReplicaSet {rs} (revision {rev})", started)
    add(
        "RolloutNotCompleted",
        f"Rollout not completed, started update to revision {rev} ({pod_hash})",
        started,
    )
    if stable is None:  # the first revision: no canary steps, every replica at once
        add("ScalingReplicaSet", f"Scaled up ReplicaSet {rs} (revision {rev}) from 0 to {n}", started)
        if phase == "Healthy":
            add(
                "RolloutCompleted",
                f"Rollout completed update to revision {rev} ({pod_hash}): Initial deploy",
                ready,
            )
        return out
    raw = m(m(spec.get("strategy")).get("canary")).get("steps")
    steps = [m(s) for s in raw] if isinstance(raw, list) else []
    weight = steps[0].get("setWeight") if steps else None
    first = min(n, math.ceil(n * weight / 100)) if isinstance(weight, int | float) else n
    add("ScalingReplicaSet", f"Scaled up ReplicaSet {rs} (revision {rev}) from 0 to {first}", started)
    operator = m(prior.get(OPERATOR))
    aborted, promoted, retried = (operator.get(k) for k in ("aborted", "promoted", "retried"))
    again = iso(float(retried)) if retried is not None else None
    at_pause = next((i for i, s in enumerate(steps) if _indefinite(s)), None)
    stops = at_pause is not None and sim.honour_pauses
    # The steps up to the pause are done once the new replicas are ready (again after a retry).
    reached = phase in ("Paused", "Healthy") or (aborted is not None and float(aborted) >= t0 + sim.delay)
    if reached:
        for i, step in enumerate(steps[:at_pause] if stops else steps):
            text = f"Rollout step {i + 1}/{len(steps)} completed ({_step_text(step)})"
            add("RolloutStepCompleted", text, ready, again=again)
        if stops:
            add("RolloutPaused", "Rollout is paused (CanaryPauseStep)", ready, again=again)
    if aborted is not None:
        at = iso(float(aborted))
        add("RolloutAborted", f"Rollout aborted update to revision {rev}", at, warning=True)
        add("ScalingReplicaSet", f"Scaled down ReplicaSet {rs} (revision {rev}) from {first} to 0", at)
    if phase == "Degraded" and operator.get("abort") is not True:  # a failure the sandbox simulates
        reason, _, said = str(status.get("message") or "").partition(": ")
        deadline = max(1, int(spec.get("progressDeadlineSeconds") or 600))
        end = t0 + (deadline if reason == "ProgressDeadlineExceeded" else sim.delay)
        add(reason or "RolloutAborted", said, iso(end), warning=True)
    if phase == "Healthy":
        at = iso(float(promoted)) if promoted is not None and stops else ready
        if operator.get("full") and stops:
            add("RolloutResumed", "Rollout is resumed", at)
            why = "Full promotion requested"
        else:
            if stops and at_pause is not None:
                for i in range(at_pause, len(steps)):
                    text = f"Rollout step {i + 1}/{len(steps)} completed ({_step_text(steps[i])})"
                    add("RolloutStepCompleted", text, at)
            why = f"Completed all {len(steps)} canary steps"
        add("RolloutCompleted", f"Rollout completed update to revision {rev} ({pod_hash}): {why}", at)
    return out


def listed(store: Store, namespace: str | None) -> list[Obj]:
    """The Events of every Rollout in ``namespace`` (all when None), as of now."""
    where, args = "grp=? AND kind=?", ["argoproj.io", "Rollout"]
    if namespace is not None:
        where, args = where + " AND ns=?", [*args, namespace]
    with store.reading() as conn:
        rows: list[Row] = Store.select(conn, where, args)
    now = time.time()
    out = []
    for row in rows:
        view(row, now)  # the status as of now (a list of Rollouts would have stored it)
        out += rollout_events(row.to_obj(), row.prior, row.applied_at, row.sim)
    return out
