"""An app's life on a cluster: deploy (new revision or resume), restart, suspend/resume,
terminate, rollback, delete and prune, all on the in-cluster state record.

What each revision holds is built in ``revisions``; reading (history, status) is ``view``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pyvela._app.guardrails import record_lines
from pyvela._app.loader import LoadedApp
from pyvela._app.references import no_such_step
from pyvela._app.render import RenderedComponent
from pyvela._backends.protocol import Backend
from pyvela._configcentre.protocol import ConfigCentre
from pyvela._core.objects import LABEL_MANAGED_BY, MANAGER, ObjectRef
from pyvela._core.policies_builtin import GarbageCollectParams
from pyvela._core.reads import reading
from pyvela._workflow.adopt import adopted_refs
from pyvela._workflow.control import ControlWatcher, request_control
from pyvela._workflow.deploying import reapply
from pyvela._workflow.engine import (
    FAILED,
    SUSPENDING,
    Engine,
    reset_steps,
)
from pyvela._workflow.events import Event, EventSink, Fanout, StepLogs
from pyvela._workflow.executor import ConfigSettings, Executor
from pyvela._workflow.gc import prune
from pyvela._workflow.inventory import Inventory
from pyvela._workflow.named import delete_record
from pyvela._workflow.parking import WAITING, supersede, waiting_message
from pyvela._workflow.policies import ResourcePolicies
from pyvela._workflow.registrations import restore
from pyvela._workflow.results import Options, RunResult
from pyvela._workflow.revisions import (
    dependants,
    guard_new_namespace,
    new_revision,
    reset_keeping_logs,
    rollback_revision,
    rollback_target,
)
from pyvela._workflow.state import AppLock, StateStore, new_record, now_iso
from pyvela._workflow.state_events import StateEvents
from pyvela._workflow.view import AppView
from pyvela.errors import PyvelaError, WorkflowError


class AppOps:
    """Operations on one app on one backend, each under the app's lock."""

    def __init__(
        self,
        backend: Backend,
        loaded: LoadedApp,
        *,
        events: EventSink,
        config_centre: Callable[[], ConfigCentre],
        config: ConfigSettings | None = None,
        namespace: str | None = None,
        options: Options | None = None,
    ) -> None:
        self.backend = backend
        if namespace and namespace != loaded.app.namespace:
            # `-n` moves the whole app (its objects, state and lock), as kubectl's does.
            loaded = attrs.evolve(loaded, app=attrs.evolve(loaded.app, namespace=namespace))
        self.loaded = loaded
        self.app = loaded.app.name
        self.namespace = namespace or loaded.app.namespace
        # Each revision's start and end are also Events on the state record (kubectl get events).
        self.events: EventSink = Fanout(events, StateEvents(backend, self.app, self.namespace))
        self.config_centre = config_centre
        self.config = config or ConfigSettings(app_id=self.app)
        self.options = options or Options()
        self.store = StateStore(backend, self.app, self.namespace)
        self._state_lock = threading.RLock()
        #: Components rendered by the last new revision, for its steps (see ``new_revision``).
        self.renders: dict[str, RenderedComponent] = {}

    # ------------------------------------------------------------------ helpers

    def _policy(self, name: str) -> Any:
        for p in self.loaded.app.policies:
            if p.definition.name == name:
                return p.params
        return None

    def _nothing(self, message: str) -> RunResult:
        return RunResult(
            app=self.app,
            namespace=self.namespace,
            target=self.backend.description,
            revision=0,
            hash="",
            phase="deleted",
            message=message,
        )

    def _locked(self, fn: Callable[[], RunResult], *, create_namespace: bool = True) -> RunResult:
        namespace = ObjectRef("v1", "Namespace", "", self.namespace)
        if self.backend.get(namespace) is None:
            if not create_namespace:
                return self._nothing(f"namespace {self.namespace!r} does not exist: nothing to do")
            # The lock and the state live in the app's namespace, so it must exist first.
            self.backend.apply(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": self.namespace, "labels": {LABEL_MANAGED_BY: MANAGER}},
                }
            )
        lock = AppLock(self.backend, self.app, self.namespace)
        lock.acquire(wait=self.options.wait_lock)
        try:
            return fn()
        finally:
            lock.release()

    def _result(
        self,
        rev: Mapping[str, Any],
        *,
        up_to_date: bool = False,
        message: str = "",
        pruned: tuple[str, ...] = (),
    ) -> RunResult:
        return RunResult(
            app=self.app,
            namespace=self.namespace,
            target=self.backend.description,
            revision=int(rev["number"]),
            hash=str(rev["hash"]),
            phase=str(rev["phase"]),
            up_to_date=up_to_date,
            message=message or str(rev.get("message") or ""),
            steps=rev.get("steps") or {},
            pruned=pruned,
        )

    def _executor(self, inventory: Inventory, events: EventSink | None = None, rec: Any = None) -> Executor:
        return Executor(
            self.loaded,
            self.backend,
            events=events or self.events,
            inventory=inventory,
            config_centre=self.config_centre,
            config=self.config,
            namespace=self.namespace,
            force_conflicts=self.options.force_conflicts,
            policies=ResourcePolicies(
                ((p.definition.name, p.params) for p in self.loaded.app.policies),
                # From the spec: an app rebuilt from its record (a rollback by name) has it alone.
                component_types={c["name"]: c["type"] for c in self.loaded.spec.get("components") or []},
            ),
            adopted=adopted_refs(rec),
            renders=self.renders,
            park=self.options.park,
        )

    def _load(self) -> dict[str, Any]:
        return self.store.load() or new_record(self.app, self.namespace)

    # ------------------------------------------------------------------ deploy & friends

    def deploy(self) -> RunResult:
        """Deploy: a no-op when up to date, a resume after a kill or failure, else a new revision."""
        guard_new_namespace(self.backend, self.loaded, self.namespace)
        return self._locked(self._deploy)

    def _deploy(self) -> RunResult:
        record = self._load()
        latest = record["revisions"][-1] if record["revisions"] else None
        if latest is not None and latest["hash"] == self.loaded.revision and latest.get("kind") == "deploy":
            phase = latest["phase"]
            if phase == "succeeded":
                self.events.emit(
                    Event(kind="up-to-date", message=f"revision {latest['number']} is up to date")
                )
                return self._result(latest, up_to_date=True, message="up to date")
            if phase == "suspended":
                return self._result(latest, message="the workflow is suspended: run `pyvela workflow resume`")
            if phase == "terminated":
                return self._result(
                    latest, message="the workflow was terminated: run `pyvela workflow restart`"
                )
            # A killed or failed run of the same revision resumes: finished steps keep their
            # outputs, interrupted ones replay their journal, failed and skipped ones run again.
            redo = [n for n, s in latest["steps"].items() if s["phase"] not in ("succeeded",)]
            reset_keeping_logs(latest["steps"], redo)
            latest["phase"] = "running"
            # A parked run going on is not news (no Event on the record each time it looks again).
            data = {"waiting": True} if phase == WAITING else {}
            self.events.emit(
                Event(kind="resumed", message=f"resuming revision {latest['number']}", data=data)
            )
            return self._run(record, latest)
        supersede(latest)  # a parked run of the old spec never goes on: history says so
        with reading(self.backend):  # the planned objects of ref-objects are read from it
            rev = new_revision(record, self.loaded, renders=self.renders)
        return self._run(record, rev)

    def resume(self) -> RunResult:
        """Resume a suspended workflow: suspended steps continue past their suspend."""

        def go() -> RunResult:
            record, rev = self._current()
            if rev["phase"] != "suspended":
                return self._result(rev, message=f"nothing to resume: the workflow is {rev['phase']}")
            for st in rev["steps"].values():
                if st["phase"] == SUSPENDING:
                    st["resumed"] = True
            reset_keeping_logs(
                rev["steps"], [n for n, s in rev["steps"].items() if s["phase"] != "succeeded"]
            )
            rev["phase"] = "running"
            self.events.emit(Event(kind="resumed", message=f"resuming suspended revision {rev['number']}"))
            return self._run(record, rev)

        return self._locked(go)

    def restart(self, step: str | None = None) -> RunResult:
        """Run the current revision again from the start, or from ``step`` and its dependants."""

        def go() -> RunResult:
            if step is not None and step not in self.loaded.plan.steps:  # before a new revision runs
                raise no_such_step(step, self.loaded.plan.steps)
            record = self._load()
            if not record["revisions"] or record["revisions"][-1]["hash"] != self.loaded.revision:
                with reading(self.backend):
                    rev = new_revision(record, self.loaded, renders=self.renders)
                return self._run(record, rev)
            rev = record["revisions"][-1]
            if step is None:
                names = list(rev["steps"])
            else:
                if step not in rev["steps"]:
                    raise WorkflowError(f"no step named {step!r}", expected=", ".join(rev["steps"]), got=step)
                names = [step, *dependants(self.loaded.plan, step)]
            reset_steps(rev["steps"], names, keep_journal=False)
            rev["phase"] = "running"
            return self._run(record, rev)

        return self._locked(go)

    def _current(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return AppView(self.backend, self.store).current()

    def _run(self, record: dict[str, Any], rev: dict[str, Any]) -> RunResult:
        inventory = Inventory(rev.get("inventory"))

        def save(changed: Iterable[str] | None = None) -> None:
            rev["inventory"] = inventory.to_data()
            self.store.save(record, changed)

        # Inventory entries name their step (`status` lists what an interrupted step applied):
        # the engine saves what was applied within a second, with its other saves if it can.
        logs = StepLogs(
            self.events, rev["steps"], lock=self._state_lock, save=save, applied=lambda *_: engine.applied()
        )
        executor = self._executor(inventory, logs, record)
        engine = Engine(
            self.loaded,
            executor,
            rev,
            events=self.events,
            save=save,
            state_lock=self._state_lock,
            parallel=self.options.parallel,
            retries=self.options.retries,
            backoff=self.options.backoff,
        )
        with self._state_lock:
            save()  # the pending revision is recorded before anything is applied
        for line in record_lines(rev.get("guardrails")):  # what the checks waived or warn about
            self.events.emit(Event(kind="guardrail", message=line))
        self.events.emit(
            Event(
                kind="run-started",
                message=f"revision {rev['number']} on {self.backend.description}",
                data={"revision": rev["number"], "target": self.backend.description, "kind": rev.get("kind")},
            )
        )
        watcher = ControlWatcher(self.backend, self.app, self.namespace, engine)
        watcher.start()
        try:
            phase = engine.run()
        finally:
            watcher.stop()
            executor.close()
        pruned: tuple[str, ...] = ()
        with self._state_lock:
            rev["phase"] = phase
            rev["finished"] = now_iso() if phase in ("succeeded", "failed", "terminated") else None
            failed = [n for n, s in rev["steps"].items() if s["phase"] == FAILED]
            rev["message"] = f"failed steps: {', '.join(failed)}" if failed else waiting_message(rev["steps"])
            save()
        if phase == "succeeded" or (phase == FAILED and self._gc().continue_on_failure):
            pruned = self._prune(record, rev, failed=phase == FAILED)
        done = {"phase": phase, "revision": rev["number"], "message": rev["message"]}
        self.events.emit(Event(kind="run-finished", message=phase, data=done))
        return self._result(rev, pruned=pruned)

    # ------------------------------------------------------------------ prune / delete / rollback

    def _gc(self) -> GarbageCollectParams:
        gc = self._policy("garbage-collect")
        return gc if isinstance(gc, GarbageCollectParams) else GarbageCollectParams()

    def _prune(self, record: dict[str, Any], rev: dict[str, Any], *, failed: bool = False) -> tuple[str, ...]:
        def save() -> None:
            with self._state_lock:  # what it keeps is noted in the record, for a later delete
                self.store.save(record, ())

        me, gc = f"{self.namespace}/{self.app}", self._gc()
        return prune(self.backend, record, rev, gc, me=me, events=self.events, failed=failed, save=save)

    def delete(self) -> RunResult:
        """Delete everything the app owns (reverse order of application), then its state."""

        def go() -> RunResult:
            record = self.store.load()
            if record is None:
                return self._nothing("nothing to delete")
            gc = self._gc()
            return delete_record(self.backend, self.store, record, gc, self.events, self.config_centre)

        return self._locked(go, create_namespace=False)

    def rollback(self, number: int | None = None) -> RunResult:
        """Re-apply the objects of an earlier succeeded revision, wait for them, prune the rest."""

        def go() -> RunResult:
            record, _current = self._current()
            target = rollback_target(record, number)
            rev = rollback_revision(record, target)
            self.store.save(record)
            started = {"revision": rev["number"], "kind": "rollback", "target": self.backend.description}
            of = f"revision {rev['number']}: a rollback to {target['number']} on {self.backend.description}"
            self.events.emit(Event(kind="run-started", message=of, data=started))
            inventory = Inventory()
            executor = self._executor(inventory)
            try:
                reapply(executor, target.get("inventory") or [])  # each object on its cluster
                rev["registrations"] = restore(target, self.config_centre, app=self.app, events=self.events)
                rev["phase"] = "succeeded"
            except PyvelaError as exc:
                rev["phase"], rev["message"] = "failed", str(exc)
            finally:
                executor.close()
                rev["inventory"] = inventory.to_data()
                rev["finished"] = now_iso()
                self.store.save(record)
            pruned = self._prune(record, rev) if rev["phase"] == "succeeded" else ()
            done = {"phase": rev["phase"], "revision": rev["number"], "message": rev.get("message")}
            self.events.emit(Event(kind="run-finished", message=str(rev["phase"]), data=done))
            return self._result(rev, pruned=pruned)

        return self._locked(go)

    def rollback_target(self, number: int | None = None) -> dict[str, Any]:
        """The revision a rollback to ``number`` (default: the last success before the current) re-applies."""
        record, _current = self._current()
        return rollback_target(record, number)

    # ------------------------------------------------------------------ control of a running workflow

    def request(self, action: str) -> RunResult:
        """Suspend or terminate: signal the running deploy, or change the record if none runs."""
        rev, message = request_control(AppView(self.backend, self.store), action)
        return self._result(rev, message=message)

    # ------------------------------------------------------------------ reading

    def history(self) -> list[dict[str, Any]]:
        return AppView(self.backend, self.store).history()

    def status(self) -> dict[str, Any]:
        """Steps of the latest revision, and every owned object with its live health."""
        return AppView(self.backend, self.store, self.loaded.app).status()
