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

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyvela._backends.sandbox import podindex
from pyvela._backends.sandbox.dbfile import identity, not_writable
from pyvela._backends.sandbox.opened import SCHEMA_VERSION, Identity
from pyvela._backends.sandbox.rows import SCHEMA
from pyvela._backends.sandbox.rowstore import RowStore
from pyvela.errors import StateError, TransientError

DB_FILE = "sandbox.db"
#: At most this long (seconds) between a deferred batch's end and its commit.
COMMIT_AFTER = 0.1
_BATCH_START = (
    "SELECT key, value FROM meta WHERE key IN ('epoch', 'rv')"
    " UNION ALL SELECT 'data_version', data_version FROM pragma_data_version"
)


class Store(Identity, RowStore):
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
        self._durable = True  # whether the open batch commits when it ends (``batch``)
        #: A deferred batch's transaction, open with no batch in it: the next batch or write
        #: goes on in it; a durable one, ``commit``, ``close`` or the timer commit it.
        self._pending = False
        self._timer: threading.Timer | None = None
        self._broken: StateError | TransientError | None = None  # a deferred commit that failed
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
            self._check_broken()
            if self._pending:  # a write on its own is kept once answered: it commits what is open
                self._check_file()  # the epoch cannot change: the transaction holds the write lock
                self._batch, self._durable = threading.get_ident(), True
                try:
                    yield from self._savepoint(dry_run)
                finally:
                    self._batch = None
                if not dry_run:
                    self._commit()
                    self.writes += 1
                    self.cond.notify_all()
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
    def batch(self, *, durable: bool = True) -> Iterator[None]:
        """This thread's writes until the block ends in one transaction: one commit for many.

        Other threads wait for the block to end (the connection is shared). A write that
        fails is undone alone, and the block commits what the others wrote whatever way it
        ends, as a real API server keeps every request it answered; a process killed inside
        the block keeps none of them. ``flush`` ends the batch early (before a wait).

        Not ``durable``: the transaction stays open when the block ends, and the batches and
        writes after it go on in it, until a durable batch or a write outside any batch ends,
        ``commit`` or ``close`` is called, or ``COMMIT_AFTER`` seconds have passed (this
        process sees everything at once; other processes see it then). A kill loses what is
        not committed yet, never part of a batch, and never what a durable batch after it
        wrote: what is kept is everything up to some point, in order.
        """
        if self.read_only or self._batch == threading.get_ident():
            self._durable = self._durable or durable
            yield
            return
        with self.cond:
            self._check_broken()
            if self._pending:  # a deferred batch's transaction: nothing else can have written
                self._check_file()
                self._pending = False
                self._batch, self._batch_wrote, self._durable = threading.get_ident(), False, durable
                try:
                    yield
                finally:
                    self.flush()
                return
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
            self._batch, self._batch_wrote, self._durable = threading.get_ident(), False, durable
            self._rv_read = None if found.get("rv") is None else int(found["rv"])
            Store._counters[self._conn] = [self._rv_read]
            Store._rows[self._conn] = {}
            try:
                yield
            finally:
                self.flush()

    def flush(self) -> None:
        """End this thread's batch now, if it has one (committed if durable); its later
        writes commit one by one."""
        with self.cond:
            if self._batch != threading.get_ident():
                return
            self._batch = None
            if self._durable:
                self._commit()
            else:
                self._pending = True
                if self._timer is None:
                    self._timer = threading.Timer(COMMIT_AFTER, self._commit_deferred)
                    self._timer.daemon = True
                    self._timer.start()
            if self._batch_wrote:
                self.writes += 1
                self.cond.notify_all()

    def commit(self) -> None:
        """Commit what deferred batches left open (nothing when none did)."""
        with self.cond:
            if self._pending and self._batch is None:
                self._commit()

    def _commit(self) -> None:
        self._pending = False
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
            # Deferred batches' writes were answered and are lost: nothing after may look kept.
            self._broken = self._error(exc)
            raise self._broken from exc

    def _commit_deferred(self) -> None:
        with self.cond:
            self._timer = None
            with contextlib.suppress(StateError, TransientError):
                self.commit()  # a failure is kept in ``_broken``: the next write or batch raises it

    def _check_broken(self) -> None:
        if self._broken is not None:
            raise self._broken

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
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            try:
                self.commit()
            finally:
                self._close()

    def _close(self) -> None:
        with self.cond:
            podindex.forget(self._conn)
            self._conn.close()
            if self._scratch is not None:
                self._scratch[1].close()
                self._scratch = None
