"""The checks that a sandbox store still has the database it opened: its schema version, the
file (not removed, not replaced), and the cluster's epoch (not reset by another process)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from pyvela._backends.sandbox.dbfile import db_error, identity
from pyvela.errors import StateError, TransientError

SCHEMA_VERSION = 1


class Identity:
    """Mixed into ``Store``: what it opened, and the checks that it still has it."""

    path: Path
    epoch: str
    cond: threading.Condition
    _conn: sqlite3.Connection
    _identity: Any
    _epoch_version: int | None

    def _error(self, exc: sqlite3.Error, doing: str = "failed") -> StateError | TransientError:
        return db_error(self.path, exc, doing)

    def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        with self.cond:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

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
