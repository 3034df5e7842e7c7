"""Readiness rules: pure functions from one observation of an object (``None`` while it does
not exist) to a :class:`Readiness`: ready, why not ("1/2 replicas ready"), and whether waiting
can help (``failed``). Rules never raise on any shape; a missing count reads as 0 (Kubernetes
omits zeros). :func:`rule_for` picks the rule of a kind; others get the kstatus-like :func:`generic`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj

# fmt: off
__all__ = ["crd", "daemon_set", "deployment", "exists", "generic", "helm_release", "ingress", "job",
           "namespace", "persistent_volume_claim", "pod", "replica_set", "rollout", "rule_for", "service",
           "stateful_set"]
# fmt: on

NOT_FOUND = "not found yet"
_DIGITS = re.compile(r"[0-9]{1,18}")
_FAILURE_WORDS = ("Failed", "Failure", "Error", "Invalid", "BackOff", "Exceeded")


# ----------------------------------------------------------------------------- helpers
def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any, default: int = 0) -> int:
    """An integer field; missing or garbage reads as ``default`` (0: Kubernetes omits zeros)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return default


def _generation(obj: Mapping[str, Any]) -> int:
    return _count(_m(obj.get("metadata")).get("generation"))


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _m(obj.get("status"))


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _m(obj.get("spec"))


def _replicas(obj: Mapping[str, Any]) -> int:
    value = _spec(obj).get("replicas")
    return 1 if value is None else max(0, _count(value, 1))


def _conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    conditions = status.get("conditions")
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(conditions, list):
        for cond in conditions:
            if isinstance(cond, Mapping) and isinstance(cond.get("type"), str):
                out[cond["type"]] = cond
    return out


def _is(cond: Mapping[str, Any] | None, status: str) -> bool:
    return cond is not None and _s(cond.get("status")) == status


def _why(cond: Mapping[str, Any] | None) -> str:
    if cond is None:
        return ""
    reason, message = _s(cond.get("reason")), _s(cond.get("message"))
    return f"{reason}: {message}" if reason and message else reason or message


def _observed(status: Mapping[str, Any], generation: int) -> Readiness | None:
    observed = _count(status.get("observedGeneration"))
    if observed < generation:
        message = f"waiting for the controller to observe generation {generation} (seen {observed})"
        return Readiness(False, message)
    return None


def _safe(rule: Callable[[Mapping[str, Any]], Readiness]) -> ReadinessRule:
    """Handle the absent object and non-mapping garbage; never let a rule raise."""

    @functools.wraps(rule)
    def wrapper(obj: Obj | None) -> Readiness:
        if obj is None:
            return Readiness(False, NOT_FOUND)
        if not isinstance(obj, Mapping):
            return Readiness(False, f"not an object: {type(obj).__name__}")
        try:
            return rule(obj)
        except Exception as exc:  # a backstop: the helpers above already absorb bad shapes
            return Readiness(False, f"cannot read status: {type(exc).__name__}: {exc}")

    return wrapper


# ----------------------------------------------------------------------------- rules
@_safe
def exists(obj: Mapping[str, Any]) -> Readiness:
    """Ready as soon as the object exists."""
    return Readiness(True, "exists")


