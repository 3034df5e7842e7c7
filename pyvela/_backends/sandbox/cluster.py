"""What happens to stored objects besides writes: simulated controllers bring their status
up to date, deletion cascades (namespaces, CRDs, owner references), CRDs register kinds."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from pyvela._backends.sandbox import admission as _admission
from pyvela._backends.sandbox.controllers import controller_for
from pyvela._backends.sandbox.kinds import CRD_GROUP, CRD_KIND, SYSTEM_NAMESPACES, kind_from_crd
from pyvela._backends.sandbox.rows import Row, dumps
from pyvela._backends.sandbox.store import Store
from pyvela._core.objects import Obj
from pyvela.errors import ClusterError


def spec_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """What counts as spec for metadata.generation: every top-level field but these."""
    return {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata", "status")}


def owners_of(body: Mapping[str, Any]) -> str:
    refs = body["metadata"].get("ownerReferences")
    uids = (
        [r["uid"] for r in refs if isinstance(r, Mapping) and isinstance(r.get("uid"), str)]
        if isinstance(refs, list)
        else []
    )
    return f" {' '.join(uids)} " if uids else ""


def settle(conn: sqlite3.Connection, row: Row, now: float) -> None:
    """Bring ``row``'s status up to ``now`` and store it (a status change bumps resourceVersion)."""
    if advance(conn, row, now):
        Store.save_status(conn, row)


def advance(conn: sqlite3.Connection, row: Row, now: float) -> bool:
    """``settle`` in memory only (for a row about to be stored whole); whether it changed."""
    controller = controller_for(row.grp, row.kind)
    if controller is None:
        status, nxt = row.status, None
    else:
        try:
            status, nxt = controller(row.body, row.prior, row.applied_at, now, row.sim)
        except Exception as exc:  # a bug in a simulated controller must not look like a hang
            raise ClusterError(f"the sandbox's {row.kind} controller failed: {exc!r}") from exc
    if status != row.status:
        row.status, row.next_change, row.rv = status, nxt, Store.next_rv(conn)
        return True
    if nxt != row.next_change:
        row.next_change = nxt
        return True
    return False


def namespace_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Asked once per batch, not per object (``Store.namespace_exists``)."""
    return Store.namespace_exists(conn, name)


def view(row: Row, now: float) -> None:
    """Bring ``row``'s status up to ``now`` in memory only (a read-only sandbox stores nothing)."""
    controller = controller_for(row.grp, row.kind)
    if controller is not None:
        try:
            row.status, row.next_change = controller(row.body, row.prior, row.applied_at, now, row.sim)
        except Exception as exc:
            raise ClusterError(f"the sandbox's {row.kind} controller failed: {exc!r}") from exc


_POD_DEPENDENTS = "pod_dependents"


def note_owners(conn: sqlite3.Connection, body: Mapping[str, Any]) -> None:
    """Remember (for good) that some object is owned by a Pod, so deleting Pods looks for dependents."""
    refs = body["metadata"].get("ownerReferences")
    if isinstance(refs, list) and any(isinstance(r, Mapping) and r.get("kind") == "Pod" for r in refs):
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, 1)", (_POD_DEPENDENTS,))


def _pods_own_objects(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM meta WHERE key=?", (_POD_DEPENDENTS,)).fetchone() is not None


def install_crd(conn: sqlite3.Connection, body: Obj) -> None:
    kind = kind_from_crd(body)
    name = body["metadata"]["name"]
    conn.execute("DELETE FROM crd_kinds WHERE crd=?", (name,))
    conn.execute(
        "INSERT OR REPLACE INTO crd_kinds VALUES (?, ?, ?, ?, ?, ?)",
        (kind.group, kind.kind, dumps(list(kind.versions)), int(kind.namespaced), kind.plural, name),
    )


def remove_orphaning(conn: sqlite3.Connection, row: Row) -> None:
    """Delete ``row`` alone (propagationPolicy Orphan): its dependents stay, without the
    owner reference to it, as the garbage collector leaves them."""
    for dependent in Store.select(conn, "owners LIKE ?", (f"% {row.uid} %",)):
        meta = dependent.body["metadata"]
        refs = [
            r
            for r in meta.get("ownerReferences") or []
            if not (isinstance(r, Mapping) and r.get("uid") == row.uid)
        ]
        if refs:
            meta["ownerReferences"] = refs
        else:
            meta.pop("ownerReferences", None)
        dependent.owners, dependent.rv = owners_of(dependent.body), Store.next_rv(conn)
        Store.save(conn, dependent)
    remove(conn, row)


def remove(conn: sqlite3.Connection, row: Row) -> None:
    if row.grp == "" and row.kind == "Namespace":
        Store.forget_rows(conn)  # the namespaces known to exist, with the rows remembered
        if row.name in SYSTEM_NAMESPACES:
            raise ClusterError(
                f'namespaces "{row.name}" is forbidden: this namespace may not be deleted',
                object=f"Namespace {row.name}",
            )
        for inner in Store.select(conn, "ns=?", (row.name,)):
            remove(conn, inner)
    if row.grp == CRD_GROUP and row.kind == CRD_KIND:
        for grp, kind in conn.execute("SELECT grp, kind FROM crd_kinds WHERE crd=?", (row.name,)).fetchall():
            for inner in Store.select(conn, "grp=? AND kind=?", (grp, kind)):
                remove(conn, inner)
        conn.execute("DELETE FROM crd_kinds WHERE crd=?", (row.name,))
    if row.grp == "" and row.kind == "Service":
        _admission.release(conn, row.ns, row.name)
    Store.delete(conn, row)
    if row.grp == "" and row.kind == "Pod" and not _pods_own_objects(conn):
        return  # finding dependents scans every object: skipped for the many Pods that own none
    for dependent in Store.select(conn, "owners LIKE ?", (f"% {row.uid} %",)):
        others = [uid for uid in dependent.owners.split() if uid != row.uid]
        if not any(conn.execute("SELECT 1 FROM objects WHERE uid=?", (uid,)).fetchone() for uid in others):
            remove(conn, dependent)
