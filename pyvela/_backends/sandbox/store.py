"""The sandbox's persistence: one SQLite database (``<root>/sandbox.db``) in WAL mode.

Every pyvela process that uses the same root shares the cluster. Writes run in
``BEGIN IMMEDIATE`` transactions, so two processes at once serialise cleanly; within a
process one connection is shared by all threads under one lock, whose condition variable
also wakes waiters on every write. Writes from other processes are noticed through
``PRAGMA data_version``.

The schema carries a version (``meta.schema_version``); a database of another version is
refused with a :class:`~pyvela.errors.StateError` rather than misread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from pyvela._backends.sandbox.settings import Sim
from pyvela._core.objects import Obj
from pyvela.errors import StateError, TransientError

SCHEMA_VERSION = 1
DB_FILE = "sandbox.db"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY NOT NULL);
CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    grp TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
    uid TEXT NOT NULL, rv INTEGER NOT NULL, generation INTEGER NOT NULL,
    owners TEXT NOT NULL,
    body TEXT NOT NULL, status TEXT, prior TEXT NOT NULL, sim TEXT NOT NULL,
    applied_at REAL NOT NULL, next_change REAL,
    UNIQUE (grp, kind, ns, name)
);
CREATE INDEX objects_ns ON objects (ns);
CREATE INDEX objects_uid ON objects (uid);
CREATE INDEX objects_due ON objects (next_change) WHERE next_change IS NOT NULL;
CREATE TABLE crd_kinds (
    grp TEXT NOT NULL, kind TEXT NOT NULL, versions TEXT NOT NULL, namespaced INTEGER NOT NULL,
    plural TEXT NOT NULL, crd TEXT NOT NULL, PRIMARY KEY (grp, kind)
);
CREATE TABLE allocations (value TEXT PRIMARY KEY, ns TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE config_items (
    app_id TEXT NOT NULL, env TEXT NOT NULL, cluster TEXT NOT NULL, namespace TEXT NOT NULL,
    key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (app_id, env, cluster, namespace, key)
);
CREATE TABLE config_releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id TEXT NOT NULL, env TEXT NOT NULL, cluster TEXT NOT NULL, namespace TEXT NOT NULL,
    release_key TEXT NOT NULL UNIQUE, title TEXT NOT NULL, comment TEXT NOT NULL,
    items TEXT NOT NULL, created REAL NOT NULL
);
CREATE INDEX config_releases_target ON config_releases (app_id, env, cluster, namespace, id);
"""
_TABLES = ("objects", "crd_kinds", "allocations", "config_items", "config_releases")

_COLUMNS = (
    "id, grp, kind, ns, name, uid, rv, generation, owners, body, status, prior, sim, applied_at, next_change"
)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@attrs.define
class Row:
    """One stored object: its body (without status and resourceVersion) and controller state."""

    grp: str
    kind: str
    ns: str
    name: str
    uid: str
    rv: int
    generation: int
    owners: str
    body: Obj
    status: Obj | None
    prior: Obj
    sim: Sim
    applied_at: float
    next_change: float | None
    id: int | None = None

    @classmethod
    def from_db(cls, r: tuple[Any, ...]) -> Row:
        return cls(
            id=r[0], grp=r[1], kind=r[2], ns=r[3], name=r[4], uid=r[5], rv=r[6], generation=r[7],
            owners=r[8], body=json.loads(r[9]), status=None if r[10] is None else json.loads(r[10]),
            prior=json.loads(r[11]), sim=Sim.from_json(json.loads(r[12])), applied_at=r[13],
            next_change=r[14],
        )  # fmt: skip

    def to_obj(self) -> Obj:
        """The object as the API shows it. Rows are never cached: this hands over ``body``."""
        obj = self.body
        obj["metadata"]["resourceVersion"] = str(self.rv)
        if self.status is not None:
            obj["status"] = self.status
        return obj


