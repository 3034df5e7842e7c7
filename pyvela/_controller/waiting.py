"""When a reconcile whose run parked (a step waiting for readiness, see
``pyvela._workflow.parking``) is tried again without an event to wake it.

The owned objects' watch wakes the app when one of them changes (its status included, while
it waits); the requeue is the fallback for what no watch of ours sees (a rule reading
another object, a Pod's failure lasting its grace, an event lost), doubling from a few
seconds so 1,000 waiting apps do not poll the API server, and never later than the
earliest waiting step's deadline, so its timeout is reported when it falls due.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pyvela._app.application import Application
from pyvela._backends.pods import grace_of
from pyvela._controller.cache import WatchCache
from pyvela._core.objects import ObjectRef
from pyvela._workflow.health import rule_of
from pyvela._workflow.inventory import Inventory
from pyvela._workflow.parking import WAITING, next_deadline
from pyvela._workflow.state import StateStore

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
        ref = ObjectRef.from_dict(parked["object"])
        live = cache.get(ref)
        if live is None or now - float(parked["since"]) >= grace_of(live, None):
            return None  # not seen (or its Pods are due to be looked at): the run looks itself
        verdict = rule_of(app, ref, inventory.get(ref))(live)
        if verdict.ready or verdict.failed:
            return None
    return dict(rev) if waiting_steps else None
