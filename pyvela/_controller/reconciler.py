"""One reconcile of one Application, synchronous and free of kopf: load the app, run the
CLI's deploy (a no-op when the revision is unchanged), correct drift, summarise the status;
and the finalizer's delete. ``operator`` calls these on its worker threads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from pyvela._app.loader import LoadedApp
from pyvela._backends.protocol import Backend
from pyvela._configcentre.protocol import ConfigCentre
from pyvela._controller.applied import AppliedObjects
from pyvela._controller.cache import LoadedApps, Reads, RecordParts, WatchCache
from pyvela._controller.crd import API_VERSION, KIND
from pyvela._controller.deploys import DeployBackend, Namespaces
from pyvela._controller.drift import Drifted, correct_drift, up_to_date
from pyvela._controller.status import app_status
from pyvela._controller.waiting import still_waiting
from pyvela._core.objects import ObjectRef
from pyvela._workflow.events import Event
from pyvela._workflow.executor import ConfigSettings
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.named import delete_named
from pyvela._workflow.results import Options, RunResult
from pyvela._workflow.state import StateStore
from pyvela._workflow.state_events import event_object
from pyvela._workflow.view import AppView
from pyvela.errors import PyvelaError

log = logging.getLogger("pyvela.controller")
COMPONENT = "pyvela-controller"
#: How a reconcile finds the configuration centre of an app (the CLI's rule, handed down by it).
CentreFor = Callable[[Backend, LoadedApp], tuple[Callable[[], ConfigCentre], ConfigSettings]]
#: The same for an app known only by its name (its spec does not load): the environment's.
NamedCentre = Callable[[Backend, str], tuple[Callable[[], ConfigCentre], ConfigSettings]]


class LogSink:
    """A run's events, as log lines (the controller has no terminal)."""

    def __init__(self, key: str) -> None:
        self.key = key

    def emit(self, event: Event) -> None:
        if event.kind in ("run-started", "run-finished", "step-finished", "applied", "pruned", "deleted"):
            log.info(
                "%s: %s %s%s", self.key, event.kind, f"{event.step}: " if event.step else "", event.message
            )


@attrs.frozen
class Outcome:
    """What a reconcile did: the status to write, and the drift it corrected."""

    status: dict[str, Any]
    result: RunResult
    corrected: tuple[tuple[Drifted, str], ...] = ()
    #: What ``pyvela status -o json`` says after it (the KubeVela status is shaped from it).
    view: Mapping[str, Any] | None = None


def live_status(reads: Reads, store: StateStore, ops: AppOps) -> dict[str, Any]:
    """``pyvela status -o json`` of the app through the reconcile's reads; an object the
    watch cache says is not ready is read again from the server before it is believed."""
    view = AppView(reads, store, ops.loaded.app)
    status = view.status()
    stale = [
        ref
        for o in status["objects"]
        if not o.get("ready") and (ref := ObjectRef.from_dict(o["object"])) in reads.cached
    ]
    if not stale:
        return status
    for ref in stale:
        reads.fresh(ref)
    return view.status()


