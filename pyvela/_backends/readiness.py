"""Readiness rules: pure functions from one observation of an object (``None`` while it does
not exist) to a :class:`Readiness`: ready, why not ("1/2 replicas ready"), and whether waiting
can help (``failed``). Rules never raise on any shape; a missing count reads as 0 (Kubernetes
omits zeros). :func:`rule_for` picks the rule of a kind; others get the kstatus-like :func:`generic`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from pyvela._backends import fields
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._backends.rolloutstatus import canary_of
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj

# fmt: off
__all__ = ["crd", "daemon_set", "deployment", "exists", "generic", "helm_release", "ingress", "job",
           "namespace", "persistent_volume_claim", "pod", "replica_set", "rollout", "rule_for", "service",
           "stateful_set"]
# fmt: on

NOT_FOUND = "not found yet"
_FAILURE_WORDS = ("Failed", "Failure", "Error", "Invalid", "BackOff", "Exceeded")


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
    status, want = fields.status(obj), fields.replicas(obj)
    waiting = fields.observed(status, fields.generation(obj))
    if waiting:
        return waiting
    updated = fields.count(status.get("updatedReplicas"))
    ready = fields.count(status.get("readyReplicas"))
    available = fields.count(status.get("availableReplicas"))
    total = fields.count(status.get("replicas"))
    conds = fields.conditions(status)
    progressing = conds.get("Progressing")
    head = f"{ready}/{want} replicas ready"
    deadline = (
        progressing is not None and fields.text(progressing.get("reason")) == "ProgressDeadlineExceeded"
    )
    if deadline and not fields.is_status(progressing, "True"):
        return Readiness(
            False, f"{head}; progress deadline exceeded ({fields.why(progressing)})", failed=True
        )
    if updated != want:
        return Readiness(False, f"{head}, {updated}/{want} updated")
    if total > updated:
        return Readiness(False, f"{head}, {total - updated} old replicas pending termination")
    if ready != want or available != want:
        return Readiness(False, f"{head}, {available}/{want} available")
    if not fields.is_status(conds.get("Available"), "True"):
        return Readiness(False, f"{head}, waiting for condition Available")
    if progressing is not None and fields.text(progressing.get("reason")) != "NewReplicaSetAvailable":
        return Readiness(False, f"{head}, rollout in progress ({fields.why(progressing) or 'no reason'})")
    return Readiness(True, head)


@_safe
def stateful_set(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 StatefulSet: replicas ready and updated (up to a partition), revisions converged."""
    status, want = fields.status(obj), fields.replicas(obj)
    waiting = fields.observed(status, fields.generation(obj))
    if waiting:
        return waiting
    ready = fields.count(status.get("readyReplicas"))
    updated = fields.count(status.get("updatedReplicas"))
    head = f"{ready}/{want} replicas ready"
    strategy = fields.mapping(fields.spec(obj).get("updateStrategy"))
    if fields.text(strategy.get("type")) == "OnDelete":
        return Readiness(ready >= want, head)
    partition = max(0, fields.count(fields.mapping(strategy.get("rollingUpdate")).get("partition")))
    if ready < want:
        return Readiness(False, head)
    if updated < want - partition:
        return Readiness(False, f"{head}, {updated}/{want - partition} updated")
    current, update = fields.text(status.get("currentRevision")), fields.text(status.get("updateRevision"))
    if partition == 0 and current and update and current != update:
        return Readiness(False, f"{head}, waiting for revision {update} (current {current})")
    return Readiness(True, head)


