"""When a reconcile whose run parked (a step waiting for readiness, see
``pyvela._workflow.parking``) is tried again without an event to wake it.

The owned objects' watch wakes the app when one of them changes (its status included, while
it waits); the requeue is the fallback for what no watch of ours sees (a rule reading
another object, a Pod's failure lasting its grace, an event lost), doubling from a few
seconds so 1,000 waiting apps do not poll the API server, and never later than the
earliest waiting step's deadline, so its timeout is reported when it falls due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from pyvela._app.application import Application
from pyvela._backends.pods import grace_of
from pyvela._controller.cache import WatchCache
from pyvela._core.objects import ObjectRef
from pyvela._workflow.apps import verdict as app_verdict
from pyvela._workflow.health import rule_of
from pyvela._workflow.inventory import Inventory
from pyvela._workflow.parking import APP, GONE, READY, TIME, WAITING, next_deadline
from pyvela._workflow.state import StateStore, state_ref
from pyvela.errors import PyvelaError

REQUEUE_BASE = 5.0
REQUEUE_CAP = 60.0


def waiting(result: Any) -> bool:
    """Whether a reconcile's run parked (its revision is waiting)."""
    return str(getattr(result, "phase", "")) == WAITING


def requeue_after(parks: int, steps: Mapping[str, Mapping[str, Any]], resync: float) -> float:
    """Seconds until a run that parked ``parks`` times in a row is tried again unwoken."""
    delay = min(REQUEUE_CAP, REQUEUE_BASE * 2 ** min(max(parks - 1, 0), 16), resync)
    deadline = next_deadline(steps)
    if deadline is not None:  # just past it: the step then fails with its Timeout
        delay = min(delay, max(0.5, deadline - time.time() + 0.5))
    return float(delay)


def still_waiting(
    store: StateStore, revision: str, app: Application, cache: WatchCache
) -> dict[str, Any] | None:
    """The latest revision when its run parked and, by the watch's copies, nothing it waits
    for can have changed its verdict: each waiting step's object still not ready by the rule
    its wait used, its deadline and its Pods' grace not yet due. Then a reconcile need not run
    it again (taking the Lease, applying its objects again, saving its record), and writes
    nothing; None: run it (something may be ready, or it cannot be judged here)."""
    index = store.load(revisions="none")  # read already (up_to_date): a part only if waiting
    if not index or not index["revisions"] or index["revisions"][-1].get("phase") != WAITING:
        return None
    record = store.load(revisions="latest")
    rev = record["revisions"][-1] if record and record["revisions"] else None
    if (
        rev is None
        or rev.get("phase") != WAITING
        or rev.get("hash") != revision
        or rev.get("kind") != "deploy"
    ):
        return None
    inventory, now = Inventory(rev.get("inventory")), time.time()
    waiting_steps = [st for st in (rev.get("steps") or {}).values() if st.get("phase") == WAITING]
    for st in waiting_steps:
        parked = st.get("parked")
        if not isinstance(parked, Mapping) or not parked.get("judgeable") or now >= float(parked["deadline"]):
            return None
        if not _unchanged(parked, app, inventory, cache, now):
            return None
    return dict(rev) if waiting_steps else None


def _unchanged(
    parked: Mapping[str, Any], app: Application, inventory: Inventory, cache: WatchCache, now: float
) -> bool:
    """Whether what one parked step waits for is, by the watch's copies, not there yet."""
    until = parked.get("until") or READY
    if until == TIME:  # a timed suspend: until its end
        return now < float(parked.get("wake_at") or 0)
    ref = ObjectRef.from_dict(parked["object"])
    live = cache.get(ref)
    if until == GONE:  # the watch shows it until its DELETED event
        return live is not None
    if live is None:
        return False  # not seen: the run looks itself
    if until == APP:  # another app's record: its latest revision not succeeded, failed or gone
        other = ref.name.removeprefix(state_ref("", ref.namespace).name)  # ``state_ref``'s name
        try:
            verdict = app_verdict(live, other, ref.namespace) if other else None
        except PyvelaError:  # not a record (any more): the run reads it and says so
            return False
        return verdict is not None and not (verdict.ready or verdict.failed)
    if now - float(parked["since"]) >= grace_of(live, None):
        return False  # its Pods are due to be looked at: the run looks itself
    verdict = rule_of(app, ref, inventory.get(ref))(live)
    return not (verdict.ready or verdict.failed)


class Waiters:
    """Which parked apps wait for which object (another app's record, an object to go, a CRD),
    so that object's watch event wakes them, whatever its labels say (thread-safe)."""

    def __init__(self) -> None:
        self._by_ref: dict[tuple[str, str, str], set[str]] = {}
        self._of: dict[str, set[tuple[str, str, str]]] = {}
        self._lock = threading.Lock()

    def parked(self, key: str, steps: Mapping[str, Mapping[str, Any]]) -> None:
        """``key``'s run parked with ``steps`` (an empty mapping: it no longer waits)."""
        refs: set[tuple[str, str, str]] = set()
        for st in steps.values():
            parked = st.get("parked")
            if st.get("phase") == WAITING and isinstance(parked, Mapping) and parked.get("object"):
                ref = ObjectRef.from_dict(parked["object"])
                refs.add((ref.kind, ref.namespace, ref.name))
        with self._lock:
            for old in self._of.pop(key, set()):
                left = self._by_ref.get(old, set())
                left.discard(key)
                if not left:
                    self._by_ref.pop(old, None)
            for new in refs:
                self._by_ref.setdefault(new, set()).add(key)
            if refs:
                self._of[key] = refs

    def of(self, body: Mapping[str, Any]) -> list[str]:
        """The apps waiting for ``body`` (an object a watch delivered)."""
        meta = body.get("metadata") or {}
        ref = (str(body.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        with self._lock:
            return sorted(self._by_ref.get(ref, ()))
