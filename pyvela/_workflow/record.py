"""How the state record is laid out in the cluster: a small index and its parts.

A revision of a large app holds thousands of step states and inventory entries with full
manifests; ten of them are far beyond the 1 MiB a real API server accepts in one object,
and rewriting all of it on every scheduling round made a run's cost quadratic. So each
revision's big values (``BIG``) are cut into chunks of a fixed number of items, each in a
Secret of its own, ``pyvela-app.<app>.<revision>.<key>.<i>``. The index (the Secret
``pyvela-app.<app>``) keeps the small per-revision fields and how many chunks each value
has. Every object is written with a resourceVersion precondition, the index on every save.

A save writes only the chunks whose content changed, then the index; parts the index no
longer lists (a trimmed revision) are deleted after it. A run killed between a part and
the index leaves a part newer than its index: step states that were about to be saved,
which a resume treats like any other saved state, since nothing acts on a transition
before its save returns.
"""

from __future__ import annotations

import json
import operator
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from pyvela._workflow.inventory import TrackedList
from pyvela._workflow.recordparts import LABEL_STATE_OF as LABEL_STATE_OF
from pyvela._workflow.recordparts import PART_TYPE as PART_TYPE
from pyvela._workflow.recordparts import digest_of, dumps

#: A revision's values that are stored as parts; every other field stays in the index.
BIG = ("steps", "inventory", "planned", "spec")
#: Items per part: small enough that a save re-encodes little, large enough to keep the
#: number of objects modest (a part of 100 inventory entries is ~20 KiB gzipped).
CHUNK = 100
#: Serialized JSON per part for values stored as text (the app spec).
TEXT_CHUNK = 256 * 1024
#: The index-only field of each revision that ``pyvela ls`` reads (see ``summary_of``).
SUMMARY = "summary"


class _Split:
    """One big value as stored: its chunks' digests, and what they were made of."""

    def __init__(
        self, owner: Any, key: str, value: Any, kind: str, digests: list[str], members: list[tuple[Any, ...]]
    ) -> None:
        self.owner = owner  # the revision, held so the id() this split is cached under stays its own
        self.value = value
        self.kind = kind
        self.digests = digests
        self.members = members  # per chunk: the items (steps: names) it holds
        self.position: dict[str, int] = {}
        if kind == "dict":
            self.position = {n: i for i, chunk in enumerate(members) for n in chunk}

        self.names = [_name(owner, key, i) for i in range(len(digests))]
        # Tracked lists: per chunk, each position's item and its JSON, as the last save
        # encoded them (so a dirty chunk re-encodes only the items that changed).
        self.encoded: list[list[tuple[Any, bytes]]] = []

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "parts": len(self.digests)}


