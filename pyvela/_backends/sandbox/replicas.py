"""The further Pods a workload's controller creates from one template in one reconcile.

The first goes through the whole write path (admission, simulation settings, its
controller); the others differ from it only in what the API server generates for each (the
name's random suffix, uid, creationTimestamp, resourceVersion) and in the status their own
controller gives them, so they are stored from its admitted row instead of being admitted
again: the same body a full write would store (tested), at a fraction of the cost.
"""

from __future__ import annotations

import sqlite3
import time
import uuid

from pyvela._backends.sandbox.admission import check_name
from pyvela._backends.sandbox.cluster import advance
from pyvela._backends.sandbox.kinds import BUILTIN_BY_KEY
from pyvela._backends.sandbox.rows import Row, SharedPart
from pyvela._backends.sandbox.rowstore import ObjectExists
from pyvela._backends.sandbox.simutil import iso
from pyvela._backends.sandbox.store import Store

_POD = BUILTIN_BY_KEY["", "Pod"]


def first_of(conn: sqlite3.Connection, ns: str, name: str) -> Row | None:
    """The row of a Pod just created (a batch's own: read from what it remembers)."""
    return Store.load(conn, "", "Pod", ns, name)


def replicate(conn: sqlite3.Connection, first: Row, name: str, spec: SharedPart) -> bool:
    """Store a replica of ``first`` named ``name`` (False when some object has that name)."""
    check_name(_POD, name)
    now = time.time()
    meta = {**first.body["metadata"], "name": name, "uid": str(uuid.uuid4()), "creationTimestamp": iso(now)}
    body = {**first.body, "metadata": meta, "spec": spec}  # the spec its template's Pods share
    row = Row(first.grp, first.kind, first.ns, name, uid=meta["uid"], rv=Store.next_rv(conn),
              generation=1, owners=first.owners, body=body, status=None, prior={}, sim=first.sim,
              applied_at=now, next_change=now)  # fmt: skip
    advance(conn, row, time.time())  # its controller acts at once, as for the first
    try:
        Store.save(conn, row)
    except ObjectExists:
        return False
    return True
