"""The controller's kopf wiring: a daemon per Application (its reconcile loop: on start,
on a spec change, on drift of an owned object, every resync period, with backoff on
failure), the finalizer's delete, the owned objects' watches, and kopf's login.

Every reconcile runs the synchronous ``Reconciler`` on a thread pool of its own, so a long
deploy holds one worker, never the event loop or another app.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import kopf

from pyvela._backends.patching import merge_patcher
from pyvela._controller.cache import digest, is_state
from pyvela._controller.crd import FINALIZER, GROUP
from pyvela._controller.kubevela_restart import restart
from pyvela._controller.manifests import plural
from pyvela._controller.metrics import Metrics
from pyvela._controller.reconciler import Reconciler, key_of
from pyvela._controller.served import PYVELA, Served
from pyvela._controller.sharded import NotLeading, drop_stale_finalizers
from pyvela._controller.status import backoff, failed_status
from pyvela._controller.waiting import Waiters, requeue_after, waiting
from pyvela._controller.workqueue import NORMAL, RESUME, PriorityPool
from pyvela._controller.written import Written
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, ObjectRef

log = logging.getLogger("pyvela.controller")
_VOLATILE_META = ("resourceVersion", "managedFields", "generation", "annotations")


def essence(body: Mapping[str, Any]) -> str:
    """What of an owned object a person changes (not its status, not the server's fields)."""
    meta = {k: v for k, v in dict(body.get("metadata") or {}).items() if k not in _VOLATILE_META}
    annotations = {
        k: v
        for k, v in dict((body.get("metadata") or {}).get("annotations") or {}).items()
        if k != "deployment.kubernetes.io/revision"
    }
    rest = {k: v for k, v in body.items() if k not in ("metadata", "status")}
    return digest([meta, annotations, rest])


class Controller:
    def __init__(
        self,
        reconciler: Reconciler,
        *,
        resync: float = 300.0,
        debounce: float = 2.0,
        workers: int = 8,
        metrics: Metrics | None = None,
        served: Served = PYVELA,
        owns: Callable[[Mapping[str, Any]], bool] | None = None,
        gate: Callable[[], bool] | None = None,
        finalizer: str = FINALIZER,
    ) -> None:
        self.reconciler = reconciler
        #: pyvela's Application, or KubeVela's (``--kubevela``): its API and status shape.
        self.served = served
        #: Whether an Application is this controller's (its shard's); None: every one.
        self.owns = owns
        #: Whether a reconcile may start now (the shard's leader Lease held); None: always.
        self.gate = gate
        self.finalizer = finalizer
        self.resync = resync
        self.debounce = debounce
        # Resumes of parked runs first: behind a queue of first deploys they started minutes late.
        self.pool = PriorityPool(max_workers=workers, thread_name_prefix="pyvela-reconcile")
        # Status writes of their own: behind a queue of deploys, a finished app's status waited for them all.
        self.status_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pyvela-status")
        self.metrics = metrics or Metrics()
        #: Each app's status as last written (kopf's body shows our write a moment later).
        self.written = Written()
        self._wakes: dict[str, asyncio.Event] = {}
        self._reasons: dict[str, str] = {}
        #: (namespace, pyvela app name) -> the Application resource's key (a module's app may
        #: be named differently from its resource).
        self._owner: dict[tuple[str, str], str] = {}
        self._seen: dict[str, str] = {}
        #: Apps whose run parked: their owned objects' status changes wake them too.
        self._parked: set[str] = set()
        #: Parked apps by the object they wait for (another app's record, an object to go).
        self.waiters = Waiters()
        self._queued = 0
        #: Reconciles running on the pool now (a stop does not wait for them: they resume).
        self.running = 0

    # ------------------------------------------------------------------ waking an app's loop

    def wake(self, key: str, reason: str) -> None:
        event = self._wakes.get(key)
        if event is not None:
            self._reasons.setdefault(key, reason)
            event.set()

    async def _blocking(
        self,
        fn: Callable[..., Any],
        *args: Any,
        gated: bool = False,
        began: list[float] | None = None,
        resume: bool = False,
    ) -> Any:
        """``fn`` on a worker (``resume``: ahead of the others queued); ``began`` gets the
        moment it left the queue."""
        self._queued += 1
        self.metrics.queue_depth.set(self._queued)

        def run() -> Any:
            if began is not None:
                began.append(time.monotonic())
            self._queued -= 1
            self.metrics.queue_depth.set(self._queued)
            if gated and self.gate is not None and not self.gate():
                raise NotLeading("this replica lost its shard's leader Lease")
            self.running += 1
            try:
                return fn(*args)
            finally:
                self.running -= 1

        return await asyncio.wrap_future(self.pool.submit_at(RESUME if resume else NORMAL, run))

    async def _sleep(self, key: str, delay: float, stopped: Any, *, failing: bool) -> None:
        """Until the resync (or the backoff) is due, a wake-up, or the daemon is stopped; a
        failing app is woken early only by its own spec changing, not by its objects."""
        event = self._wakes[key]
        deadline = time.monotonic() + delay
        while not stopped and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(event.wait(), timeout=min(1.0, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                continue
            event.clear()
            reason = self._reasons.pop(key, "")
            if failing and reason != "spec":
                continue
            await asyncio.sleep(self.debounce)  # a burst of changes is one reconcile
            event.clear()
            self._reasons.pop(key, None)
            return

    # ------------------------------------------------------------------ one app's loop

    async def app_loop(self, body: Any, stopped: Any) -> None:
        key = key_of(body)
        self._wakes[key] = asyncio.Event()
        failures, parks = 0, 0
        parked_steps: Mapping[str, Any] = {}
        try:
            while not stopped:
                started = time.monotonic()
                began: list[float] = []
                view: Mapping[str, Any] | None = None
                try:
                    step = self.served.restart_requested(body)  # `vela workflow restart [--step]`
                    if step is not None:
                        await self._blocking(restart, self.reconciler, dict(body), step, gated=True)
                    elif self.served.resume_requested(body):  # `vela workflow resume`
                        await self._blocking(self.reconciler.resume, dict(body), gated=True)
                    resume = key in self._parked  # a parked run going on: ahead of first deploys
                    outcome = await self._blocking(
                        self.reconciler.reconcile, dict(body), gated=True, began=began, resume=resume
                    )
                except NotLeading:
                    return  # kopf is being stopped: the new leader reconciles it
                except Exception as exc:  # any failure: one app's, retried with backoff
                    failures += 1
                    self.metrics.reconcile_errors.inc()
                    if not isinstance(exc, kopf.PermanentError | kopf.TemporaryError):
                        log.warning("%s: reconcile failed (%d in a row): %s", key, failures, exc)
                    status = failed_status(str(exc), failures)
                else:
                    # A run that failed is retried as a reconcile that raised: with the backoff
                    # (its re-run resumes the failed steps), not at the next resync.
                    failures = failures + 1 if outcome.result.phase == "failed" else 0
                    parked = waiting(outcome.result)  # a step waits for readiness: the reconcile ended
                    parks, parked_steps = (parks + 1, outcome.result.steps) if parked else (0, {})
                    (self._parked.add if parked else self._parked.discard)(key)
                    self.waiters.parked(key, parked_steps)
                    view = outcome.view
                    status = outcome.status | {"failures": failures}
                    if failures:
                        said = status.get("message") or "failed"
                        status["message"] = f"{said} (retry in {backoff(failures):.0f}s)"
                    corrected = sum(
                        1 for _d, change in outcome.corrected if change in ("created", "configured")
                    )
                    self.metrics.drift_corrections.inc(corrected)
                    status["driftCorrections"] = (
                        int(self.written.current(key, body.get("status") or {}).get("driftCorrections") or 0)
                        + corrected
                    )
                    if status.get("app"):
                        self._owner[(str(body["metadata"]["namespace"]), str(status["app"]))] = key
                # The reconcile's own time: waiting for a worker is pyvela_queue_depth's to show.
                self.metrics.reconcile_seconds.observe(time.monotonic() - (began[0] if began else started))
                self.metrics.phase(key, str(status.get("phase")))
                status["observedGeneration"] = body.get("metadata", {}).get("generation")
                status["lastReconciled"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                seen = dict(body) | {"status": self.written.current(key, body.get("status") or {})}
                status = self.served.shape(seen, status, view)
                if self.served.changed(seen["status"], status):  # a no-change resync: no write
                    loop = asyncio.get_running_loop()
                    await loop.run_in_executor(
                        self.status_pool, self.write_status, seen, status, body.get("status") or {}
                    )
                delay = backoff(failures) if failures else self.resync
                if parks and not failures:  # woken by its objects' next change, else requeued soon
                    delay = requeue_after(parks, parked_steps, self.resync)
                await self._sleep(key, delay, stopped, failing=failures > 0)
        finally:
            self._wakes.pop(key, None)
            self._parked.discard(key)
            self.waiters.parked(key, {})
            self.written.forget(key)

    def write_status(
        self, body: Mapping[str, Any], status: dict[str, Any], in_body: Mapping[str, Any] | None = None
    ) -> None:
        """Patch ``body``'s status (``body`` with the status we know the server has) to
        ``status``; ``in_body``: the status kopf's body showed, if not that one."""
        old = dict(body.get("status") or {})
        status = self.served.patch(old, status)
        meta = body["metadata"]
        ref = ObjectRef(self.served.api_version, self.served.kind, meta["namespace"], meta["name"])
        try:
            answer = merge_patcher(self.reconciler.backend).merge_patch(ref, {"status": status}, status=True)
        except Exception as exc:  # gone meanwhile, or a conflict: the next reconcile writes it
            log.info("%s: status not written: %s", key_of(body), exc)
            return
        written = (answer or {}).get("status") if answer else status  # the server's answer, pruned
        self.written.wrote(key_of(body), old if in_body is None else in_body, written or {})

    def finalize(self, body: Any, retry: int) -> None:
        key = key_of(body)
        deleting = self.served.deleting
        if deleting and (body.get("status") or {}).get("status") != deleting.get("status"):
            self.write_status(dict(body), dict(deleting))  # KubeVela's phase while it goes
        try:
            result = self.reconciler.finalize(dict(body))
        except Exception as exc:
            raise kopf.TemporaryError(f"delete failed: {exc}", delay=backoff(retry + 1)) from None
        self.metrics.phase(key, None)
        log.info("%s: deleted (%s)", key, result.message or result.phase)

    def control(self, body: Mapping[str, Any], action: str) -> None:
        """Suspend or terminate the app's workflow (a deploy running on a worker is signalled)."""
        try:
            result = self.reconciler.request(body, action)
        except Exception as exc:  # the next request (an event of the resource) tries again
            log.warning("%s: %s not requested: %s", key_of(body), action, exc)
        else:
            log.info("%s: %s", key_of(body), result.message or result.phase)

    def owned_changed(self, body: Any, event_type: str | None) -> None:
        meta = body.get("metadata") or {}
        uid = str(meta.get("uid"))
        cache = getattr(self.reconciler, "cache", None)  # what a no-op reconcile reads
        for waiter in self.waiters.of(body):  # what a parked run waits for changed (or went)
            self.wake(waiter, "awaited")
        if is_state(body):  # a state record's save is no drift: kept for the reads, wakes nothing
            if cache is not None and event_type == "DELETED":
                cache.drop(body)
            elif cache is not None:
                cache.put_state(body, listed=event_type is None)
            return
        if event_type == "DELETED":
            self._seen.pop(uid, None)
            if cache is not None:
                cache.drop(body)
        else:
            if cache is not None:  # before the wake-up: the reconcile it causes sees this version
                cache.put(body, listed=event_type is None)
            digest = essence(body)
            first = uid not in self._seen
            if self._seen.get(uid) == digest and self._owner_key(meta) not in self._parked:
                return  # a status update, or the server's own bookkeeping (a parked app's objects excepted)
            self._seen[uid] = digest
            if first and event_type is None:
                return  # the watch's initial listing: each app's loop starts with a reconcile anyway
        key = self._owner_key(meta)
        if key is not None:
            self.wake(key, "drift")

    def _owner_key(self, meta: Mapping[str, Any]) -> str | None:
        """The Application resource's key of an owned object (by its app label)."""
        app = (meta.get("labels") or {}).get(LABEL_APP)
        namespace = meta.get("namespace")
        if not app or not namespace:
            return None
        return self._owner.get((namespace, app), f"{namespace}/{app}")

    # ------------------------------------------------------------------ kopf registration

    def registry(self, kinds: Sequence[tuple[str, str]], login: Callable[..., Any]) -> Any:
        registry = kopf.OperatorRegistry()
        controller = self
        served = self.served

        owns = controller.owns
        mine = (lambda body, **_: owns(body)) if owns is not None else None

        @kopf.on.startup(registry=registry)
        def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
            settings.persistence.finalizer = controller.finalizer
            settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
            settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
                prefix=GROUP, key="last-handled-configuration"
            )
            settings.posting.enabled = False  # the controller's own Events say what happened
            # Filtered by the API server: a cluster's other Secrets (tokens, helm's releases)
            # are never sent to the controller (the handlers' labels filter after receipt).
            settings.watching.label_selectors["v1", "secrets"] = f"{LABEL_MANAGED_BY}={MANAGER}"
            settings.watching.server_timeout = 270
            settings.watching.client_timeout = 300
            controller.metrics.healthy.set()

        kopf.on.login(registry=registry)(login)

        @kopf.daemon(
            served.group, served.version, served.plural, registry=registry, cancellation_timeout=5, when=mine
        )
        async def application(body: Any, stopped: Any, **_: Any) -> None:
            backend = controller.reconciler.backend
            await controller._blocking(drop_stale_finalizers, backend, dict(body), controller.finalizer)
            await controller.app_loop(body, stopped)

        @kopf.on.update(
            served.group, served.version, served.plural, field="spec", registry=registry, when=mine
        )
        async def spec_changed(body: Any, **_: Any) -> None:
            controller.wake(key_of(body), "spec")

        # kopf's diffs leave the status out: a resume asked for in it is seen in the raw events.
        @kopf.on.event(served.group, served.version, served.plural, registry=registry, when=mine)
        async def status_changed(body: Any, **_: Any) -> None:
            action = served.control_requested(body)  # `vela workflow suspend|terminate`
            if action is not None:
                try:
                    await controller._blocking(controller.control, dict(body), action, gated=True)
                except NotLeading:
                    return  # the shard's new leader sees the request
            if (
                action is not None
                or served.resume_requested(body)
                or served.restart_requested(body) is not None
            ):
                controller.wake(key_of(body), "control")

        @kopf.on.delete(served.group, served.version, served.plural, registry=registry, backoff=5, when=mine)
        async def deleted(body: Any, retry: int, **_: Any) -> None:
            try:
                await controller._blocking(controller.finalize, dict(body), retry, gated=True)
            except NotLeading:
                raise kopf.TemporaryError("not the shard's leader any more", delay=5) from None

        # Secrets always: the state records' parts come from the watch (see ``cache.Reads``).
        for api, kind in sorted({*kinds, ("v1", "Secret")}):
            group, _, version = api.rpartition("/")

            def watch(body: Any, type: str | None, **_: Any) -> None:
                controller.owned_changed(body, type)

            kopf.on.event(
                group=group,
                version=version,
                plural=plural(api, kind),
                labels={LABEL_MANAGED_BY: MANAGER},
                registry=registry,
                id=f"owned-{kind}",
            )(watch)
        return registry

    async def run(self, registry: Any, *, namespaces: Sequence[str] = (), stop_flag: Any = None) -> None:
        await kopf.operator(
            registry=registry,
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            stop_flag=stop_flag,
            ready_flag=self.metrics.ready,
        )
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.status_pool.shutdown(wait=False, cancel_futures=True)
