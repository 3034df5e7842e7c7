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
from pyvela._backends.fleet import on_cluster
from pyvela._backends.protocol import Backend
from pyvela._core.graph import find_cycle, topo_order
from pyvela._core.objects import ObjectRef
from pyvela._core.policies_builtin import GarbageCollectParams
from pyvela._core.selectors import Facts
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.inventory import Key, entry_key
from pyvela._workflow.policies import facts_of, release, shared_by_others
from pyvela.errors import ClusterError, PyvelaError

RETAINED = "retained"
#: Stale objects a prune could not reach (their cluster did not answer): the next prune retries them.
UNPRUNED = "unpruned"


@attrs.frozen(kw_only=True)
class Doomed:
    """One object a prune or delete handles.

    Attributes:
        ref: The object.
        facts: What the garbage-collect rules' selectors read about it.
        strategy: The first matching rule's strategy (``onAppUpdate`` when none matches).
        orphan: Leave its dependents in place when deleting it.
        cluster: The cluster it is on (None: the control cluster).
    """

    ref: ObjectRef
    facts: Facts
    strategy: str
    orphan: bool
    cluster: str | None = None

    @property
    def shown(self) -> str:
        return str(self.ref) if self.cluster is None else f"{self.ref} (cluster {self.cluster})"


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
        self.outputs: dict[Key, str] = {}
        #: The strategy noted by the newest revision that planned an object.
        self.strategies: dict[Key, str] = {}
        for e in record.get(RETAINED) or []:
            self.strategies[entry_key(e)] = e.get("gc", "onAppUpdate")
        for rev in record.get("revisions") or []:
            for c in (rev.get("spec") or {}).get("components") or []:
                self.types[c["name"]] = c.get("type", "")
                self.deps[c["name"]] = list(c.get("dependsOn") or [])
            for e in rev.get("planned") or []:
                key = entry_key(e)
                self.strategies[key] = e.get("gc", "onAppUpdate")
                if e.get("trait") is None and e.get("output"):
                    self.outputs[key] = e["output"]

    def facts(self, entry: Mapping[str, Any]) -> Facts:
        ref = ObjectRef.from_dict(entry["ref"])
        component = entry.get("component")
        return facts_of(
            ref,
            component=component,
            trait=entry.get("trait"),
            output=self.outputs.get((entry.get("cluster"), ref)),
            component_type=self.types.get(component) if component else None,
        )


def _doomed(gc: GarbageCollectParams, history: History, entry: Mapping[str, Any]) -> Doomed:
    ref = ObjectRef.from_dict(entry["ref"])
    facts = history.facts(entry)
    rule = gc.rule_for(facts)
    noted = history.strategies.get(entry_key(entry))  # objects of steps were never planned: today's rules
    strategy = noted if noted is not None else rule.strategy if rule is not None else "onAppUpdate"
    # How an object is deleted is the app's rules' say when it is (as KubeVela's delete options).
    orphan = rule is not None and rule.propagation == "orphan"
    return Doomed(ref=ref, facts=facts, strategy=strategy, orphan=orphan, cluster=entry.get("cluster"))


def stale_entries(
    record: Mapping[str, Any], rev: Mapping[str, Any], *, keep_planned: bool
) -> list[dict[str, Any]]:
    """What ``rev`` no longer has of what was applied since the last success (inclusive),
    newest first; older revisions' objects were pruned by that success already.

    ``keep_planned`` (a failed run): what ``rev`` plans counts as had, though it was not
    applied yet.
    """
    keep = {entry_key(e) for e in rev.get("inventory") or []}
    if keep_planned:
        keep |= {entry_key(e) for e in rev.get("planned") or []}
    seen: set[Key] = set()
    stale: list[dict[str, Any]] = []
    for old in reversed(record["revisions"]):
        if old is rev:
            continue
        for e in reversed(old.get("inventory") or []):
            key = entry_key(e)
            if key not in keep and key not in seen:
                seen.add(key)
                stale.append(e)
        if old["phase"] == "succeeded":
            break
    # What an earlier prune could not reach is still to go, unless this revision has it again.
    for e in record.get(UNPRUNED) or []:
        key = entry_key(e)
        if key not in keep and key not in seen:
            seen.add(key)
            stale.append(e)
    return stale


def retain(
    record: dict[str, Any],
    entries: Iterable[Mapping[str, Any]],
    strategies: Mapping[Key, str],
    into: str = RETAINED,
) -> None:
    """Note kept objects in the record (small entries: no manifests) with their strategies."""
    kept: list[dict[str, Any]] = record.setdefault(into, [])
    have = {entry_key(e) for e in kept}
    for e in entries:
        key = entry_key(e)
        if key not in have:
            have.add(key)
            kept.append({"ref": e["ref"], "component": e.get("component"), "trait": e.get("trait")})
            if e.get("cluster") is not None:
                kept[-1]["cluster"] = e["cluster"]
            if strategies.get(key, "onAppUpdate") != "onAppUpdate":
                kept[-1]["gc"] = strategies[key]


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
    seen: set[Key] = set()
    out: list[dict[str, Any]] = []
    for rev in reversed(record["revisions"]):
        for e in reversed((rev.get("inventory") or []) + (rev.get("planned") or [])):
            key = entry_key(e)
            if key not in seen and key[1].kind != "Namespace":
                seen.add(key)
                out.append(e)
    for e in (record.get(RETAINED) or []) + (record.get(UNPRUNED) or []):
        key = entry_key(e)
        if key not in seen:
            seen.add(key)
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


