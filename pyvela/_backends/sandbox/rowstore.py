"""The sandbox's object rows in SQL, and what a batch (one long write transaction) keeps in memory.

A batch holds the database's write lock, so nothing but its own statements can change a row
while it is open. Two things are therefore kept for its duration only, per connection:

- the resourceVersion counter (read once, written back once at the commit);
- the rows it read or wrote, as stored (``_rows``): a read after a read or a write of the same
  object costs no SELECT. Entries hold the row's columns (JSON text included), so every read
  decodes its own objects, as a SELECT would; a write updates the entry, a delete drops it, and
  a savepoint rolled back (a refused write, a dry run) forgets them all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from pyvela._backends.sandbox import podindex
from pyvela._backends.sandbox.rows import TABLES, Row, dumps, dumps_body

_COLUMNS = (
    "id, grp, kind, ns, name, uid, rv, generation, owners, body, status, prior, sim, applied_at, next_change"
)
_INSERT = f"INSERT INTO objects ({_COLUMNS[4:]}) VALUES ({','.join('?' * 14)})"
_UPDATE = "UPDATE objects SET {} WHERE id=?".format(
    ", ".join(f"{column.strip()}=?" for column in _COLUMNS[4:].split(","))
)
_Key = tuple[str, str, str, str]


class ObjectExists(Exception):
    """An INSERT found the (group, kind, namespace, name) taken: the caller says AlreadyExists."""


class RowStore:
    #: The resourceVersion counter of a connection inside a batch (``[value]``, ``[None]``
    #: until first used), written back once, at the batch's commit.
    _counters: dict[sqlite3.Connection, list[int | None]] = {}
    #: The rows a connection's open batch has seen: key -> columns as stored, None if absent.
    _rows: dict[sqlite3.Connection, dict[_Key, tuple[Any, ...] | None]] = {}

    @staticmethod
    def next_rv(conn: sqlite3.Connection) -> int:
        counter = RowStore._counters.get(conn)
        if counter is None:
            query = "UPDATE meta SET value = value + 1 WHERE key = 'rv' RETURNING value"
            return int(conn.execute(query).fetchone()[0])
        last = counter[0]
        if last is None:
            last = int(conn.execute("SELECT value FROM meta WHERE key = 'rv'").fetchone()[0])
        # A write undone alone (a savepoint) leaves a gap: versions only ever grow, as on a real
        # API server, where they are opaque and need not be consecutive.
        counter[0] = last + 1
        return last + 1

    #: The namespaces a connection's batches found to exist, and the ``data_version`` then:
    #: kept from batch to batch while no other connection commits (this one's ``remove`` of a
    #: Namespace, a rollback and a failed commit forget them).
    _namespaces: dict[sqlite3.Connection, tuple[int, set[str]]] = {}

    @staticmethod
    def since(conn: sqlite3.Connection, version: int) -> None:
        """A batch starts on ``conn`` at ``version``: what earlier ones knew holds if it is theirs."""
        known = RowStore._namespaces.get(conn)
        if known is None or known[0] != version:
            RowStore._namespaces[conn] = (version, set())

    @staticmethod
    def namespace_exists(conn: sqlite3.Connection, name: str) -> bool:
        known = RowStore._namespaces.get(conn) if conn in RowStore._rows else None  # in a batch
        if known is not None and name in known[1]:
            return True
        found = RowStore.exists(conn, "", "Namespace", "", name)
        if found and known is not None:
            known[1].add(name)
        return found

    @staticmethod
    def forget_rows(conn: sqlite3.Connection) -> None:
        """After a rollback: what a batch remembered may be undone."""
        rows = RowStore._rows.get(conn)
        if rows is not None:
            rows.clear()
        RowStore._namespaces.pop(conn, None)

    @staticmethod
    def _columns(conn: sqlite3.Connection, key: _Key) -> tuple[Any, ...] | None:
        rows = RowStore._rows.get(conn)
        if rows is not None and key in rows:
            return rows[key]
        found = conn.execute(
            f"SELECT {_COLUMNS} FROM objects WHERE grp=? AND kind=? AND ns=? AND name=?", key
        ).fetchone()
        if rows is not None:
            rows[key] = found
        return found  # type: ignore[no-any-return]

    @staticmethod
    def load(conn: sqlite3.Connection, grp: str, kind: str, ns: str, name: str) -> Row | None:
        r = RowStore._columns(conn, (grp, kind, ns, name))
        return None if r is None else Row.from_db(r)

    @staticmethod
    def exists(conn: sqlite3.Connection, grp: str, kind: str, ns: str, name: str) -> bool:
        rows = RowStore._rows.get(conn)
        if rows is not None and (grp, kind, ns, name) in rows:
            return rows[grp, kind, ns, name] is not None
        query = "SELECT 1 FROM objects WHERE grp=? AND kind=? AND ns=? AND name=?"
        return conn.execute(query, (grp, kind, ns, name)).fetchone() is not None

    @staticmethod
    def select(conn: sqlite3.Connection, where: str, args: Sequence[Any]) -> list[Row]:
        return [Row.from_db(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM objects WHERE {where}", args)]

    @staticmethod
    def save(conn: sqlite3.Connection, row: Row) -> None:
        """Store ``row`` whole (INSERT when it has no id: ObjectExists if its name is taken)."""
        status = None if row.status is None else dumps(row.status)
        values = (
            row.grp, row.kind, row.ns, row.name, row.uid, row.rv, row.generation, row.owners,
            dumps_body(row.body), status, *row.stored(), row.applied_at, row.next_change,
        )  # fmt: skip
        if row.id is None:
            try:
                row.id = conn.execute(_INSERT, values).lastrowid
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):
                    raise
                raise ObjectExists(row.name) from exc
        else:
            conn.execute(_UPDATE, (*values, row.id))
        if row.kind == "Pod" and row.grp == "":
            podindex.noted(conn, row.ns, row.name, row.body)
        rows = RowStore._rows.get(conn)
        if rows is not None:
            rows[row.grp, row.kind, row.ns, row.name] = (row.id, *values)

    @staticmethod
    def save_status(conn: sqlite3.Connection, row: Row) -> None:
        status = None if row.status is None else dumps(row.status)
        conn.execute(
            "UPDATE objects SET rv=?, status=?, next_change=? WHERE id=?",
            (row.rv, status, row.next_change, row.id),
        )
        rows = RowStore._rows.get(conn)
        key = (row.grp, row.kind, row.ns, row.name)
        cached = rows.get(key) if rows is not None else None
        if rows is not None and cached is not None:
            rows[key] = (*cached[:6], row.rv, *cached[7:10], status, *cached[11:14], row.next_change)

    @staticmethod
    def delete(conn: sqlite3.Connection, row: Row) -> None:
        conn.execute("DELETE FROM objects WHERE id=?", (row.id,))
        rows = RowStore._rows.get(conn)
        if rows is not None:
            rows[row.grp, row.kind, row.ns, row.name] = None

    @staticmethod
    def wipe(conn: sqlite3.Connection) -> None:
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM meta WHERE key='next_ip'")
        RowStore.forget_rows(conn)
        podindex.forget(conn)
