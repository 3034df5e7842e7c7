"""Which sandbox Pods may carry some labels: an in-memory index per connection, so a list of
Pods by label selector (a workload's wait looks at its Pods on every pass) reads those Pods
alone, not every Pod of the namespace (which made slow-readiness deploys of thousands of
workloads quadratic).

The index is a superset: every Pod that exists, under each of its labels; it may also name
Pods since deleted or relabelled (the caller reads each candidate and filters by its labels,
as before). It is built from the committed rows, outside any transaction, and stays true
because every Pod this connection stores is added to it (``noted``: a rolled-back write only
leaves extra candidates, nothing is ever removed) and it is built again when another
connection has committed (``PRAGMA data_version`` moved), or when it holds many stale names.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

#: Names added since the build, beyond which the index is rebuilt (it only grows meanwhile).
_REBUILD_AFTER = 20_000


class PodIndex:
    def __init__(self, version: int, pods: list[tuple[str, str, Any]]) -> None:
        self.version = version
        self.size = len(pods)
        self.added = 0
        self._by_label: dict[tuple[str, str, str], set[str]] = {}
        for ns, name, labels in pods:
            self.add(ns, name, labels)
        self.added = 0

    def add(self, ns: str, name: str, labels: Any) -> None:
        if isinstance(labels, Mapping):
            for key, value in labels.items():
                if isinstance(key, str) and isinstance(value, str):
                    self._by_label.setdefault((ns, key, value), set()).add(name)
        self.added += 1

    def candidates(self, ns: str, labels: Mapping[str, str]) -> set[str]:
        found: set[str] | None = None
        for key, value in labels.items():
            names = self._by_label.get((ns, key, value), set())
            found = set(names) if found is None else found & names
            if not found:
                return set()
        return found or set()


_INDEXES: dict[sqlite3.Connection, PodIndex] = {}


def noted(conn: sqlite3.Connection, ns: str, name: str, body: Mapping[str, Any]) -> None:
    """A Pod ``conn`` stored (created or changed, committed or not)."""
    index = _INDEXES.get(conn)
    if index is not None:
        metadata = body.get("metadata")
        index.add(ns, name, metadata.get("labels") if isinstance(metadata, Mapping) else None)


def forget(conn: sqlite3.Connection) -> None:
    _INDEXES.pop(conn, None)


def candidates(conn: sqlite3.Connection, ns: str, labels: Mapping[str, str]) -> set[str] | None:
    """Names of the Pods of ``ns`` that may have ``labels`` (more, never fewer), or None when
    the index cannot say now (it needs building and ``conn`` is inside a transaction)."""
    version = int(conn.execute("PRAGMA data_version").fetchone()[0])
    index = _INDEXES.get(conn)
    if index is None or index.version != version or index.added > _REBUILD_AFTER + index.size:
        if conn.in_transaction:  # rows this transaction deleted would be missing after a rollback
            return None
        index = _INDEXES[conn] = PodIndex(version, _labels(conn))
    return index.candidates(ns, labels)


def _labels(conn: sqlite3.Connection) -> list[tuple[str, str, Any]]:
    try:  # the labels' text alone, cut out by SQLite's JSON functions where it has them
        labels = "json_extract(body, '$.metadata.labels')"
        query = f"SELECT ns, name, {labels} FROM objects WHERE grp='' AND kind='Pod'"
        return [(ns, name, json.loads(text or "null")) for ns, name, text in conn.execute(query)]
    except sqlite3.OperationalError:
        query = "SELECT ns, name, body FROM objects WHERE grp='' AND kind='Pod'"
        pods = [(ns, name, json.loads(body).get("metadata") or {}) for ns, name, body in conn.execute(query)]
        return [(ns, name, metadata.get("labels")) for ns, name, metadata in pods]