@_safe
def daemon_set(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 DaemonSet: every scheduled pod updated and available."""
    status = fields.status(obj)
    waiting = fields.observed(status, fields.generation(obj))
    if waiting:
        return waiting
    desired = fields.count(status.get("desiredNumberScheduled"))
    updated = fields.count(status.get("updatedNumberScheduled"))
    available = fields.count(status.get("numberAvailable"))
    ready = fields.count(status.get("numberReady"))
    head = f"{ready}/{desired} pods ready"
    if updated < desired:
        return Readiness(False, f"{head}, {updated}/{desired} updated")
    if available < desired:
        return Readiness(False, f"{head}, {available}/{desired} available")
    return Readiness(True, head)


@_safe
def replica_set(obj: Mapping[str, Any]) -> Readiness:
    """apps/v1 ReplicaSet: ready and available replicas reach spec.replicas."""
    status, want = fields.status(obj), fields.replicas(obj)
    waiting = fields.observed(status, fields.generation(obj))
    if waiting:
        return waiting
    ready = fields.count(status.get("readyReplicas"))
    available = fields.count(status.get("availableReplicas"))
    head = f"{ready}/{want} replicas ready"
    if ready != want or available != want:
        failure = fields.conditions(status).get("ReplicaFailure")
        extra = f" ({fields.why(failure)})" if fields.is_status(failure, "True") else ""
        return Readiness(False, head + extra)
    return Readiness(True, head)


@_safe
def job(obj: Mapping[str, Any]) -> Readiness:
    """batch/v1 Job: ready once Complete; failed once Failed (or FailureTarget)."""
    status = fields.status(obj)
    conds = fields.conditions(status)
    for kind in ("Failed", "FailureTarget"):
        if fields.is_status(conds.get(kind), "True"):
            return Readiness(False, f"job failed: {fields.why(conds[kind]) or kind}", failed=True)
    succeeded = fields.count(status.get("succeeded"))
    completions = max(0, fields.count(fields.spec(obj).get("completions"), 1))
    head = f"{succeeded}/{completions} completions"
    if fields.is_status(conds.get("Complete"), "True"):
        return Readiness(True, f"complete, {head}")
    if fields.is_status(conds.get("Suspended"), "True"):
        return Readiness(False, f"suspended, {head}")
    return Readiness(False, f"{head}, {fields.count(status.get('active'))} active")


@_safe
def pod(obj: Mapping[str, Any]) -> Readiness:
    """v1 Pod: Ready condition True, or phase Succeeded; phase Failed fails."""
    status = fields.status(obj)
    phase = fields.text(status.get("phase")) or "Pending"
    if phase == "Succeeded":
        return Readiness(True, "succeeded")
    if phase == "Failed":
        why = fields.text(status.get("reason")) or fields.text(status.get("message")) or phase
        return Readiness(False, f"pod failed: {why}", failed=True)
    if fields.is_status(fields.conditions(status).get("Ready"), "True"):
        return Readiness(True, f"{phase.lower()} and ready")
    waits = []
    statuses = status.get("containerStatuses")
    for cs in statuses if isinstance(statuses, list) else []:
        reason = fields.text(
            fields.mapping(fields.mapping(fields.mapping(cs).get("state")).get("waiting")).get("reason")
        )
        if reason:
            waits.append(f"{fields.text(fields.mapping(cs).get('name')) or '?'}: {reason}")
    return Readiness(False, f"{phase.lower()}, not ready" + (f" ({', '.join(waits)})" if waits else ""))


def _lb_addresses(status: Mapping[str, Any]) -> list[str]:
    ingress = fields.mapping(status.get("loadBalancer")).get("ingress")
    out = []
    for entry in ingress if isinstance(ingress, list) else []:
        address = fields.text(fields.mapping(entry).get("ip")) or fields.text(
            fields.mapping(entry).get("hostname")
        )
        if address:
            out.append(address)
    return out


@_safe
def service(obj: Mapping[str, Any]) -> Readiness:
    """v1 Service: ready once it exists, unless type LoadBalancer (needs an ingress address)."""
    spec = fields.spec(obj)
    if fields.text(spec.get("type")) == "LoadBalancer":
        addresses = _lb_addresses(fields.status(obj))
        if not addresses:
            return Readiness(False, "waiting for a load-balancer address")
        return Readiness(True, f"load balancer {', '.join(addresses)}")
    cluster_ip = fields.text(spec.get("clusterIP"))
    return Readiness(True, f"cluster IP {cluster_ip}" if cluster_ip else "exists")


@_safe
def ingress(obj: Mapping[str, Any]) -> Readiness:
    """networking.k8s.io/v1 Ingress: ready once it exists; reports its address if any."""
    addresses = _lb_addresses(fields.status(obj))
    return Readiness(True, f"address {', '.join(addresses)}" if addresses else "exists, no address yet")


@_safe
def persistent_volume_claim(obj: Mapping[str, Any]) -> Readiness:
    """v1 PersistentVolumeClaim: phase Bound; Lost fails."""
    phase = fields.text(fields.status(obj).get("phase")) or "Pending"
    if phase == "Lost":
        return Readiness(False, "claim lost its volume", failed=True)
    return Readiness(phase == "Bound", f"phase {phase}")


@_safe
def rollout(obj: Mapping[str, Any]) -> Readiness:
    """argoproj.io/v1alpha1 Rollout: status.phase Healthy for the current generation.

    Argo Rollouts reports ``status.observedGeneration`` as a *string*.
    """
    status = fields.status(obj)
    generation = fields.generation(obj)
    observed = status.get("observedGeneration")
    phase, message = fields.text(status.get("phase")), fields.text(status.get("message"))
    detail = f": {message}" if message else ""
    if observed is None or str(observed) != str(generation):
        return Readiness(False, f"waiting for the Rollout controller to observe generation {generation}")
    if phase == "Healthy":
        return Readiness(True, "healthy")
    where = canary_of(obj)
    canary = f"; {where}" if where is not None else ""
    if phase == "Degraded":
        # An AnalysisRun that failed aborts the update: its message says which metric and why.
        failed = where is not None and where.analysis_phase in ("Failed", "Error") and where.analysis_message
        if failed and where is not None and where.analysis_message not in message:
            detail += f"; analysis {where.analysis} {where.analysis_phase}: {where.analysis_message}"
        return Readiness(False, f"degraded{detail}", failed=True)
    if phase == "Paused":
        # An indefinite canary `pause: {}` waits for a person: say how to let it go on.
        name = fields.text(fields.mapping(obj.get("metadata")).get("name"))
        return Readiness(False, f"paused{detail}: promote it (kubectl argo rollouts promote {name}){canary}")
    ready = fields.count(status.get("readyReplicas"))
    head = (phase or "no phase yet").lower()
    return Readiness(False, f"{head}{detail}, {ready}/{fields.replicas(obj)} replicas ready{canary}")


@_safe
def helm_release(obj: Mapping[str, Any]) -> Readiness:
    """pyvela.dev/v1alpha1 HelmRelease: phase deployed for the current generation."""
    status = fields.status(obj)
    phase = fields.text(status.get("phase"))
    detail = f": {fields.text(status.get('message'))}" if fields.text(status.get("message")) else ""
    generation = fields.generation(obj)
    if fields.count(status.get("observedGeneration")) == generation and phase == "failed":
        return Readiness(False, f"release failed{detail}", failed=True)
    if phase == "deployed" and fields.count(status.get("observedGeneration")) == generation:
        return Readiness(True, f"revision {fields.count(status.get('revision'))} deployed")
    return Readiness(False, f"phase {phase or 'unknown'}{detail}")


@_safe
def namespace(obj: Mapping[str, Any]) -> Readiness:
    """v1 Namespace: phase Active."""
    phase = fields.text(fields.status(obj).get("phase")) or "Pending"
    return Readiness(phase == "Active", f"phase {phase}")


@_safe
def crd(obj: Mapping[str, Any]) -> Readiness:
    """apiextensions.k8s.io/v1 CustomResourceDefinition: Established; names not accepted fails."""
    conds = fields.conditions(fields.status(obj))
    names = conds.get("NamesAccepted")
    if fields.is_status(names, "False"):
        return Readiness(False, f"names not accepted: {fields.why(names)}", failed=True)
    if fields.is_status(conds.get("Established"), "True"):
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
    status = fields.status(obj)
    if "observedGeneration" in status:
        generation = fields.generation(obj)
        if str(status.get("observedGeneration")) != str(generation):
            return Readiness(False, f"waiting for the controller to observe generation {generation}")
    conds = fields.conditions(status)
    for kind in ("Failed", "Stalled"):
        if fields.is_status(conds.get(kind), "True"):
            return Readiness(False, f"{kind.lower()}: {fields.why(conds[kind]) or kind}", failed=True)
    ready = conds.get("Ready")
    if fields.is_status(ready, "False") and _failure_reason(
        fields.text(ready.get("reason") if ready else None)
    ):
        return Readiness(False, f"not ready: {fields.why(ready)}", failed=True)
    if fields.is_status(conds.get("Reconciling"), "True"):
        return Readiness(False, f"reconciling: {fields.why(conds['Reconciling']) or 'in progress'}")
    if ready is not None and not fields.is_status(ready, "True"):
        return Readiness(False, f"not ready: {fields.why(ready) or 'condition Ready is not True'}")
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
