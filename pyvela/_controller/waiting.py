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

from pyvela._workflow.parking import WAITING, next_deadline

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