class Layout:
    """Splits records into parts, remembering what was stored so a save re-encodes only changes."""

    def __init__(self) -> None:
        self._splits: dict[tuple[int, str], _Split] = {}
        self.new: dict[str, bytes] = {}  # part name -> JSON this save must write
        self.stored: dict[str, str] = {}  # part name -> digest of what the cluster holds
        self._wrote: dict[str, str] = {}
        # id -> (item, its JSON) for items of chunks encoded by the last save (items held, so
        # an id cannot be reused while cached).
        self._items: dict[int, tuple[Any, bytes]] = {}
        self._items_now: dict[int, tuple[Any, bytes]] = {}
        self._summary: tuple[Any, dict[str, Any]] | None = None  # (the latest revision, its last summary)

    def _store(self, name: str, chunk: Any, raw: bytes | None = None) -> str:
        raw = dumps(chunk) if raw is None else raw
        digest = digest_of(raw)
        if self.stored.get(name) != digest:
            self.new[name] = raw
            self._wrote[name] = digest
        return digest

    def saved(self) -> None:
        """The parts of the last ``index`` are in the cluster."""
        self.stored.update(self._wrote)
        self._wrote = {}

    def index(
        self, record: Mapping[str, Any], latest_changed: Collection[str] | None
    ) -> tuple[dict[str, Any], set[str]]:
        """The index for ``record`` and every digest it refers to; new parts land in ``new``.

        Revisions other than the latest are never changed once a later one exists, so their
        values are split once and reused by identity. The latest revision's steps are
        re-encoded only in the chunks of ``latest_changed`` (all of them when None); its
        inventory chunks whenever an entry in them was added or replaced.
        """
        self.new, self._wrote = {}, {}
        self._items_now = {}
        revisions = list(record["revisions"])
        out_revs = []
        used: set[str] = set()
        splits: dict[tuple[int, str], _Split] = {}
        for rev in revisions:
            latest = rev is revisions[-1]
            meta = {k: v for k, v in rev.items() if k not in BIG}
            if latest:
                meta[SUMMARY] = self._summarize(rev, full=latest_changed is None)
            parts = {}
            for key in BIG:
                if key not in rev:
                    continue
                split = self._split(rev, key, latest_changed if latest else (), frozen=not latest)
                splits[id(rev), key] = split
                parts[key] = split.spec()
                used.update(split.names)
            meta["parts"] = parts
            out_revs.append(meta)
        self._splits = splits
        if self._items_now:  # a save that encoded no list item keeps the cache as it was
            self._items, self._items_now = self._items_now, {}
        index = {k: v for k, v in record.items() if k != "revisions"}
        index["revisions"] = out_revs
        return index, used

    def _summarize(self, rev: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
        """The latest revision's counts for ``pyvela ls``, so it reads indexes, never parts.

        Step phases are counted on every save (a C-level pass over the steps); the kinds of
        the planned and applied objects (what ``ls`` lists to judge them) only on a full save
        (a revision's start and end), otherwise carried over from the last one.
        """
        steps = rev.get("steps") or {}
        try:
            phases = dict(Counter(map(operator.itemgetter("phase"), steps.values())))
        except (KeyError, TypeError, AttributeError):
            phases = dict(Counter(str((s or {}).get("phase")) for s in steps.values()))
        inventory = rev.get("inventory") or []
        known = self._summary[1] if self._summary is not None and self._summary[0] is rev else None
        if full or not isinstance(known, Mapping) or "kinds" not in known:
            refs = [e.get("ref") or {} for e in (*(rev.get("planned") or ()), *inventory)]
            kinds = {(r.get("apiVersion", ""), r.get("kind", ""), r.get("namespace") or "") for r in refs}
            kinds_list = [list(k) for k in sorted(kinds)]
        else:
            kinds_list = list(known["kinds"])
        summary = {
            "steps": len(steps),
            "phases": phases,
            "objects": len(inventory),
            "kinds": kinds_list,
            "saved": _now(),
        }
        self._summary = (rev, summary)
        return summary

    def _split(
        self, rev: dict[str, Any], key: str, changed: Collection[str] | None, *, frozen: bool
    ) -> _Split:
        value = rev[key]
        old = self._splits.get((id(rev), key))
        if old is not None and old.owner is not rev:
            old = None
        if old is not None and old.value is value and (frozen or key in ("spec", "planned")):
            return old  # earlier revisions, the app spec and the plan never change once recorded
        if isinstance(value, dict) and key == "steps":
            return self._split_dict(rev, value, old, changed)
        if isinstance(value, list) and key != "spec":
            return self._split_list(rev, key, value, old)
        text = dumps(value).decode()
        pieces = [text[i : i + TEXT_CHUNK] for i in range(0, len(text), TEXT_CHUNK)] or [""]
        digests = [self._store(_name(rev, key, i), p) for i, p in enumerate(pieces)]
        return _Split(rev, key, value, "text", digests, [(p,) for p in pieces])

    def _split_dict(
        self, rev: Any, value: dict[str, Any], old: _Split | None, changed: Collection[str] | None
    ) -> _Split:
        names = list(value)
        if old is None or old.value is not value or changed is None or len(old.position) != len(names):
            members = [tuple(names[i : i + CHUNK]) for i in range(0, len(names), CHUNK)]
            digests = [
                self._store(_name(rev, "steps", i), {n: value[n] for n in m}) for i, m in enumerate(members)
            ]
            return _Split(rev, "steps", value, "dict", digests, members)
        dirty = {old.position[n] for n in changed if n in old.position}
        digests = list(old.digests)
        for i in dirty:
            digests[i] = self._store(_name(rev, "steps", i), {n: value[n] for n in old.members[i]})
        old.digests = digests
        return old

    def _split_list(self, rev: Any, key: str, value: list[Any], old: _Split | None) -> _Split:
        if isinstance(value, TrackedList):
            return self._split_tracked(rev, key, value, old)
        members = [tuple(value[i : i + CHUNK]) for i in range(0, len(value), CHUNK)]
        digests = []
        for i, m in enumerate(members):
            # Items are never mutated once listed (inventory entries are replaced whole),
            # so a chunk whose items are the same objects is the same part.
            if old is not None and i < len(old.members) and _same(old.members[i], m):
                digests.append(old.digests[i])
            elif old is None:  # split once (the plan, older revisions): the chunk in one call
                digests.append(self._store(_name(rev, key, i), list(m)))
            else:
                raw = b"[" + b",".join(self._item(x) for x in m) + b"]"  # what dumps(list(m)) gives
                digests.append(self._store(_name(rev, key, i), None, raw))
        return _Split(rev, key, value, "list", digests, members)

    def _split_tracked(self, rev: Any, key: str, value: TrackedList, old: _Split | None) -> _Split:
        count, changed = value.take()
        chunks = -(-count // CHUNK)
        encoded: list[list[tuple[Any, bytes]]]
        if old is None or old.value is not value or len(old.digests) > chunks:
            dirty = set(range(chunks))
            digests = [""] * chunks
            encoded = [[] for _ in range(chunks)]
        else:
            dirty = {i // CHUNK for i in changed if i < count} | set(range(len(old.digests), chunks))
            digests = old.digests + [""] * (chunks - len(old.digests))
            encoded = old.encoded + [[] for _ in range(chunks - len(old.encoded))]
        for i in sorted(dirty):
            m = value[i * CHUNK : min(count, (i + 1) * CHUNK)]
            known = encoded[i]
            now = [
                known[j] if j < len(known) and known[j][0] is x else (x, self._entry(x, known, j))
                for j, x in enumerate(m)
            ]
            encoded[i] = now
            raw = b"[" + b",".join(e[1] for e in now) + b"]"  # what dumps(m) gives
            digests[i] = self._store(_name(rev, key, i), None, raw)
        (split := _Split(rev, key, value, "list", digests, [])).encoded = encoded
        return split

    @staticmethod
    def _entry(item: Any, known: list[tuple[Any, bytes]], j: int) -> bytes:
        """``item``'s JSON; from that of the item it replaced when it is that one with fields
        added at its end (``Inventory.mark``): a workload's entry is not encoded again whole."""
        if j < len(known):
            before, raw = known[j]
            added = _added(before, item)
            if added:
                tail = b",".join(dumps(k) + b":" + dumps(v) for k, v in added)
                return raw[:-1] + b"," + tail + b"}"
        return dumps(item)

    def _item(self, item: Any) -> bytes:
        """One list item's JSON, encoded once: a growing inventory re-encodes only its new entries."""
        known = self._items.get(id(item))
        if known is None or known[0] is not item:
            known = self._items[id(item)] = (item, dumps(item))
        self._items_now[id(item)] = known
        return known[1]

    def assemble(
        self,
        index: Mapping[str, Any],
        read: Callable[[str], tuple[Any, str]],
        *,
        only: Collection[int] | None = None,
    ) -> dict[str, Any]:
        """The record from its index; ``read(name)`` gives a part's value and digest.

        With ``only``, the revisions whose numbers are not in it keep their index fields
        alone (no steps, inventory, plan or spec), and none of their parts is read.
        """
        record = {k: v for k, v in index.items() if k != "revisions"}
        revisions = []
        splits: dict[tuple[int, str], _Split] = {}
        for meta in index["revisions"]:
            rev = {k: v for k, v in meta.items() if k not in ("parts", SUMMARY)}
            if meta is index["revisions"][-1] and isinstance(meta.get(SUMMARY), Mapping):
                self._summary = (rev, dict(meta[SUMMARY]))  # an index field only: not in the record
            if only is not None and rev.get("number") not in only:
                revisions.append(rev)
                continue
            for key, spec in (meta.get("parts") or {}).items():
                names = [_name(rev, key, i) for i in range(int(spec["parts"]))]
                read_back = [read(n) for n in names]
                chunks = [c for c, _ in read_back]
                digests = [d for _, d in read_back]
                self.stored.update(zip(names, digests, strict=True))
                value: Any
                if spec["kind"] == "dict":
                    value = {}
                    for c in chunks:
                        value.update(c)
                    members = [tuple(c) for c in chunks]
                elif spec["kind"] == "list":
                    value = [item for c in chunks for item in c]
                    members, at = [], 0
                    for c in chunks:
                        members.append(tuple(value[at : at + len(c)]))
                        at += len(c)
                else:
                    value = json.loads("".join(chunks))
                    members = [(c,) for c in chunks]
                rev[key] = value
                splits[id(rev), key] = _Split(rev, key, value, spec["kind"], digests, members)
            revisions.append(rev)
        record["revisions"] = revisions
        self._splits = splits
        return record


def summary_of(rev: Mapping[str, Any]) -> dict[str, Any]:
    """The summary the index keeps of ``rev`` (for a record written before there was one)."""
    return Layout()._summarize(rev, full=True)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _name(rev: Mapping[str, Any], key: str, i: int) -> str:
    return f"{rev['number']}.{key}.{i}"


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))  # in C: run on every save


def _added(before: Any, after: Any) -> list[tuple[str, Any]] | None:
    """The items ``after`` has beyond ``before`` when it is ``before`` (same keys in the same
    order, the same value objects) followed by them, all with string keys; else None."""
    if type(before) is not dict or type(after) is not dict or not before or len(after) <= len(before):
        return None
    rest = iter(after.items())
    for (k, v), (k2, v2) in zip(before.items(), rest, strict=False):  # rest is longer: kept
        if k != k2 or v is not v2:
            return None
    added = list(rest)
    return added if all(type(k) is str for k, _ in added) else None
