"""The objects a revision applied, with their manifests (for prune, delete, rollback and diff)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from pyvela._core.objects import Obj, ObjectRef, deep_copy

P = ParamSpec("P")
T = TypeVar("T")


def in_batch(backend: Any, apply: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``apply(...)`` with its writes in one batch where the backend offers one (the sandbox:
    one transaction, so a component's objects cost one commit and a kill keeps none of them)."""
    batch = getattr(backend, "batch", None)
    if batch is None:
        return apply(*args, **kwargs)
    with batch():
        return apply(*args, **kwargs)


def in_open_batch(backend: Any, apply: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``in_batch``, its commit left to a later one (``protocol.Batching``, ``durable=False``): for
    a component's objects, which the state record's save after them commits, before it says
    they were applied. A kill keeps a prefix of the writes: the step, its outcome unsaved,
    runs again."""
    batch = getattr(backend, "batch", None)
    if batch is None:
        return apply(*args, **kwargs)
    with batch(durable=False):
        return apply(*args, **kwargs)


class TrackedList(list[Any]):
    """A list that notes which positions were set since the state record last took them.

    So a save re-encodes only the record's chunks that hold new or replaced entries: finding
    them by comparing every entry made each save cost as much as the whole inventory.
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._lock = threading.Lock()
        self._changed: set[int] = set()

    def put(self, at: int | None, item: Any) -> int:
        """Replace the item at ``at`` (append when None); its position."""
        with self._lock:
            if at is None:
                at = len(self)
                self.append(item)
            else:
                self[at] = item
            self._changed.add(at)
            return at

    def take(self) -> tuple[int, set[int]]:
        """How many items there are, and the positions set since the last take."""
        with self._lock:
            changed, self._changed = self._changed, set()
            return len(self), changed


#: An entry's key: its cluster (None: the control cluster, where the record is) and its object.
Key = tuple[str | None, ObjectRef]


def entry_key(entry: Mapping[str, Any]) -> Key:
    """The key of an inventory (or planned, or retained) entry."""
    return entry.get("cluster"), ObjectRef.from_dict(entry["ref"])


class Inventory:
    """Entries in the order their objects were first applied; re-applying one replaces it.

    An object of another cluster than the control cluster (a topology's) has its entry's
    ``cluster``; :meth:`on` is the inventory of one such cluster (what its executor records).
    """

    def __init__(self, entries: list[dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._data = TrackedList()
        self._at: dict[Key, int] = {}
        self.cluster: str | None = None
        for e in entries or []:
            key = entry_key(e)
            self._at[key] = self._data.put(self._at.get(key), e)

    def on(self, cluster: str | None) -> Inventory:
        """This inventory as one cluster's: entries it adds carry ``cluster`` (None: the control's)."""
        view = Inventory.__new__(Inventory)
        view._lock, view._data, view._at, view.cluster = self._lock, self._data, self._at, cluster
        return view

    def add(
        self,
        ref: ObjectRef,
        *,
        component: str | None,
        trait: str | None,
        manifest: Obj,
        patch: Mapping[str, Any] | None = None,
        step: str | None = None,
        owned: bool = False,
        **extra: Any,
    ) -> None:
        """``owned``: the caller hands ``manifest`` over (a render applied once, nothing changes
        it afterwards), so it is kept as it is; else the entry keeps its own copy."""
        # Replaced whole, never changed in place: the record re-encodes chunks with new entries.
        entry: dict[str, Any] = {
            "ref": ref.to_dict(),
            "component": component,
            "trait": trait,
            # Its own copy unless handed over: the caller's object goes on to the cluster.
            "manifest": manifest if owned else deep_copy(manifest),
        }
        if self.cluster is not None:
            entry["cluster"] = self.cluster
        if step is not None:
            entry["step"] = step  # so `status` can list what an interrupted step applied
        if patch:
            entry["patch"] = deep_copy(dict(patch))  # a step's workload patch, replayed by `diff`
        entry.update(extra)
        key = (self.cluster, ref)
        with self._lock:
            self._at[key] = self._data.put(self._at.get(key), entry)

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The entry of ``ref`` (who applied it: component, trait, step), if it was applied."""
        with self._lock:
            at = self._at.get((self.cluster, ref))
            entry: dict[str, Any] | None = None if at is None else self._data[at]
            return entry

    def mark(self, ref: ObjectRef, **fields: Any) -> None:
        """Note ``fields`` on the entry of ``ref`` (a copy replaces it, so the record saves it)."""
        key = (self.cluster, ref)
        with self._lock:
            at = self._at.get(key)
            if at is not None:
                self._data.put(at, {**self._data[at], **fields})

    def to_data(self) -> list[dict[str, Any]]:
        """The entries: a list the state record keeps (and encodes by its changes)."""
        return self._data
