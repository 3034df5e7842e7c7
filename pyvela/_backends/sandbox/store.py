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

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyvela._backends.sandbox import podindex
from pyvela._backends.sandbox.dbfile import db_error, identity, not_writable
from pyvela._backends.sandbox.rows import SCHEMA
from pyvela._backends.sandbox.rowstore import RowStore
from pyvela.errors import StateError, TransientError

SCHEMA_VERSION = 1
DB_FILE = "sandbox.db"
_BATCH_START = (
    "SELECT key, value FROM meta WHERE key IN ('epoch', 'rv')"
    " UNION ALL SELECT 'data_version', data_version FROM pragma_data_version"
)


class Store(RowStore):
    """The database and the in-process lock/condition guarding it (rows: ``RowStore``)."""

    def __init__(
        self,
        path: Path,
        seed: Callable[[Store, sqlite3.Connection], None],
        *,
        read_only: bool | None = None,
    ) -> None:
        self.path = path
        self.cond = threading.Condition(threading.RLock())
        #: Bumped on every write committed through this store (wakes waiters in this process).
        self.writes = 0
        self._scratch: tuple[int, sqlite3.Connection] | None = None
        self._batch: int | None = None  # the thread whose batch is open (``batch``)
        self._batch_wrote = False
        self._rv_read: int | None = None  # the version counter as the batch found it
        self._epoch_version: int | None = None  # data_version when the epoch was last read
        if read_only is None:
            read_only = not_writable(path)
        self.read_only = read_only
        if read_only and not path.is_file():
            raise StateError(
                f"the sandbox database {path} is missing (and its directory is read-only)",
                file=str(path),
                problem="missing",
                fix="use an existing --sandbox DIR, or make the directory writable",
            )
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            target = f"file:{path}?mode=ro" if read_only else str(path)
            self._conn = sqlite3.connect(
                target, timeout=30.0, isolation_level=None, check_same_thread=False, uri=read_only
            )
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot open it") from exc
        try:
            self._identity = identity(path)
            if read_only:
                self._check_readable()
            else:
                self._setup(seed)
            self.epoch = self._epoch(self._conn)
        except BaseException:
            self._conn.close()
            raise

    def _check_readable(self) -> None:
        try:
            self._quick_check()
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc, "cannot read it") from exc
        self._check_version(row)

    def _quick_check(self) -> None:
        """A truncated file can open fine and fail on some later page: find out now, once."""
        problem = self._conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if problem != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {problem}")

    def _check_version(self, row: tuple[Any, ...] | None) -> None:
        if row is None or row[0] != SCHEMA_VERSION:
            raise StateError(
                f"the sandbox database {self.path} has schema version {row[0] if row else 'none'}, "
                f"this pyvela knows version {SCHEMA_VERSION}",
                file=str(self.path),
                fix="use the pyvela version that wrote it, or wipe it with `pyvela sandbox reset`",
            )

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
                    f"the sandbox database {self.path} cannot use WAL mode (got {mode})", file=str(self.path)
                )
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._quick_check()
            with self.write(verify=False) as conn:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if "meta" not in tables:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?), ('rv', 0)", (SCHEMA_VERSION,)
                    )
                    self.new_epoch(conn)
                    seed(self, conn)
                    return
                self._check_version(
                    conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                )
                # Added within schema version 1 (an index changes no reader): a Service's
                # allocations are found without scanning everyone's.
                conn.execute("CREATE INDEX IF NOT EXISTS allocations_owner ON allocations (ns, name)")
                # Dropped within it: indexes of objects by namespace and by uid served only
                # deletions (of a namespace; of an object with several owners), and cost every
                # write a random B-tree insert each (≈ 15 % of a batch's CPU).
                conn.execute("DROP INDEX IF EXISTS objects_ns")
                conn.execute("DROP INDEX IF EXISTS objects_uid")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc, "cannot read it") from exc

    @staticmethod
    def _epoch(conn: sqlite3.Connection) -> str:
        row = conn.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        return "" if row is None else str(row[0])

    def new_epoch(self, conn: sqlite3.Connection) -> None:
        """Mark the cluster as a new one (on creation and reset): other processes notice it."""
        self.epoch = uuid.uuid4().hex
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (self.epoch,))

    def verify(self, conn: sqlite3.Connection | None = None, *, epoch: str | None = None) -> None:
        """StateError unless this is still the database this store opened: not removed, not
        replaced by another file, not reset by another process. Without this check a process
        keeps writing to an unlinked file and reports success for a cluster that is gone.
        ``epoch``: the stored one, when the caller read it already."""
        self._check_file()
        if epoch is None:
            with self.cond:
                try:
                    epoch = self._epoch(conn if conn is not None else self._conn)
                except sqlite3.Error as exc:
                    raise self._error(exc) from exc
        if epoch != self.epoch:
            raise StateError(
                f"the sandbox {self.path.parent} was reset while this process used it: "
                "the objects it applied are gone",
                file=str(self.path),
                problem="reset",
                fix="run the command again (it applies everything to the fresh sandbox)",
            )

    def verify_version(self) -> int:
        """``verify``, and ``data_version``: the stored epoch is read again only when another
        connection has committed since it was last read (a wait checks both on every pass)."""
        with self.cond:
            version = self.data_version()
            if version != self._epoch_version:
                self.verify()
                self._epoch_version = version
            else:
                self._check_file()
            return version

    def _check_file(self) -> None:
        now = identity(self.path)
        if now is None:
            raise StateError(
                f"the sandbox database {self.path} is missing: it was removed while this process used it, "
                "so nothing this process did since is kept",
                file=str(self.path),
                problem="missing",
                fix="run the command again (it starts a fresh sandbox)",
            )
        if now != self._identity:
            raise StateError(
                f"the sandbox database {self.path} was replaced by another file while this process used it",
                file=str(self.path),
                problem="replaced",
                fix="run the command again against the new sandbox",
            )

    # -------------------------------------------------------------------- transactions
    @contextmanager
    def write(self, *, dry_run: bool = False, verify: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); rolled back on error or when ``dry_run``.

        A read-only sandbox still answers dry runs (``diff``): on an in-memory copy.
        """
        if self.read_only and not dry_run:
            raise StateError(
                f"the sandbox database {self.path} is read-only: this command needs to write to it",
                file=str(self.path),
                problem="read-only",
                fix="make the file and its directory writable, or use a writable --sandbox DIR",
            )
        with self.cond:
            if self._batch == threading.get_ident():
                yield from self._savepoint(dry_run)
                return
            conn = self._scratch_copy() if self.read_only else self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            try:
                if verify:
                    self.verify(conn)
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

    def _savepoint(self, dry_run: bool) -> Iterator[sqlite3.Connection]:
        """One write inside a batch: undone alone when it fails, as a request on its own would be.

        Released when it succeeds: a savepoint left open makes every later page change of the
        batch be journaled for it too (measured: a batch of 3 writes cost 20-35 % more)."""
        conn = self._conn
        conn.execute("SAVEPOINT write")
        try:
            yield conn
        except BaseException as exc:
            conn.execute("ROLLBACK TO write")
            conn.execute("RELEASE write")
            Store.forget_rows(conn)  # what the batch remembers may be what was undone
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from exc
            raise
        if dry_run:
            conn.execute("ROLLBACK TO write")
            Store.forget_rows(conn)
        conn.execute("RELEASE write")
        self._batch_wrote = self._batch_wrote or not dry_run

    @contextmanager
    def batch(self) -> Iterator[None]:
        """This thread's writes until the block ends in one transaction: one commit for many.

        Other threads wait for the block to end (the connection is shared). A write that
        fails is undone alone, and the block commits what the others wrote whatever way it
        ends, as a real API server keeps every request it answered; a process killed inside
        the block keeps none of them. ``flush`` ends the batch early (before a wait).
        """
        if self.read_only or self._batch == threading.get_ident():
            yield
            return
        with self.cond:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                # The epoch (is this still our cluster?), the version counter, and whether
                # another connection committed since (``known``): one statement.
                found = dict(self._conn.execute(_BATCH_START).fetchall())
                Store.since(self._conn, int(found["data_version"]))
                self.verify(self._conn, epoch=str(found.get("epoch", "")))
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            self._batch, self._batch_wrote = threading.get_ident(), False
            self._rv_read = None if found.get("rv") is None else int(found["rv"])
            Store._counters[self._conn] = [self._rv_read]
            Store._rows[self._conn] = {}
            try:
                yield
            finally:
                self.flush()

    def flush(self) -> None:
        """Commit this thread's batch now, if it has one; its later writes commit one by one."""
        with self.cond:
            if self._batch != threading.get_ident():
                return
            self._batch = None
            counter = Store._counters.pop(self._conn, [None])[0]
            Store._rows.pop(self._conn, None)
            try:
                if counter is not None and counter != self._rv_read:
                    self._conn.execute("UPDATE meta SET value = ? WHERE key = 'rv'", (counter,))
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                Store.forget_rows(self._conn)
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise self._error(exc) from exc
            if self._batch_wrote:
                self.writes += 1
                self.cond.notify_all()

    def _error(self, exc: sqlite3.Error, doing: str = "failed") -> StateError | TransientError:
        return db_error(self.path, exc, doing)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under ``cond``; SQLite failures become one StateError."""
        with self.cond:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, for single-statement reads under ``cond``."""
        return self._conn

    def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        with self.cond:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _scratch_copy(self) -> sqlite3.Connection:
        """An in-memory copy of the database (taken again after another process writes)."""
        version = self.data_version()
        if self._scratch is None or self._scratch[0] != version:
            if self._scratch is not None:
                self._scratch[1].close()
            copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            try:
                self._conn.backup(copy)
            except sqlite3.Error as exc:
                copy.close()
                raise self._error(exc, "cannot read it") from exc
            self._scratch = (version, copy)
        return self._scratch[1]

    def close(self) -> None:
        with self.cond:
            podindex.forget(self._conn)
            self._conn.close()
            if self._scratch is not None:
                self._scratch[1].close()
                self._scratch = None
