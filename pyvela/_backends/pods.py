"""Why a workload's Pods are not coming up, and when waiting stops helping.

A Deployment whose image cannot be pulled only ever says ``0/1 replicas ready``; the reason is
on its Pods (container ``waiting`` reasons, the ``PodScheduled`` condition). These pure
functions read Pods the way ``kubectl describe`` shows them, and :class:`PodProblems` turns
a problem that has persisted for a grace period into a failure (as Argo CD and Pulumi report
a workload degraded), so a bad image fails in a minute rather than after the step timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pyvela._backends.fields import count, mapping, text
from pyvela.errors import NotReadyError

#: Container waiting reasons that do not clear up on their own (kubelet's own names).
STUCK_REASONS = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
#: Default grace before a persisting problem fails the wait, in seconds.
DEFAULT_GRACE = 60.0
#: Restarts after which CrashLoopBackOff counts as a problem.
CRASH_RESTARTS = 3
#: Per-object override of the grace (seconds), on the workload's metadata.
ANNOTATION_GRACE = "pyvela.dev/failure-grace"
#: Kinds whose readiness depends on Pods selected by ``spec.selector``.
POD_OWNERS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"})


@attrs.frozen
class Problem:
    """One Pod's reason for not running: ``pod``, ``reason`` (kubelet's word), ``message``."""

    pod: str
    reason: str
    message: str

    def __str__(self) -> str:
        return f"pod {self.pod}: {self.reason}" + (f": {self.message}" if self.message else "")


def problems_of(pod: Mapping[str, Any], *, crash_restarts: int = CRASH_RESTARTS) -> list[Problem]:
    """What keeps ``pod`` from running, by container and by scheduling; empty when nothing does."""
    meta, status = mapping(pod.get("metadata")), mapping(pod.get("status"))
    name = text(meta.get("name")) or "?"
    if meta.get("deletionTimestamp"):
        return []  # going away: its problems are not the workload's any more
    found: list[Problem] = []
    for key in ("initContainerStatuses", "containerStatuses"):
        statuses = status.get(key)
        for cs in statuses if isinstance(statuses, list) else []:
            cs = mapping(cs)
            waiting = mapping(mapping(cs.get("state")).get("waiting"))
            reason = text(waiting.get("reason"))
            restarts = count(cs.get("restartCount"))
            stuck = reason in STUCK_REASONS or (reason == "CrashLoopBackOff" and restarts >= crash_restarts)
            if stuck:
                container = text(cs.get("name")) or "?"
                detail = text(waiting.get("message"))
                if reason == "CrashLoopBackOff":
                    detail = f"restarted {restarts} times" + (f"; {detail}" if detail else "")
                found.append(
                    Problem(name, reason, f"container {container}" + (f": {detail}" if detail else ""))
                )
    conditions = status.get("conditions")
    for cond in conditions if isinstance(conditions, list) else []:
        cond = mapping(cond)
        unscheduled = cond.get("type") == "PodScheduled" and cond.get("status") == "False"
        if unscheduled and text(cond.get("reason")) == "Unschedulable":
            found.append(Problem(name, "Unschedulable", text(cond.get("message"))))
    return found


def grace_of(obj: Mapping[str, Any] | None, default: float | None) -> float:
    """The grace for ``obj``: its annotation, else ``default``, else :data:`DEFAULT_GRACE`."""
    annotations = mapping(mapping((obj or {}).get("metadata")).get("annotations"))
    raw = annotations.get(ANNOTATION_GRACE)
    if raw is not None:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if value >= 0:
            return value
    return DEFAULT_GRACE if default is None else default


def selector_of(obj: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The Pods' label selector of a workload (``spec.selector.matchLabels``), if it has one."""
    labels = mapping(mapping(mapping((obj or {}).get("spec")).get("selector")).get("matchLabels"))
    selector = {str(k): str(v) for k, v in labels.items()}
    return selector or None


class PodProblems:
    """Problems seen on a workload's Pods, each with when it was first seen.

    ``update`` takes every observation of the Pods; ``verdict`` says which problem has lasted
    past the grace (the wait then fails with it) and what to show while it has not.
    """

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace = grace
        self._clock = clock
        self._since: dict[tuple[str, str], float] = {}
        self._current: list[Problem] = []
        self._lock = threading.Lock()

    def update(self, pods: Iterable[Mapping[str, Any]]) -> None:
        now = self._clock()
        current = [p for pod in pods for p in problems_of(pod)]
        keys = {(p.pod, p.reason) for p in current}
        with self._lock:
            # A reason that went away and came back starts its grace again.
            self._since = {k: self._since.get(k, now) for k in keys}
            self._current = current

    def next_expiry(self) -> float | None:
        """When (on the clock) the oldest current problem outlasts the grace; None without one."""
        with self._lock:
            return min(self._since.values()) + self.grace if self._since else None

    def verdict(self) -> tuple[Problem | None, str]:
        """(the problem that lasted past the grace, or None; a short text of the current ones)."""
        now = self._clock()
        with self._lock:
            expired = [p for p in self._current if now - self._since[(p.pod, p.reason)] >= self.grace]
            shown = "; ".join(str(p) for p in self._current[:3])
            if len(self._current) > 3:
                shown += f"; and {len(self._current) - 3} more"
        return (expired[0] if expired else None), shown


_FIXES = {
    "ImagePullBackOff": "check the image name and tag, and the registry's credentials (imagePullSecrets)",
    "ErrImagePull": "check the image name and tag, and the registry's credentials (imagePullSecrets)",
    "InvalidImageName": "correct the image reference",
    "CreateContainerConfigError": "create the ConfigMap/Secret (and key) the container refers to",
    "CrashLoopBackOff": "read the container's logs: it exits soon after it starts",
    "Unschedulable": "check the Pods' resource requests, node selectors, affinity and tolerations",
}


def stuck(ref: object, problem: Problem, grace: float) -> NotReadyError:
    """The failure of a wait whose workload's Pods have been stuck for the grace."""
    return NotReadyError(
        f"{ref} will not become ready: {problem} (for {grace:g}s)",
        object=str(ref),
        got=problem.reason,
        fix=_FIXES.get(problem.reason, "see `kubectl describe pod` for the Pod's events"),
    )
