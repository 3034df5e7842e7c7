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


class Inventory:
    """Entries in the order their objects were first applied; re-applying one replaces it."""

    def __init__(self, entries: list[dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._data = TrackedList()
        self._at: dict[ObjectRef, int] = {}
        for e in entries or []:
            ref = ObjectRef.from_dict(e["ref"])
            self._at[ref] = self._data.put(self._at.get(ref), e)

    def add(
        self,
        ref: ObjectRef,
        *,
        component: str | None,
        trait: str | None,
        manifest: Obj,
        patch: Mapping[str, Any] | None = None,
        step: str | None = None,
    ) -> None:
        # Replaced whole, never changed in place: the record re-encodes chunks with new entries.
        entry: dict[str, Any] = {
            "ref": ref.to_dict(),
            "component": component,
            "trait": trait,
            "manifest": deep_copy(manifest),  # its own copy: the caller's object goes on to the cluster
        }
        if step is not None:
            entry["step"] = step  # so `status` can list what an interrupted step applied
        if patch:
            entry["patch"] = deep_copy(dict(patch))  # a step's workload patch, replayed by `diff`
        with self._lock:
            self._at[ref] = self._data.put(self._at.get(ref), entry)

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The entry of ``ref`` (who applied it: component, trait, step), if it was applied."""
        with self._lock:
            at = self._at.get(ref)
            entry: dict[str, Any] | None = None if at is None else self._data[at]
            return entry

    def to_data(self) -> list[dict[str, Any]]:
        """The entries: a list the state record keeps (and encodes by its changes)."""
        return self._data
