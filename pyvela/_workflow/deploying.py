"""Performing :class:`~pyvela._core.placement.DeployComponents`: the app's components applied
at every placement of the deploy step's policies, each awaited until healthy.

Each placement runs on its own thread with executors of its own (its cluster's backend, its
namespace, the components as its overrides and replications make them), recording into the
run's inventory under its cluster's name, so prune, delete, rollback and ``status`` find
every object where it is. A placement that fails leaves the others running; what became
healthy is marked in the inventory with a digest of its render, so the re-run of a failed
step (a resumed deploy) applies only the components that did not.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from pyvela._app.render import CLUSTER_SCOPED, render_component
from pyvela._backends.fleet import clusters_of, on_cluster
from pyvela._backends.readiness import rule_for
from pyvela._core import actions as a
from pyvela._core.definitions import ComponentUse
from pyvela._core.objects import ObjectRef, deep_copy
from pyvela._core.placement import (
    ApplyObjectTo,
    DeployComponents,
    Placement,
    ReadObjectFrom,
    placements,
    plan_at,
    plan_deploy,
)
from pyvela._core.policies_cluster import PLACEMENT_TYPES
from pyvela._core.reads import reading
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.inventory import in_batch
from pyvela.errors import PyvelaError, StepError

#: At most this many placements are deployed at once (each waits on its own cluster).
MAX_PLACEMENTS = 16


def perform_more(
    executor: Any, action: a.Action[Any], *, step: str, deadline: float, cancel: threading.Event
) -> Any:
    """The actions the executor delegates here (it raises for any other)."""
    if isinstance(action, DeployComponents):
        return deploy(executor, action, step=step, deadline=deadline, cancel=cancel)
    if isinstance(action, ApplyObjectTo):
        return apply_to(executor, action, step=step)
    if isinstance(action, ReadObjectFrom):
        return on_cluster(executor.backend, _cluster(executor, action.cluster)).get(action.ref)
    raise StepError(f"the runner cannot perform {type(action).__name__}", step=step)


def _policies(executor: Any, names: Sequence[str], step: str) -> list[Any]:
    known = {p.name: p for p in executor.loaded.app.policies}
    out = []
    for name in names:
        use = known.get(name)
        if use is None or use.definition.name not in PLACEMENT_TYPES:
            fit = [n for n, p in known.items() if p.definition.name in PLACEMENT_TYPES]
            raise StepError(
                f"policy {name!r} is not a topology, override or replication policy of the app",
                step=step,
                expected="one of " + (", ".join(fit) or "none (the app has no such policy)"),
                got=repr(name) + ("" if use is None else f" (a {use.definition.name} policy)"),
            )
        out.append(use)
    return out


def deploy(
    executor: Any, action: DeployComponents, *, step: str, deadline: float, cancel: threading.Event
) -> dict[str, Any]:
    app = executor.loaded.app
    clusters = clusters_of(executor.backend)
    chosen = (
        list(app.components) if action.components is None else [app.component(n) for n in action.components]
    )
    if action.params is not None:  # an apply-component step's inputs (KubeVela YAML)
        chosen = [c.with_params(action.params) for c in chosen]
    plan = (
        plan_at(chosen, action.at, clusters)
        if action.at is not None
        else plan_deploy(
            chosen, _policies(executor, action.policies, step), clusters, executor.loaded.catalogue.get
        )
    )
    if not plan.placements:
        executor.events.emit(
            Event(kind="log", step=step, message="the topology selects no cluster: nothing to deploy")
        )
        return {}
    results: dict[str, Any] = {}
    failures: dict[Placement, PyvelaError] = {}
    workers = min(MAX_PLACEMENTS, len(plan.placements))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"deploy-{step}") as pool:
        futures = {
            p: pool.submit(
                _Placing(executor, plan.components, p, clusters.control, step, action.parallelism).run,
                deadline,
                cancel,
            )
            for p in plan.placements
        }
        for p, future in futures.items():
            try:
                results[str(p)] = future.result()
            except PyvelaError as exc:
                failures[p] = exc
    if failures:
        done = [str(p) for p in plan.placements if p not in failures]
        lines = "; ".join(f"cluster {p}: {exc.message}" for p, exc in failures.items())
        first = next(iter(failures))
        raise StepError(
            f"the deploy failed on {len(failures)} of {len(plan.placements)} placement(s): {lines}",
            step=step,
            cluster=first.cluster,
            reason="ClusterFailed",
            expected="every placement healthy",
            got=("healthy on " + ", ".join(done)) if done else "no placement healthy",
            fix="fix or reconnect the cluster(s) and deploy again: "
            "only what did not become healthy is applied again",
        ) from next(iter(failures.values()))
    return results


class _Prefixed:
    """Events of one placement: the message names the cluster, the data carries it."""

    def __init__(self, sink: EventSink, placement: Placement) -> None:
        self.sink, self.placement = sink, placement

    def emit(self, event: Event) -> None:
        data = {**event.data, "cluster": self.placement.cluster}
        if self.placement.namespace is not None:
            data["placement_namespace"] = self.placement.namespace
        self.sink.emit(attrs.evolve(event, message=f"[{self.placement}] {event.message}", data=data))


def digest(rendered: Any) -> str:
    """What a component's render is, to tell whether an earlier attempt applied the same."""
    objects = [[o.trait, o.output, o.object] for o in rendered.objects]
    return hashlib.sha256(json.dumps(objects, sort_keys=True, default=str).encode()).hexdigest()[:20]