def key_of(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


class Reconciler:
    """Reconciles Applications on one backend (thread-safe: one call per app at a time,
    guarded by the operator, and by the app's Lease against the CLI)."""

    def __init__(
        self,
        backend: Backend,
        *,
        centre_for: CentreFor,
        workdir: Path,
        defs: Sequence[str] | None = None,
        wait_lock: float = 30.0,
        cache: WatchCache | None = None,
        named_centre: NamedCentre | None = None,
        park: bool = False,
    ) -> None:
        self.backend = backend
        self.centre_for = centre_for
        self.named_centre = named_centre
        self.workdir = workdir
        self.defs = defs
        self.wait_lock = wait_lock
        #: A wait for readiness ends the reconcile (the run parks, the next one goes on) rather
        #: than holding a worker (``pyvela._workflow.parking``); the controller sets it.
        self.park = park
        #: Owned objects as the operator's watches saw them (empty: every object is read).
        self.cache = cache if cache is not None else WatchCache()
        self.apps = LoadedApps()
        self.parts = RecordParts()
        #: The Applications' namespaces, read once (a deploy checks that its namespace exists).
        self.namespaces = Namespaces()
        #: What the deploys applied: a resumed run does not apply again what the watch shows unchanged.
        self.applied = AppliedObjects()

    def ops(self, body: Mapping[str, Any], backend: Backend | None = None) -> AppOps:
        loaded = self.apps.load(body, self.workdir, self.defs)
        centre, config = self.centre_for(self.backend, loaded)
        return AppOps(
            backend or self.backend,
            loaded,
            events=LogSink(key_of(body)),
            config_centre=centre,
            config=config,
            namespace=(body.get("metadata") or {}).get("namespace"),
            # The resource is the truth, as for KubeVela's controller: fields someone else's
            # edit took are taken back by a new revision as by a drift correction.
            options=Options(wait_lock=self.wait_lock, force_conflicts=True, park=self.park),
        )

    def reconcile(self, body: Mapping[str, Any]) -> Outcome:
        """Deploy (a no-op when up to date), then correct drift; the status to write."""
        namespace = str((body.get("metadata") or {}).get("namespace") or "")
        run = DeployBackend(
            self.backend,
            namespace=namespace,
            cache=self.cache,
            namespaces=self.namespaces,
            remembered=self.applied,
        )
        ops = self.ops(body, run)
        # The record, the objects: each read once, the owned ones from the watch cache.
        store = StateStore(self.backend, ops.app, ops.namespace)
        reads = Reads(self.backend, self.cache, parts=self.parts, index=store.ref)
        store = StateStore(reads, ops.app, ops.namespace)
        latest = up_to_date(store, ops.loaded.revision)
        # A parked run whose objects, as the watch shows them, are still not ready: not run again.
        waits = self.park and not latest
        parked = still_waiting(store, ops.loaded.revision, ops.loaded.app, self.cache) if waits else None
        # What `deploy` would answer, without its Lease (a write) when nothing is to be done.
        if latest:
            result = ops._result(latest, up_to_date=True, message="up to date")
        elif parked is not None:
            result = ops._result(parked)
        else:
            result = ops.deploy()
            # The record as the deploy wrote it (what it did not write, from the server); its
            # objects from the watch where it has them ready (one it shows unready or lacks is
            # read from the server): a run ends only when its waits saw them ready there.
            reads = Reads(run, self.cache)
            store = StateStore(reads, ops.app, ops.namespace)
        corrected: list[tuple[Drifted, str]] = []
        if result.up_to_date:
            run.remembered = None  # what it found drifted is written, even if the watch lags
            corrected = correct_drift(ops, reads)
            for drifted, change in corrected:
                if change in ("created", "configured"):
                    self.event(body, "DriftCorrected", f"{drifted.ref} {change} ({drifted.reason} drifted)")
                else:  # apply-once keeps it: said in the log, not an Event on every resync
                    log.info("%s: %s drifted at %s: %s", key_of(body), drifted.ref, drifted.reason, change)
        if corrected:  # applied again: read back from the server
            reads = Reads(self.backend)
            store = StateStore(reads, ops.app, ops.namespace)
        # Still parked: judged on the watch's copies, so shown from them (not read again).
        view = AppView(reads, store, ops.loaded.app).status() if parked else live_status(reads, store, ops)
        status = app_status(view)
        if not result.ok:
            status["message"] = result.message or status["message"]
        return Outcome(status=status, result=result, corrected=tuple(corrected), view=view)

    def resume(self, body: Mapping[str, Any]) -> RunResult:
        """``pyvela workflow resume`` of the app (its suspended steps continue)."""
        return self.ops(body).resume()

    def request(self, body: Mapping[str, Any], action: str) -> RunResult:
        """``pyvela workflow suspend|terminate`` of the app (a running deploy is signalled)."""
        return self.ops(body).request(action)

    def finalize(self, body: Mapping[str, Any]) -> RunResult:
        """The finalizer: ``delete`` of the app (its garbage-collect policy honoured)."""
        try:
            ops = self.ops(body)
        except PyvelaError:
            meta = body.get("metadata") or {}
            ns, app = (
                str(meta.get("namespace")),
                str((body.get("status") or {}).get("app") or meta.get("name")),
            )
            if StateStore(self.backend, app, ns).load(revisions="none") is not None:
                if self.named_centre is None:
                    raise  # deployed once: its objects are deleted when its spec loads again
                # As KubeVela deletes through its ResourceTracker: the record says what the app
                # owns and which garbage-collect rules keep what (``pyvela delete NAME``).
                log.warning("%s: its spec does not load; deleting what its record holds", key_of(body))
                centre, _config = self.named_centre(self.backend, app)
                return delete_named(self.backend, app, ns, events=LogSink(key_of(body)), config_centre=centre)
            # Its spec never loaded, so nothing was deployed: the resource may go (a poison app
            # would otherwise hold its finalizer, and its namespace, forever).
            return RunResult(
                app=app,
                namespace=ns,
                target=self.backend.description,
                revision=0,
                hash="",
                phase="deleted",
                message="never deployed: nothing to delete",
            )
        result = ops.delete()
        self.apps.forget(body)
        self.parts.forget(ops.store.ref)
        return result

    def event(self, body: Mapping[str, Any], reason: str, message: str, type_: str = "Normal") -> None:
        """A Kubernetes Event on the Application resource (never fails the reconcile)."""
        meta = body.get("metadata") or {}
        kind = {"apiVersion": body.get("apiVersion") or API_VERSION, "kind": body.get("kind") or KIND}
        involved = kind | {"namespace": meta.get("namespace")}  # pyvela's Application or KubeVela's
        involved |= {k: meta[k] for k in ("name", "uid") if meta.get(k)}
        try:
            self.backend.create(event_object(involved, reason, type_, message, component=COMPONENT))
        except PyvelaError as exc:
            log.warning("%s: cannot record the Event %s: %s", key_of(body), reason, exc)
