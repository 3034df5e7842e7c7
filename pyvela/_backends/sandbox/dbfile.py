"""The sandbox database as a file: is it still the one we opened, can we write it, what is
wrong with it when SQLite fails, and moving a corrupt one aside (never deleting it)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from pyvela.errors import StateError, TransientError


def identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def not_writable(path: Path) -> bool:
    """A sandbox whose file (or, before it exists, directory) cannot be written is opened read-only."""
    if path.exists():
        return not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK)
    return path.parent.is_dir() and not os.access(path.parent, os.W_OK)


def db_error(path: Path, exc: sqlite3.Error, doing: str = "failed") -> StateError | TransientError:
    """One error per SQLite failure, naming the file and what is wrong with it."""
    text, where = str(exc), str(path)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return TransientError(f"the sandbox database {where} is busy: {exc}", file=where)
    if "readonly" in text or "read-only" in text:
        return StateError(
            f"the sandbox database {where} is read-only: {exc}",
            file=where,
            problem="read-only",
            fix="make the file and its directory writable, or use a writable --sandbox DIR",
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text or "no such table" in text
    ):
        return StateError(
            f"the sandbox database {where} is corrupt ({doing}: {exc})",
            file=where,
            problem="corrupt",
            fix="`pyvela sandbox reset` moves it aside and starts a fresh sandbox",
        )
    if not path.exists():
        return StateError(
            f"the sandbox database {where} is missing ({doing}: {exc})",
            file=where,
            problem="missing",
            fix="check the --sandbox directory, or run the command again to create a fresh sandbox",
        )
    return StateError(f"the sandbox database {where} {doing}: {exc}", file=where)


def move_aside(db: Path) -> Path:
    """Rename a corrupt database (and its WAL files) to ``<name>.corrupt-<time>``; the new name."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = db.with_name(f"{db.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target, n = db.with_name(f"{db.name}.corrupt-{stamp}-{n}"), n + 1
    try:
        db.rename(target)
        for suffix in ("-wal", "-shm"):
            side = db.with_name(db.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise StateError(
            f"cannot move the corrupt sandbox database {db} aside: {exc}",
            file=str(db),
            problem="corrupt",
            fix=f"move {db} away by hand, then run `pyvela sandbox reset` again",
        ) from exc
    return target
