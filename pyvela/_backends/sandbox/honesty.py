"""What keeps the sandbox from reporting a cluster that is gone: a reset refuses while a
pyvela run holds an app's Lease, and a corrupt database is moved aside, never deleted."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from pyvela._backends.sandbox.rows import Row
from pyvela._core.leases import held_by
from pyvela.errors import LockedError

LEASE_GROUP = "coordination.k8s.io"
#: The name prefix of the Leases pyvela runs hold (one per app; see the workflow's AppLock).
LEASE_PREFIX = "pyvela-lock."


def control_leases(root: Path) -> list[Row]:
    """The Leases of the control sandbox a named sandbox (``<control>/clusters/NAME``) belongs
    to: a run holding one there may be deploying here, and its lock lives there, not here."""
    from pyvela._backends.sandbox.store import DB_FILE, Store

    db = root.parent.parent / DB_FILE
    if root.parent.name != "clusters" or not db.is_file():
        return []
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
        try:
            return Store.select(conn, "grp=? AND kind=?", (LEASE_GROUP, "Lease"))
        finally:
            conn.close()
    except sqlite3.Error:  # a broken control sandbox says nothing about this one
        return []


def refuse_if_leased(leases: Iterable[Row], root: Path) -> None:
    """LockedError naming every app whose run holds a live Lease in this sandbox, or (a named
    sandbox) in the control sandbox whose runs deploy to it."""
    live = []
    for row, where in [
        *((r, "") for r in leases),
        *((r, " in the control sandbox") for r in control_leases(root)),
    ]:
        if not row.name.startswith(LEASE_PREFIX):
            continue
        spec = row.body.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        holder = held_by(spec, 0.0)
        if holder:
            live.append(f"{row.ns}/{row.name.removeprefix(LEASE_PREFIX)} (held by {holder}{where})")
    if live:
        raise LockedError(
            f"refusing to reset the sandbox {root}: a pyvela run is changing "
            f"{'these apps' if len(live) > 1 else 'this app'}: {', '.join(live)}",
            file=str(root),
            fix="wait for the run to finish, or pass --force (the run then fails: its objects are gone)",
        )
