"""Garbage collection (KubeVela's ``garbage-collect`` policy): which objects a prune or a
delete gives up, how (delete, orphan, or unlabel), and in which order.

A prune after a run removes what the app applied since its last success and the new
revision no longer has; ``keep_legacy_resource`` and rules with ``onAppDelete`` or
``never`` keep such objects, noted in the record (``retained``) so a delete still finds
them after their revisions left the history. A delete gives up everything the app holds:
``never`` objects stay without the app's labels; ``propagation: orphan`` leaves dependents.
With ``order: dependency`` a component's objects go only after those of the components
that depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pyvela._app.render import RenderedObject
from pyvela._backends.protocol import Backend
from pyvela._core.graph import find_cycle, topo_order
from pyvela._core.objects import ObjectRef
from pyvela._core.policies_builtin import GarbageCollectParams
from pyvela._core.selectors import Facts
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.policies import facts_of, release, shared_by_others

RETAINED = "retained"


@attrs.frozen(kw_only=True)
class Doomed:
    """One object a prune or delete handles.

    Attributes:
        ref: The object.
        facts: What the garbage-collect rules' selectors read about it.
        strategy: The first matching rule's strategy (``onAppUpdate`` when none matches).
        orphan: Leave its dependents in place when deleting it.
    """

    ref: ObjectRef
    facts: Facts
    strategy: str
    orphan: bool


def gc_params(policies: Iterable[Any]) -> GarbageCollectParams:
    """The app's garbage-collect policy (the default one when it has none)."""
    for p in policies:
        if isinstance(p.params, GarbageCollectParams):
            return p.params
    return GarbageCollectParams()


def gc_note(app: Any) -> Callable[[RenderedObject], dict[str, str]]:
    """What a revision notes on each planned object: its garbage-collect strategy when not the
    default. As KubeVela records it when it applies an object, the rules of the revision that
    last had an object decide what happens to it later (a rule naming a component keeps its
    objects after the component left the app)."""
    gc = gc_params(app.policies)
    if not gc.rules:
        return lambda o: {}

    def note(o: RenderedObject) -> dict[str, str]:
        ref = ObjectRef.of(o.object)
        kind = app.component(o.component).definition.name
        facts = facts_of(ref, component=o.component, trait=o.trait, output=o.output, component_type=kind)
        rule = gc.rule_for(facts)
        return {"gc": rule.strategy} if rule is not None and rule.strategy != "onAppUpdate" else {}

    return note