@_safe
def deployment(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 Deployment, as ``kubectl rollout status`` judges it."""
    status, want = _status(obj), _replicas(obj)
    waiting = _observed(status, _generation(obj))
    if waiting:
        return waiting
    updated = _count(status.get("updatedReplicas"))
    ready = _count(status.get("readyReplicas"))
    available = _count(status.get("availableReplicas"))
    total = _count(status.get("replicas"))
    conds = _conditions(status)
    progressing = conds.get("Progressing")
    head = f"{ready}/{want} replicas ready"
    deadline = progressing is not None and _s(progressing.get("reason")) == "ProgressDeadlineExceeded"
    if deadline and not _is(progressing, "True"):
        return Readiness(False, f"{head}; progress deadline exceeded ({_why(progressing)})", failed=True)
    if updated != want:
        return Readiness(False, f"{head}, {updated}/{want} updated")
    if total > updated:
        return Readiness(False, f"{head}, {total - updated} old replicas pending termination")
    if ready != want or available != want:
        return Readiness(False, f"{head}, {available}/{want} available")
    if not _is(conds.get("Available"), "True"):
        return Readiness(False, f"{head}, waiting for condition Available")
    if progressing is not None and _s(progressing.get("reason")) != "NewReplicaSetAvailable":
        return Readiness(False, f"{head}, rollout in progress ({_why(progressing) or 'no reason'})")
    return Readiness(True, head)


@_safe
def stateful_set(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 StatefulSet: replicas ready and updated (up to a partition), revisions converged."""
    status, want = _status(obj), _replicas(obj)
    waiting = _observed(status, _generation(obj))
    if waiting:
        return waiting
    ready = _count(status.get("readyReplicas"))
    updated = _count(status.get("updatedReplicas"))
    head = f"{ready}/{want} replicas ready"
    strategy = _m(_spec(obj).get("updateStrategy"))
    if _s(strategy.get("type")) == "OnDelete":
        return Readiness(ready >= want, head)
    partition = max(0, _count(_m(strategy.get("rollingUpdate")).get("partition")))
    if ready < want:
        return Readiness(False, head)
    if updated < want - partition:
        return Readiness(False, f"{head}, {updated}/{want - partition} updated")
    current, update = _s(status.get("currentRevision")), _s(status.get("updateRevision"))
    if partition == 0 and current and update and current != update:
        return Readiness(False, f"{head}, waiting for revision {update} (current {current})")
    return Readiness(True, head)


@_safe
def daemon_set(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 DaemonSet: every scheduled pod updated and available."""
    status = _status(obj)
    waiting = _observed(status, _generation(obj))
    if waiting:
        return waiting
    desired = _count(status.get("desiredNumberScheduled"))
    updated = _count(status.get("updatedNumberScheduled"))
    available = _count(status.get("numberAvailable"))
    ready = _count(status.get("numberReady"))
    head = f"{ready}/{desired} pods ready"
    if updated < desired:
        return Readiness(False, f"{head}, {updated}/{desired} updated")
    if available < desired:
        return Readiness(False, f"{head}, {available}/{desired} available")
    return Readiness(True, head)


@_safe
def replica_set(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 ReplicaSet: ready and available replicas reach spec.replicas."""
    status, want = _status(obj), _replicas(obj)
    waiting = _observed(status, _generation(obj))
    if waiting:
        return waiting
    ready = _count(status.get("readyReplicas"))
    available = _count(status.get("availableReplicas"))
    head = f"{ready}/{want} replicas ready"
    if ready != want or available != want:
        failure = _conditions(status).get("ReplicaFailure")
        extra = f" ({_why(failure)})" if _is(failure, "True") else ""
        return Readiness(False, head + extra)
    return Readiness(True, head)


@_safe
def job(obj: Mapping[str, Any]) -> Readiness:
    """batch/v1 Job: ready once Complete; failed once Failed (or FailureTarget)."""
    status = _status(obj)
    conds = _conditions(status)
    for kind in ("Failed", "FailureTarget"):
        if _is(conds.get(kind), "True"):
            return Readiness(False, f"job failed: {_why(conds[kind]) or kind}", failed=True)
    succeeded = _count(status.get("succeeded"))
    completions = max(0, _count(_spec(obj).get("completions"), 1))
    head = f"{succeeded}/{completions} completions"
    if _is(conds.get("Complete"), "True"):
        return Readiness(True, f"complete, {head}")
    if _is(conds.get("Suspended"), "True"):
        return Readiness(False, f"suspended, {head}")
    return Readiness(False, f"{head}, {_count(status.get('active'))} active")


@_safe
def pod(obj: Mapping[str, Any]) -> Readiness:
    """v1 Pod: Ready condition True, or phase Succeeded; phase Failed fails."""
    status = _status(obj)
    phase = _s(status.get("phase")) or "Pending"
    if phase == "Succeeded":
        return Readiness(True, "succeeded")
    if phase == "Failed":
        why = _s(status.get("reason")) or _s(status.get("message")) or phase
        return Readiness(False, f"pod failed: {why}", failed=True)
    if _is(_conditions(status).get("Ready"), "True"):
        return Readiness(True, f"{phase.lower()} and ready")
    waits = []
    statuses = status.get("containerStatuses")
    for cs in statuses if isinstance(statuses, list) else []:
        reason = _s(_m(_m(_m(cs).get("state")).get("waiting")).get("reason"))
        if reason:
            waits.append(f"{_s(_m(cs).get('name')) or '?'}: {reason}")
    return Readiness(False, f"{phase.lower()}, not ready" + (f" ({', '.join(waits)})" if waits else ""))


def _lb_addresses(status: Mapping[str, Any]) -> list[str]:
    ingress = _m(status.get("loadBalancer")).get("ingress")
    out = []
    for entry in ingress if isinstance(ingress, list) else []:
        address = _s(_m(entry).get("ip")) or _s(_m(entry).get("hostname"))
        if address:
            out.append(address)
    return out


@_safe
def service(obj: Mapping[str, Any]) -> Readiness:
    """v1 Service: ready once it exists, unless type LoadBalancer (needs an ingress address)."""
    spec = _spec(obj)
    if _s(spec.get("type")) == "LoadBalancer":
        addresses = _lb_addresses(_status(obj))
        if not addresses:
            return Readiness(False, "waiting for a load-balancer address")
        return Readiness(True, f"load balancer {', '.join(addresses)}")
    cluster_ip = _s(spec.get("clusterIP"))
    return Readiness(True, f"cluster IP {cluster_ip}" if cluster_ip else "exists")


@_safe
def ingress(obj: Mapping[str, Any]) -> Readiness:
    """networking.k8s.io/v1 Ingress: ready once it exists; reports its address if any."""
    addresses = _lb_addresses(_status(obj))
    return Readiness(True, f"address {', '.join(addresses)}" if addresses else "exists, no address yet")


@_safe
def persistent_volume_claim(obj: Mapping[str, Any]) -> Readiness:
    """v1 PersistentVolumeClaim: phase Bound; Lost fails."""
    phase = _s(_status(obj).get("phase")) or "Pending"
    if phase == "Lost":
        return Readiness(False, "claim lost its volume", failed=True)
    return Readiness(phase == "Bound", f"phase {phase}")


@_safe
def rollout(obj: Mapping[str, Any]) -> Readiness:
    """argoproj.io/v1alpha1 Rollout: status.phase Healthy for the current generation.

    Argo Rollouts reports ``status.observedGeneration`` as a *string*.
    """
    status = _status(obj)
    generation = _generation(obj)
    observed = status.get("observedGeneration")
    phase, message = _s(status.get("phase")), _s(status.get("message"))
    detail = f": {message}" if message else ""
    if observed is None or str(observed) != str(generation):
        return Readiness(False, f"waiting for the Rollout controller to observe generation {generation}")
    if phase == "Healthy":
        return Readiness(True, "healthy")
    if phase == "Degraded":
        return Readiness(False, f"degraded{detail}", failed=True)
    if phase == "Paused":
        # An indefinite canary `pause: {}` waits for a person: say how to let it go on.
        name = _s(_m(obj.get("metadata")).get("name"))
        return Readiness(False, f"paused{detail}: promote it (kubectl argo rollouts promote {name})")
    ready = _count(status.get("readyReplicas"))
    head = (phase or "no phase yet").lower()
    return Readiness(False, f"{head}{detail}, {ready}/{_replicas(obj)} replicas ready")


@_safe
def helm_release(obj: Mapping[str, Any]) -> Readiness:
    """pyvela.dev/v1alpha1 HelmRelease: phase deployed for the current generation."""
    status = _status(obj)
    phase = _s(status.get("phase"))
    detail = f": {_s(status.get('message'))}" if _s(status.get("message")) else ""
    generation = _generation(obj)
    if _count(status.get("observedGeneration")) == generation and phase == "failed":
        return Readiness(False, f"release failed{detail}", failed=True)
    if phase == "deployed" and _count(status.get("observedGeneration")) == generation:
        return Readiness(True, f"revision {_count(status.get('revision'))} deployed")
    return Readiness(False, f"phase {phase or 'unknown'}{detail}")


@_safe
def namespace(obj: Mapping[str, Any]) -> Readiness:
    """v1 Namespace: phase Active."""
    phase = _s(_status(obj).get("phase")) or "Pending"
    return Readiness(phase == "Active", f"phase {phase}")


@_safe
def crd(obj: Mapping[str, Any]) -> Readiness:
    """apiextensions.k8s.io/v1 CustomResourceDefinition: Established; names not accepted fails."""
    conds = _conditions(_status(obj))
    names = conds.get("NamesAccepted")
    if _is(names, "False"):
        return Readiness(False, f"names not accepted: {_why(names)}", failed=True)
    if _is(conds.get("Established"), "True"):
        return Readiness(True, "established")
    return Readiness(False, "waiting for condition Established")


def _failure_reason(reason: str) -> bool:
    return any(word in reason for word in _FAILURE_WORDS)


@_safe
def generic(obj: Mapping[str, Any]) -> Readiness:
    """Any other kind, kstatus-like.

    An object without status is ready once it exists. ``status.observedGeneration``, when
    present, must equal ``metadata.generation``. Conditions Failed=True or Stalled=True,
    or Ready=False with a failure reason ("...Failed", "...Error"...) fail. Reconciling=True
    waits. A Ready condition, when present, must be True.
    """
    if "status" not in obj or obj.get("status") is None:
        return Readiness(True, "exists")
    status = _status(obj)
    if "observedGeneration" in status:
        generation = _generation(obj)
        if str(status.get("observedGeneration")) != str(generation):
            return Readiness(False, f"waiting for the controller to observe generation {generation}")
    conds = _conditions(status)
    for kind in ("Failed", "Stalled"):
        if _is(conds.get(kind), "True"):
            return Readiness(False, f"{kind.lower()}: {_why(conds[kind]) or kind}", failed=True)
    ready = conds.get("Ready")
    if _is(ready, "False") and _failure_reason(_s(ready.get("reason") if ready else None)):
        return Readiness(False, f"not ready: {_why(ready)}", failed=True)
    if _is(conds.get("Reconciling"), "True"):
        return Readiness(False, f"reconciling: {_why(conds['Reconciling']) or 'in progress'}")
    if ready is not None and not _is(ready, "True"):
        return Readiness(False, f"not ready: {_why(ready) or 'condition Ready is not True'}")
    return Readiness(True, "ready" if ready is not None else "exists")


_RULES: dict[tuple[str, str], ReadinessRule] = {
    ("apps", "Deployment"): deployment,
    ("apps", "StatefulSet"): stateful_set,
    ("apps", "DaemonSet"): daemon_set,
    ("apps", "ReplicaSet"): replica_set,
    ("batch", "Job"): job,
    ("", "Pod"): pod,
    ("", "Service"): service,
    ("networking.k8s.io", "Ingress"): ingress,
    ("", "PersistentVolumeClaim"): persistent_volume_claim,
    ("", "Namespace"): namespace,
    ("argoproj.io", "Rollout"): rollout,
    (HELM_API_VERSION.rpartition("/")[0], HELM_KIND): helm_release,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): crd,
}


def rule_for(api_version: str, kind: str) -> ReadinessRule:
    """The readiness rule for a kind (any version of its group); :func:`generic` otherwise."""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return _RULES.get((group, kind), generic)
