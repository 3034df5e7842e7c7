"""The further Pods a workload's controller creates from one template in one reconcile.

The first goes through the whole write path (admission, simulation settings, its
controller); the others differ from it only in what the API server generates for each (the
name's random suffix, uid, creationTimestamp, resourceVersion) and in the status their own
controller gives them, so they are stored from its admitted row instead of being admitted
again: the same body a full write would store (tested), at a fraction of the cost.

They are made at the first's moment (one reconcile makes them all: its creationTimestamp,
the time its controller counts from), so their controller's status is the first's but for
the Pod IP, which the uid decides: it is not computed again for each (tested equal to
what the controller gives each).
"""

from __future__ import annotations

import sqlite3
import uuid

from pyvela._backends.sandbox.admission import check_name
from pyvela._backends.sandbox.controllers import pod_ip
from pyvela._backends.sandbox.kinds import BUILTIN_BY_KEY
from pyvela._backends.sandbox.rows import Row, SharedPart
from pyvela._backends.sandbox.rowstore import ObjectExists
from pyvela._backends.sandbox.store import Store

_POD = BUILTIN_BY_KEY["", "Pod"]


def first_of(conn: sqlite3.Connection, ns: str, name: str) -> Row | None:
    """The row of a Pod just created (a batch's own: read from what it remembers)."""
    return Store.load(conn, "", "Pod", ns, name)


def replicate(conn: sqlite3.Connection, first: Row, name: str, spec: SharedPart) -> bool:
    """Store a replica of ``first`` named ``name`` (False when some object has that name)."""
    check_name(_POD, name)
    meta = {**first.body["metadata"], "name": name, "uid": str(uuid.uuid4())}
    body = {**first.body, "metadata": meta, "spec": spec}  # the spec its template's Pods share
    status = first.status
    if status is not None:
        ip = pod_ip(meta["uid"])
        status = {**status, "podIP": ip, "podIPs": [{"ip": ip}]}
    row = Row(first.grp, first.kind, first.ns, name, uid=meta["uid"], rv=Store.next_rv(conn),
              generation=1, owners=first.owners, body=body, status=status, prior={}, sim=first.sim,
              applied_at=first.applied_at, next_change=first.next_change)  # fmt: skip
    try:
        Store.save(conn, row)
    except ObjectExists:
        return False
    return True