class History:
    """What the record says about the app's components over its revisions (newest wins)."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.types: dict[str, str] = {}
        self.deps: dict[str, list[str]] = {}
        self.outputs: dict[ObjectRef, str] = {}
        #: The strategy noted by the newest revision that planned an object.
        self.strategies: dict[ObjectRef, str] = {}
        for e in record.get(RETAINED) or []:
            self.strategies[ObjectRef.from_dict(e["ref"])] = e.get("gc", "onAppUpdate")
        for rev in record.get("revisions") or []:
            for c in (rev.get("spec") or {}).get("components") or []:
                self.types[c["name"]] = c.get("type", "")
                self.deps[c["name"]] = list(c.get("dependsOn") or [])
            for e in rev.get("planned") or []:
                ref = ObjectRef.from_dict(e["ref"])
                self.strategies[ref] = e.get("gc", "onAppUpdate")
                if e.get("trait") is None and e.get("output"):
                    self.outputs[ref] = e["output"]

    def facts(self, entry: Mapping[str, Any]) -> Facts:
        ref = ObjectRef.from_dict(entry["ref"])
        component = entry.get("component")
        return facts_of(
            ref,
            component=component,
            trait=entry.get("trait"),
            output=self.outputs.get(ref),
            component_type=self.types.get(component) if component else None,
        )


def _doomed(gc: GarbageCollectParams, history: History, entry: Mapping[str, Any]) -> Doomed:
    ref = ObjectRef.from_dict(entry["ref"])
    facts = history.facts(entry)
    rule = gc.rule_for(facts)
    noted = history.strategies.get(ref)  # objects of steps were never planned: today's rules
    strategy = noted if noted is not None else rule.strategy if rule is not None else "onAppUpdate"
    # How an object is deleted is the app's rules' say when it is (as KubeVela's delete options).
    return Doomed(
        ref=ref, facts=facts, strategy=strategy, orphan=rule is not None and rule.propagation == "orphan"
    )


def stale_entries(
    record: Mapping[str, Any], rev: Mapping[str, Any], *, keep_planned: bool
) -> list[dict[str, Any]]:
    """What ``rev`` no longer has of what was applied since the last success (inclusive),
    newest first; older revisions' objects were pruned by that success already.

    ``keep_planned`` (a failed run): what ``rev`` plans counts as had, though it was not
    applied yet.
    """
    keep = {ObjectRef.from_dict(e["ref"]) for e in rev.get("inventory") or []}
    if keep_planned:
        keep |= {ObjectRef.from_dict(e["ref"]) for e in rev.get("planned") or []}
    seen: set[ObjectRef] = set()
    stale: list[dict[str, Any]] = []
    for old in reversed(record["revisions"]):
        if old is rev:
            continue
        for e in reversed(old.get("inventory") or []):
            ref = ObjectRef.from_dict(e["ref"])
            if ref not in keep and ref not in seen:
                seen.add(ref)
                stale.append(e)
        if old["phase"] == "succeeded":
            break
    return stale


def retain(
    record: dict[str, Any], entries: Iterable[Mapping[str, Any]], strategies: Mapping[ObjectRef, str]
) -> None:
    """Note kept objects in the record (small entries: no manifests) with their strategies."""
    kept: list[dict[str, Any]] = record.setdefault(RETAINED, [])
    have = {ObjectRef.from_dict(e["ref"]) for e in kept}
    for e in entries:
        ref = ObjectRef.from_dict(e["ref"])
        if ref not in have:
            have.add(ref)
            kept.append({"ref": e["ref"], "component": e.get("component"), "trait": e.get("trait")})
            if strategies.get(ref, "onAppUpdate") != "onAppUpdate":
                kept[-1]["gc"] = strategies[ref]


def prune_plan(
    record: dict[str, Any], rev: Mapping[str, Any], gc: GarbageCollectParams, *, failed: bool = False
) -> tuple[list[Doomed], list[Doomed]]:
    """``(delete, keep)``: the stale objects a prune after ``rev`` deletes, in order, and those
    it keeps (noted in the record's ``retained``)."""
    history = History(record)
    entries = stale_entries(record, rev, keep_planned=failed)
    doomed = [_doomed(gc, history, e) for e in entries]
    keeps = [gc.keep_legacy_resource or d.strategy != "onAppUpdate" for d in doomed]
    retain(record, (e for e, k in zip(entries, keeps, strict=True) if k), history.strategies)
    kept = [d for d, k in zip(doomed, keeps, strict=True) if k]
    delete = [d for d, k in zip(doomed, keeps, strict=True) if not k]
    return (ordered(delete, history) if gc.order == "dependency" else delete), kept


def owned_entries(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every object any revision applied or planned, or a prune kept, newest first.

    Namespaces are left out: other things may live in them (a delete only gives up the
    app's share of one, see :func:`shared_namespaces`).
    """
    seen: set[ObjectRef] = set()
    out: list[dict[str, Any]] = []
    for rev in reversed(record["revisions"]):
        for e in reversed((rev.get("inventory") or []) + (rev.get("planned") or [])):
            ref = ObjectRef.from_dict(e["ref"])
            if ref not in seen and ref.kind != "Namespace":
                seen.add(ref)
                out.append(e)
    for e in record.get(RETAINED) or []:
        ref = ObjectRef.from_dict(e["ref"])
        if ref not in seen:
            seen.add(ref)
            out.append(e)
    return out


def shared_namespaces(record: Mapping[str, Any]) -> list[ObjectRef]:
    """The Namespaces the app's components rendered: a delete leaves them, but gives up the
    app's share of those that other apps share (``shared-resource``)."""
    seen: set[ObjectRef] = set()
    for rev in record["revisions"]:
        for e in (rev.get("inventory") or []) + (rev.get("planned") or []):
            ref = ObjectRef.from_dict(e["ref"])
            if ref.kind == "Namespace":
                seen.add(ref)
    return sorted(seen)


def delete_plan(record: Mapping[str, Any], gc: GarbageCollectParams) -> list[Doomed]:
    """Everything a delete of the app gives up, in the order it does (namespaces last)."""
    history = History(record)
    entries = owned_entries(record) + [{"ref": ref.to_dict()} for ref in shared_namespaces(record)]
    doomed = [_doomed(gc, history, e) for e in entries]
    return ordered(doomed, history) if gc.order == "dependency" else doomed


def ordered(doomed: list[Doomed], history: History) -> list[Doomed]:
    """``doomed`` with every component's objects after those of the components that depend on
    it (objects of no component first); otherwise in the order given."""
    deps = {c: [d for d in ds if d in history.deps] for c, ds in history.deps.items()}
    if find_cycle(deps):
        return doomed  # the app was refused at load; an old record's cycle orders nothing
    rank = {c: i for i, c in enumerate(reversed(topo_order(deps)))}
    return sorted(
        doomed,
        key=lambda d: -1 if d.facts.component is None else rank.get(d.facts.component, -1),
    )


def collect(
    backend: Backend,
    doomed: Iterable[Doomed],
    *,
    me: str,
    events: EventSink,
    verb: str,
) -> list[str]:
    """Give up each object of ``doomed`` in turn (``verb``: ``pruned`` or ``deleted``, the
    events' kind); returns those this app deleted or left its share of."""
    done: list[str] = []
    app = me.split("/")[-1]
    for d in doomed:
        if verb == "deleted" and d.ref.kind == "Namespace" and not shared_by_others(backend.get(d.ref), me):
            continue  # a delete leaves namespaces, unless only its share is given up
        outcome = release(backend, d.ref, me, app=app, orphan=d.orphan, keep=d.strategy == "never")
        data: dict[str, Any] = {"object": d.ref.to_dict(), "outcome": outcome}
        if outcome in ("deleted", "released"):
            done.append(str(d.ref))
            how = " (its dependents orphaned)" if d.orphan and outcome == "deleted" else ""
            message = f"{verb} {d.ref}{how}" if outcome == "deleted" else f"{verb} {d.ref} (released)"
            events.emit(Event(kind=verb, message=message, data=data))
        elif outcome == "kept":
            message = f"kept {d.ref}: no longer labelled as the app's (garbage-collect rule: never)"
            events.emit(Event(kind="log", message=message, data=data))
    return done


def kept_events(kept: Iterable[Doomed], gc: GarbageCollectParams, events: EventSink) -> None:
    for d in kept:
        why = "keep_legacy_resource" if gc.keep_legacy_resource else f"rule: {d.strategy}"
        events.emit(
            Event(
                kind="log",
                message=f"kept {d.ref}, which this revision no longer has (garbage-collect {why})",
                data={"object": d.ref.to_dict(), "outcome": "kept"},
            )
        )


def prune(
    backend: Backend,
    record: dict[str, Any],
    rev: Mapping[str, Any],
    gc: GarbageCollectParams,
    *,
    me: str,
    events: EventSink,
    failed: bool,
    save: Callable[[], None],
) -> tuple[str, ...]:
    """Prune after ``rev`` ran (``failed``: it failed and ``continue_on_failure`` is set):
    note what is kept in the record (``save`` stores it), then delete the rest in order."""
    delete, kept = prune_plan(record, rev, gc, failed=failed)
    if kept:
        kept_events(kept, gc, events)
        save()
    return tuple(collect(backend, delete, me=me, events=events, verb="pruned"))