class Store:
    """The database and the in-process lock/condition guarding it."""

    def __init__(self, path: Path, seed: Callable[[Store, sqlite3.Connection], None]) -> None:
        self.path = path
        self.cond = threading.Condition(threading.RLock())
        #: Bumped on every write committed through this store (wakes waiters in this process).
        self.writes = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                str(path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StateError(f"cannot open the sandbox database: {exc}", file=str(path)) from exc
        try:
            self._setup(seed)
        except BaseException:
            self._conn.close()
            raise

    def _setup(self, seed: Callable[[Store, sqlite3.Connection], None]) -> None:
        try:
            for attempt in range(50):
                try:
                    mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError:
                    if attempt == 49:
                        raise
                    time.sleep(0.05)
            if str(mode).lower() != "wal":
                raise StateError(
                    f"the sandbox database cannot use WAL mode (got {mode})", file=str(self.path)
                )
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self.write() as conn:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if "meta" not in tables:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?), ('rv', 0)", (SCHEMA_VERSION,)
                    )
                    seed(self, conn)
                    return
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None or row[0] != SCHEMA_VERSION:
                    raise StateError(
                        f"the sandbox database has schema version {row[0] if row else 'none'}, "
                        f"this pyvela knows version {SCHEMA_VERSION}",
                        file=str(self.path),
                        fix="use the pyvela version that wrote it, or wipe it with `pyvela sandbox reset`",
                    )
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the sandbox database is unusable: {exc}", file=str(self.path)) from exc

    # -------------------------------------------------------------------- transactions
    @contextmanager
    def write(self, *, dry_run: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); rolled back on error or when ``dry_run``."""
        with self.cond:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            try:
                yield conn
                conn.execute("ROLLBACK" if dry_run else "COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            if not dry_run:
                self.writes += 1
                self.cond.notify_all()

    def _error(self, exc: sqlite3.Error) -> StateError | TransientError:
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            return TransientError(f"the sandbox database is busy: {exc}", file=str(self.path))
        return StateError(f"the sandbox database failed: {exc}", file=str(self.path))

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, for single-statement reads under ``cond``."""
        return self._conn

    def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        with self.cond:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self.cond:
            self._conn.close()

    # -------------------------------------------------------------------- objects
    @staticmethod
    def next_rv(conn: sqlite3.Connection) -> int:
        return int(
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'rv' RETURNING value").fetchone()[0]
        )

    @staticmethod
    def load(conn: sqlite3.Connection, grp: str, kind: str, ns: str, name: str) -> Row | None:
        r = conn.execute(
            f"SELECT {_COLUMNS} FROM objects WHERE grp=? AND kind=? AND ns=? AND name=?",
            (grp, kind, ns, name),
        ).fetchone()
        return None if r is None else Row.from_db(r)

    @staticmethod
    def exists(conn: sqlite3.Connection, grp: str, kind: str, ns: str, name: str) -> bool:
        query = "SELECT 1 FROM objects WHERE grp=? AND kind=? AND ns=? AND name=?"
        return conn.execute(query, (grp, kind, ns, name)).fetchone() is not None

    @staticmethod
    def select(conn: sqlite3.Connection, where: str, args: Sequence[Any]) -> list[Row]:
        return [Row.from_db(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM objects WHERE {where}", args)]

    @staticmethod
    def save(conn: sqlite3.Connection, row: Row) -> None:
        status = None if row.status is None else dumps(row.status)
        values = (
            row.grp, row.kind, row.ns, row.name, row.uid, row.rv, row.generation, row.owners,
            dumps(row.body), status, dumps(row.prior), dumps(row.sim.to_json()), row.applied_at,
            row.next_change,
        )  # fmt: skip
        if row.id is None:
            cur = conn.execute(f"INSERT INTO objects ({_COLUMNS[4:]}) VALUES ({','.join('?' * 14)})", values)
            row.id = cur.lastrowid
        else:
            assignments = ", ".join(f"{column.strip()}=?" for column in _COLUMNS[4:].split(","))
            conn.execute(f"UPDATE objects SET {assignments} WHERE id=?", (*values, row.id))

    @staticmethod
    def save_status(conn: sqlite3.Connection, row: Row) -> None:
        status = None if row.status is None else dumps(row.status)
        conn.execute(
            "UPDATE objects SET rv=?, status=?, next_change=? WHERE id=?",
            (row.rv, status, row.next_change, row.id),
        )

    @staticmethod
    def wipe(conn: sqlite3.Connection) -> None:
        for table in _TABLES:
            conn.execute(f"DELETE FROM {table}")