class _Placing:
    """One placement of a deploy: its components in dependency order, ``parallelism`` at a time."""

    def __init__(
        self,
        executor: Any,
        components: Sequence[ComponentUse[Any]],
        placement: Placement,
        control: str,
        step: str,
        parallelism: int,
    ) -> None:
        self.parent, self.placement, self.step, self.parallelism = (
            executor,
            placement,
            step,
            max(1, parallelism),
        )
        self.components = list(components)
        self.cluster = None if placement.cluster == control else placement.cluster
        self.namespace = placement.namespace or executor.loaded.app.namespace
        self.events = _Prefixed(executor.events, placement)
        self.inventory = executor.inventory.on(self.cluster)
        self._executors: dict[str, Any] = {}
        self._owners: dict[ObjectRef, str] = {}

    def _executor(self, replica_key: str) -> Any:
        found = self._executors.get(replica_key)
        if found is not None:
            return found
        parent = self.parent
        # Each copy sees, by name, the components of its replica key and the unreplicated ones.
        mine: dict[str, ComponentUse[Any]] = {}
        for c in self.components:
            if c.replica_key in ("", replica_key) and (c.replica_key or c.name not in mine):
                mine[c.name] = c
        app = attrs.evolve(parent.loaded.app, components=tuple(mine.values()), namespace=self.namespace)
        found = child(parent, self.cluster, attrs.evolve(parent.loaded, app=app), self.namespace, self.events)
        self._executors[replica_key] = found
        return found

    def run(self, deadline: float, cancel: threading.Event) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pending = list(self.components)
        healthy: set[str] = set()
        names = {c.name for c in pending}
        while pending:
            # A component waits for those it depends on (of its own replica key, or unreplicated).
            ready = [
                c
                for c in pending
                if all(
                    _key(d, c.replica_key) in healthy or _key(d, "") in healthy
                    for d in c.dependencies
                    if d in names
                )
            ]
            if not ready:
                left = ", ".join(_key(c.name, c.replica_key) for c in pending)
                raise StepError(f"components wait on each other: {left}", step=self.step)
            batch = ready[: self.parallelism]
            applied = [(c, self._apply(c, deadline)) for c in batch]
            for c, (workload, done) in applied:
                key = _key(c.name, c.replica_key)
                if done is None:
                    done = self._wait(c, workload, deadline, cancel)
                out[key] = done
                healthy.add(key)
                pending.remove(c)
        return out

    def _apply(self, c: ComponentUse[Any], deadline: float) -> tuple[Any, dict[str, Any] | None]:
        """Apply ``c`` (its live workload); or, when an earlier attempt made the same render
        healthy here, nothing (and what it recorded then)."""
        executor = self._executor(c.replica_key)
        with reading(executor.backend):  # ref-objects reads the cluster it is applied to
            rendered = render_component(executor.loaded.app, c, revision=executor.loaded.revision)
        mark = digest(rendered)
        refs = []
        for o in rendered.objects:
            ref = ObjectRef.of(o.object)
            if ref.kind not in CLUSTER_SCOPED and not ref.namespace:
                ref = attrs.evolve(ref, namespace=self.namespace)
            refs.append((o, ref))
            me = _key(c.name, c.replica_key)
            owner = self._owners.setdefault(ref, me)
            if owner != me:
                raise StepError(
                    f"{owner} and {me} both render {ref} on cluster {self.placement}",
                    step=self.step,
                    component=c.name,
                    fix="put ctx.replica_key in the names the component's definition renders",
                )
        workload_ref = next(ref for o, ref in refs if o.trait is None and o.output is None)
        entry = self.inventory.get(workload_ref)
        if entry is not None and (entry.get("healthy") or {}).get("digest") == mark:
            self.events.emit(
                Event(
                    kind="log",
                    step=self.step,
                    message=f"{workload_ref} was made healthy by an earlier attempt: not applied again",
                    data={"object": workload_ref.to_dict(), "component": c.name},
                )
            )
            return None, dict(entry["healthy"]["workload"])
        action = a.ApplyComponent(component=c.name)
        remaining = max(0.0, deadline - time.monotonic())
        executor._renders[c.name] = rendered  # applied from this render: rendered once
        result = in_batch(executor.backend, executor.apply_component, action, self.step, timeout=remaining)
        return (result.workload, mark), None

    def _wait(
        self, c: ComponentUse[Any], applied: Any, deadline: float, cancel: threading.Event
    ) -> dict[str, Any]:
        workload, mark = applied
        executor = self._executor(c.replica_key)
        ref = ObjectRef.of(workload)
        remaining = max(0.0, deadline - time.monotonic())
        live = executor.wait_ready(a.WaitReady(ref=ref), step=self.step, timeout=remaining, cancel=cancel)
        summary = {**ref.to_dict(), "status": live.get("status") or {}}
        self.inventory.mark(ref, healthy={"digest": mark, "workload": summary})
        return summary


