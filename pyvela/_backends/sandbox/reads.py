"""Reading stored objects as the API shows them: statuses a simulated controller has changed
since they were stored are brought up to now first (stored; in memory on a read-only sandbox)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping

from pyvela._backends.sandbox import podindex
from pyvela._backends.sandbox.cluster import settle, view
from pyvela._backends.sandbox.kinds import KindInfo
from pyvela._backends.sandbox.rows import Row
from pyvela._backends.sandbox.store import Store


def observe(store: Store, key: tuple[str, str, str, str]) -> tuple[Row | None, float | None]:
    """One object's row, and when its status changes next."""
    with store.reading():
        row = Store.load(store.conn, *key)
        if row is not None and row.next_change is not None and row.next_change <= time.time():
            if store.read_only:
                view(row, time.time())
                return row, row.next_change
            with store.write() as conn:
                row = Store.load(conn, *key)
                if row is not None:
                    settle(conn, row, time.time())
    return row, (row.next_change if row is not None else None)


def listed(
    store: Store, info: KindInfo, namespace: str | None, labels: Mapping[str, str] | None
) -> list[Row]:
    """The rows a list answers with, sorted (the label filter is the caller's: Pods by label
    are read through ``podindex``, which may give more than match)."""
    where, args = "grp=? AND kind=?", [info.group, info.kind]
    if namespace is not None and info.namespaced:
        where, args = where + " AND ns=?", [*args, namespace]

    def select(conn: sqlite3.Connection) -> list[Row]:
        if labels and namespace is not None and (info.group, info.kind) == ("", "Pod"):
            names = podindex.candidates(conn, namespace, labels)
            if names is not None:
                found = (Store.load(conn, "", "Pod", namespace, name) for name in names)
                return [row for row in found if row is not None]
        return Store.select(conn, where, args)

    with store.reading():
        rows = select(store.conn)
        now = time.time()
        if store.read_only:
            for row in rows:
                if row.next_change is not None and row.next_change <= now:
                    view(row, now)
        elif any(r.next_change is not None and r.next_change <= now for r in rows):
            with store.write() as conn:
                rows = select(conn)
                now = time.time()
                for row in rows:
                    if row.next_change is not None and row.next_change <= now:
                        settle(conn, row, now)
    return sorted(rows, key=lambda r: (r.ns, r.name))
