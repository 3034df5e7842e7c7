"""Every app pyvela manages on a target (``pyvela ls``, the dashboard), and finding one by name.

The listing reads only the state records' indexes (one list of Secrets), never their
parts: each index carries its latest revision's summary (``record.summary_of``). How many
of an app's objects are ready is judged on live objects listed once per kind for all apps
(by pyvela's label), not read one app at a time, so the cost grows with the kinds, not
with the apps. A record written before summaries existed is read in full, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from pyvela._backends.protocol import Backend
from pyvela._backends.readiness import rule_for
from pyvela._core.leases import held_by
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, Obj
from pyvela._workflow.record import PART_TYPE, SUMMARY, summary_of
from pyvela._workflow.state import LEASE_SECONDS, STATE_TYPE, StateStore, decode, lease_ref, state_ref
from pyvela.errors import NotFoundError, PyvelaError, UnknownKindError

#: The name every state record's index has: ``pyvela-app.<app>``.
PREFIX = "pyvela-app."
#: Step phases that count as done in ``steps done/total``.
DONE_PHASES = ("succeeded", "skipped")


@attrs.frozen(kw_only=True)
class AppRow:
    """One app as ``pyvela ls`` shows it.

    Attributes:
        name, namespace: The app, and the namespace of its state record.
        revision: Its latest revision's number (0: the record holds none).
        kind: ``deploy``, ``rollback`` or ``adopt``.
        phase: The latest revision's phase; ``interrupted`` when it says running but no
            live process holds the app's Lease; ``unreadable`` when the record cannot be read.
        steps_done, steps_failed, steps_skipped, steps_total: Steps finished without failing
            (succeeded or skipped), failed, skipped (by a condition or a failed dependency), in all.
        objects_ready, objects_total: Applied objects whose kind's rule says ready now, of
            those the revision applied (``status`` judges each by its definition's rule too).
        last_change: When the record was last written (ISO 8601, UTC).
        message: The revision's message (failed steps), or why the record cannot be read.
    """

    name: str
    namespace: str
    revision: int = 0
    kind: str = ""
    phase: str = ""
    steps_done: int = 0
    steps_failed: int = 0
    steps_skipped: int = 0
    steps_total: int = 0
    objects_ready: int = 0
    objects_total: int = 0
    last_change: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "revision": self.revision,
            "kind": self.kind,
            "phase": self.phase,
            "steps": {
                "done": self.steps_done,
                "failed": self.steps_failed,
                "skipped": self.steps_skipped,
                "total": self.steps_total,
            },
            "objects": {"ready": self.objects_ready, "total": self.objects_total},
            "lastChange": self.last_change,
            "message": self.message,
        }


def state_indexes(backend: Backend, namespace: str | None = None) -> list[tuple[str, str, Obj]]:
    """``(app, namespace, index Secret)`` of every state record (all namespaces when None)."""
    found = backend.list("v1", "Secret", namespace, {LABEL_MANAGED_BY: MANAGER, "owner": MANAGER})
    out = []
    for o in found:
        meta = o.get("metadata") or {}
        name, app = str(meta.get("name") or ""), (meta.get("labels") or {}).get(LABEL_APP)
        if o.get("type") == STATE_TYPE and isinstance(app, str) and name == PREFIX + app:
            out.append((app, str(meta.get("namespace") or ""), o))
    return sorted(out, key=lambda t: (t[1], t[0]))


def list_apps(backend: Backend, namespace: str | None = None) -> list[AppRow]:
    """Every app with a state record in ``namespace`` (all namespaces when None), by namespace and name."""
    summaries: list[tuple[AppRow, Mapping[str, Any]]] = []
    for app, ns, live in state_indexes(backend, namespace):
        try:
            row, summary = _row(backend, app, ns, live)
        except PyvelaError as exc:  # one damaged record must not hide the others
            row, summary = AppRow(name=app, namespace=ns, phase="unreadable", message=exc.message), {}
        summaries.append((row, summary))
    ready = _ready_counts(backend, (s for _, s in summaries), [r for r, _ in summaries])
    return [
        attrs.evolve(row, objects_ready=min(row.objects_total, ready.get((row.namespace, row.name), 0)))
        for row, _ in summaries
    ]


def _row(backend: Backend, app: str, ns: str, live: Obj) -> tuple[AppRow, Mapping[str, Any]]:
    index = decode(live, app, state_ref(app, ns))
    revisions = index.get("revisions") or []
    if not revisions:
        return AppRow(name=app, namespace=ns), {}
    rev = revisions[-1]
    summary = rev.get(SUMMARY) if index.get("format") != 1 else None
    if not isinstance(summary, Mapping):
        # Written before summaries (or whole, format 1): the latest revision read in full, once.
        record = StateStore(backend, app, ns).load(revisions="latest") or {"revisions": [rev]}
        summary = summary_of(record["revisions"][-1])
    phases: Mapping[str, int] = summary.get("phases") or {}
    phase = str(rev.get("phase") or "")
    if phase == "running" and _abandoned(backend, app, ns):
        phase = "interrupted"
    row = AppRow(
        name=app,
        namespace=ns,
        revision=int(rev.get("number") or 0),
        kind=str(rev.get("kind") or ""),
        phase=phase,
        steps_done=sum(int(phases.get(p, 0)) for p in DONE_PHASES),
        steps_failed=int(phases.get("failed", 0)),
        steps_skipped=int(phases.get("skipped", 0)),
        steps_total=int(summary.get("steps") or 0),
        objects_total=int(summary.get("objects") or 0),
        last_change=summary.get("saved") or rev.get("finished") or rev.get("started"),
        message=str(rev.get("message") or ""),
    )
    return row, summary


def _abandoned(backend: Backend, app: str, ns: str) -> bool:
    lease = backend.get(lease_ref(app, ns))
    return lease is None or not held_by((lease or {}).get("spec") or {}, LEASE_SECONDS)


def _ready_counts(
    backend: Backend, summaries: Iterable[Mapping[str, Any]], rows: list[AppRow]
) -> dict[tuple[str, str], int]:
    """Ready objects per ``(app namespace, app)``: one list per kind the apps applied.

    A live object counts for an app when it carries the app's label and lies in a namespace
    the app applied that kind to (its own objects, as the summary's kinds say).
    """
    wanted: dict[tuple[str, str], set[str]] = {}
    per_app: list[tuple[tuple[str, str], set[tuple[str, str, str]]]] = []
    for row, summary in zip(rows, summaries, strict=True):
        triples = {(str(k[0]), str(k[1]), str(k[2])) for k in summary.get("kinds") or [] if len(k) == 3}
        per_app.append(((row.namespace, row.name), triples))
        for api_version, kind, ns in triples:
            wanted.setdefault((api_version, kind), set()).add(ns)
    ready: dict[tuple[str, str, str, str], int] = {}  # (apiVersion, kind, ns, app) -> ready
    for (api_version, kind), namespaces in wanted.items():
        ns_arg = next(iter(namespaces)) if len(namespaces) == 1 else None
        try:
            live = backend.list(api_version, kind, ns_arg or None, {LABEL_MANAGED_BY: MANAGER})
        except UnknownKindError:
            continue  # its CRD is gone: none of its objects is ready
        rule = rule_for(api_version, kind)
        for obj in live:
            if obj.get("type") in (STATE_TYPE, PART_TYPE):
                continue
            meta = obj.get("metadata") or {}
            app = (meta.get("labels") or {}).get(LABEL_APP)
            if isinstance(app, str) and rule(obj).ready:
                key = (api_version, kind, str(meta.get("namespace") or ""), app)
                ready[key] = ready.get(key, 0) + 1
    out: dict[tuple[str, str], int] = {}
    for (ns, app), triples in per_app:
        out[ns, app] = sum(ready.get((av, k, n, app), 0) for av, k, n in triples)
    return out


def locate(backend: Backend, name: str, namespace: str | None) -> str:
    """The namespace of app ``name``'s state record (``namespace`` when given, else searched).

    Raises:
        NotFoundError: no such app (the message lists those that exist), or it is in several
            namespaces and none was named.
    """
    if namespace is not None:
        if backend.get(state_ref(name, namespace)) is not None:
            return namespace
        here = [a for a, _, _ in state_indexes(backend, namespace)]
        elsewhere = [ns for a, ns, _ in state_indexes(backend) if a == name]
        raise NotFoundError(
            f"no app {name!r} in namespace {namespace!r} on {backend.description}",
            expected="one of " + (", ".join(here) or "(none: no app was deployed to this namespace)"),
            got=name,
            fix=(f"it is in namespace {', '.join(elsewhere)}: pass -n {elsewhere[0]}" if elsewhere else None)
            or "see `pyvela ls -A`, or pass the app file",
        )
    every = state_indexes(backend)
    found = sorted({ns for a, ns, _ in every if a == name})
    if len(found) == 1:
        return found[0]
    if found:
        raise NotFoundError(
            f"app {name!r} is deployed to several namespaces: {', '.join(found)}",
            expected="-n NAMESPACE",
            fix=f"pass -n, e.g. -n {found[0]}",
        )
    known = [f"{a} (namespace {ns})" for a, ns, _ in every]
    raise NotFoundError(
        f"no app {name!r} on {backend.description}",
        expected="one of " + (", ".join(known) or "(none: no app was deployed here)"),
        got=name,
        fix="see `pyvela ls -A`, or pass the app file (apps/x.py)",
    )