def child(parent: Any, cluster: str | None, loaded: Any, namespace: str, events: EventSink) -> Any:
    """An executor like ``parent`` for ``cluster`` (None: the control cluster), recording into
    its inventory under that cluster's name."""
    return type(parent)(
        loaded,
        on_cluster(parent.backend, cluster),
        events=events,
        inventory=parent.inventory.on(cluster),
        config_centre=parent._config_centre,
        config=parent.config,
        namespace=namespace,
        force_conflicts=parent.force_conflicts,
        policies=parent.policies,
        adopted=parent.adopted if cluster is None else frozenset(),
        park=parent.park,
    )


def _cluster(executor: Any, name: str) -> str | None:
    """``name`` as the inventory keys it: None for the control cluster (``local``, its aliases)."""
    clusters = clusters_of(executor.backend)
    canonical = clusters.resolve(name)
    return None if canonical == clusters.control else canonical


def apply_to(executor: Any, action: ApplyObjectTo, *, step: str) -> dict[str, Any]:
    """An object step's ``cluster`` or ``topology``: the object applied on each cluster named."""
    if action.topology is not None:
        uses = _policies(executor, (action.topology,), step)
        if uses[0].definition.name != "topology":
            raise StepError(f"policy {action.topology!r} is not a topology policy", step=step)
        where = [(p.cluster, p.namespace) for p in placements(uses, clusters_of(executor.backend))]
    else:
        where = [(str(action.cluster), None)]
    live: dict[str, Any] = {}
    for name, namespace in where:
        cluster = _cluster(executor, name)
        events = _Prefixed(executor.events, Placement(name, namespace))
        target = child(executor, cluster, executor.loaded, namespace or executor.namespace, events)
        obj = deep_copy(dict(action.object))
        if namespace is not None and obj.get("kind") not in CLUSTER_SCOPED:
            obj.setdefault("metadata", {})["namespace"] = namespace  # the topology's namespace
        live = target.apply_object(obj, step=step, component=None, trait=None)
    return live


def reapply(executor: Any, entries: Sequence[Mapping[str, Any]], *, timeout: float = 600.0) -> None:
    """Apply recorded objects again (a rollback), each on its cluster, then wait for each there."""
    entries = sorted(entries, key=lambda e: e["ref"]["kind"] not in ("Namespace", "CustomResourceDefinition"))
    executors: dict[str | None, Any] = {None: executor}

    def on(cluster: str | None) -> Any:
        if cluster not in executors:
            events = _Prefixed(executor.events, Placement(str(cluster)))
            executors[cluster] = child(executor, cluster, executor.loaded, executor.namespace, events)
        return executors[cluster]

    for e in entries:
        on(e.get("cluster")).apply_object(
            dict(e["manifest"]),
            step=None,
            component=e.get("component"),
            trait=e.get("trait"),
            patch=e.get("patch"),  # kept, so `diff` after the rollback sees the step's patch
        )
    for e in entries:
        ref = ObjectRef.from_dict(e["ref"])
        on(e.get("cluster")).backend.wait(ref, rule_for(ref.api_version, ref.kind), timeout=timeout)


def _key(name: str, replica_key: str) -> str:
    return f"{name}@{replica_key}" if replica_key else name


def placements_of(entries: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """The clusters entries name (None: the control cluster), in order of first mention."""
    out: list[str | None] = []
    for e in entries:
        cluster = e.get("cluster")
        if cluster not in out:
            out.append(cluster)
    return out
