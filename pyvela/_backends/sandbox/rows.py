"""The sandbox database's tables, and one stored object as the code sees it (a row of ``objects``)."""

from __future__ import annotations

import functools
import json
from typing import Any

import attrs

from pyvela._backends.sandbox.settings import Sim
from pyvela._core.objects import Obj

SCHEMA = """
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
CREATE INDEX objects_due ON objects (next_change) WHERE next_change IS NOT NULL;
CREATE TABLE crd_kinds (
    grp TEXT NOT NULL, kind TEXT NOT NULL, versions TEXT NOT NULL, namespaced INTEGER NOT NULL,
    plural TEXT NOT NULL, crd TEXT NOT NULL, PRIMARY KEY (grp, kind)
);
CREATE TABLE allocations (value TEXT PRIMARY KEY, ns TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS allocations_owner ON allocations (ns, name);
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
TABLES = ("objects", "crd_kinds", "allocations", "config_items", "config_releases")


#: ``json.dumps(value, separators=..., ensure_ascii=False)`` builds this encoder on every call:
#: made once, each object's text costs 15-40 % less, the same text (encode is thread-safe).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


class SharedPart(dict[str, Any]):
    """A part of several objects a controller makes at once (the spec a workload's Pods share):
    read-only while they are written in one transaction, so its text is encoded once for all."""

    text: str | None = None


def dumps_body(body: Obj) -> str:
    """``dumps(body)``, the same text, with a shared ``spec`` (its last field) encoded once."""
    spec = body.get("spec")
    if type(spec) is not SharedPart or next(reversed(body)) != "spec":
        return dumps(body)
    if spec.text is None:
        spec.text = dumps(spec)
    head = dumps({k: v for k, v in body.items() if k != "spec"})
    return f'{head[:-1]}{"," if len(head) > 2 else ""}"spec":{spec.text}}}'


@functools.lru_cache(maxsize=64)
def _sim_text(sim: Sim) -> str:
    """A Sim's column (attrs' asdict was a tenth of storing a Pod; a run has a handful of Sims)."""
    return dumps(sim.to_json())


def _text(value: Any) -> str:
    """A lazily decoded column as stored: unchanged text, or the value encoded."""
    if isinstance(value, str):
        return value
    return _sim_text(value) if isinstance(value, Sim) else dumps(value)


@attrs.define
class Row:
    """One stored object: its body (without status and resourceVersion) and controller state.

    ``prior`` and ``sim`` stay as stored (JSON text) until used: a read of thousands of
    objects (``status``, a list) needs their bodies and status only.
    """

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
    _prior: Obj | str
    _sim: Sim | str
    applied_at: float
    next_change: float | None
    id: int | None = None

    @property
    def prior(self) -> Obj:
        if isinstance(self._prior, str):
            self._prior = json.loads(self._prior)
        assert not isinstance(self._prior, str)
        return self._prior

    @prior.setter
    def prior(self, value: Obj) -> None:
        self._prior = value

    @property
    def sim(self) -> Sim:
        if isinstance(self._sim, str):
            self._sim = Sim.from_json(json.loads(self._sim))
        return self._sim

    @sim.setter
    def sim(self, value: Sim) -> None:
        self._sim = value

    def stored(self) -> tuple[str, str]:
        """``prior`` and ``sim`` as the table stores them (text never decoded stays as it was)."""
        return _text(self._prior), _text(self._sim)

    @classmethod
    def from_db(cls, r: tuple[Any, ...]) -> Row:
        return cls(
            id=r[0], grp=r[1], kind=r[2], ns=r[3], name=r[4], uid=r[5], rv=r[6], generation=r[7],
            owners=r[8], body=json.loads(r[9]), status=None if r[10] is None else json.loads(r[10]),
            prior=r[11], sim=r[12], applied_at=r[13], next_change=r[14],
        )  # fmt: skip

    def to_obj(self) -> Obj:
        """The object as the API shows it. Rows are never cached: this hands over ``body``."""
        obj = self.body
        obj["metadata"]["resourceVersion"] = str(self.rv)
        if self.status is not None:
            obj["status"] = self.status
        return obj