def namespace_entries(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:func:`shared_namespaces` of every cluster, as entries (a cluster's carry its name)."""
    seen: set[Key] = set()
    for rev in record["revisions"]:
        for e in (rev.get("inventory") or []) + (rev.get("planned") or []):
            key = entry_key(e)
            if key[1].kind == "Namespace":
                seen.add(key)
    out = []
    for cluster, ref in sorted(seen, key=lambda k: (k[0] or "", k[1])):
        out.append({"ref": ref.to_dict()} | ({"cluster": cluster} if cluster is not None else {}))
    return out


def delete_plan(record: Mapping[str, Any], gc: GarbageCollectParams) -> list[Doomed]:
    """Everything a delete of the app gives up, in the order it does (namespaces last)."""
    history = History(record)
    entries = owned_entries(record) + namespace_entries(record)
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
    unreached: list[Doomed] | None = None,
) -> list[str]:
    """Give up each object of ``doomed`` in turn (``verb``: ``pruned`` or ``deleted``, the
    events' kind); returns those this app deleted or left its share of.

    An object of another cluster goes through that cluster's backend. A cluster that fails
    leaves its objects (the others' go on): they are added to ``unreached`` when given, else
    a ClusterError naming each such cluster is raised once the rest is done.
    """
    done: list[str] = []
    app = me.split("/")[-1]
    failed: dict[str, PyvelaError] = {}
    left: list[Doomed] = []
    for d in doomed:
        if d.cluster is not None and d.cluster in failed:
            left.append(d)
            continue
        try:
            target = on_cluster(backend, d.cluster)
            if (
                verb == "deleted"
                and d.ref.kind == "Namespace"
                and not shared_by_others(target.get(d.ref), me)
            ):
                continue  # a delete leaves namespaces, unless only its share is given up
            outcome = release(target, d.ref, me, app=app, orphan=d.orphan, keep=d.strategy == "never")
        except PyvelaError as exc:  # its cluster does not answer, or cannot be opened
            if d.cluster is None:
                raise
            failed[d.cluster] = exc
            left.append(d)
            events.emit(
                Event(
                    kind="log",
                    message=f"cluster {d.cluster}: {exc.message}; its objects are left for now",
                    data={"cluster": d.cluster, "outcome": "unreached"},
                )
            )
            continue
        data: dict[str, Any] = {"object": d.ref.to_dict(), "outcome": outcome}
        if d.cluster is not None:
            data["cluster"] = d.cluster
        if outcome in ("deleted", "released"):
            done.append(d.shown)
            how = " (its dependents orphaned)" if d.orphan and outcome == "deleted" else ""
            message = f"{verb} {d.shown}{how}" if outcome == "deleted" else f"{verb} {d.shown} (released)"
            events.emit(Event(kind=verb, message=message, data=data))
        elif outcome == "kept":
            message = f"kept {d.shown}: no longer labelled as the app's (garbage-collect rule: never)"
            events.emit(Event(kind="log", message=message, data=data))
    if failed and unreached is not None:
        unreached.extend(left)
    elif failed:
        names = ", ".join(sorted(failed))
        first = next(iter(failed.values()))
        raise ClusterError(
            f"could not reach cluster(s) {names}: {len(left)} object(s) are left there ({first.message})",
            cluster=next(iter(failed)),
            expected="every cluster that holds the app's objects to answer",
            fix="run the command again once the cluster answers (the app's record is kept until then)",
        )
    return done


def kept_events(kept: Iterable[Doomed], gc: GarbageCollectParams, events: EventSink) -> None:
    for d in kept:
        why = "keep_legacy_resource" if gc.keep_legacy_resource else f"rule: {d.strategy}"
        events.emit(
            Event(
                kind="log",
                message=f"kept {d.shown}, which this revision no longer has (garbage-collect {why})",
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
    unreached: list[Doomed] = []
    done = collect(backend, delete, me=me, events=events, verb="pruned", unreached=unreached)
    before = record.get(UNPRUNED)
    record[UNPRUNED] = []
    entries = [
        {"ref": d.ref.to_dict(), "component": d.facts.component, "cluster": d.cluster} for d in unreached
    ]
    retain(record, entries, {}, into=UNPRUNED)
    if not record[UNPRUNED]:
        del record[UNPRUNED]
    if record.get(UNPRUNED) != before:
        save()  # the next prune retries what this one could not reach
    return tuple(done)
