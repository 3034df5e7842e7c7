"""The workflow engine: one revision's step graph, run with bounded parallelism.

Steps become runnable when their dependencies are done; their ``if`` condition decides
between running and skipping. A step's outcome is persisted before anything acts on it:
before a step that depends on it (or a condition that reads it) starts, and before it is
reported finished; a journaled side effect is saved at once. Outcomes nothing waits for
are saved together, a little after the first of them (``FLUSH``, longer where saves are
slow): one write for many steps, so a wide app does not rewrite its record per step. A
run killed at any point resumes where it stopped; a step whose outcome was not yet saved
(nor reported) runs again.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pyvela._app.application import PlannedStep
from pyvela._app.loader import LoadedApp
from pyvela._core.actions import StepContext
from pyvela._workflow.driver import StepRun, Suspended, drive
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.executor import Executor
from pyvela._workflow.parking import REASON, WAITING, Parked, park_state, parked_since
from pyvela._workflow.ready import Ready, decide
from pyvela._workflow.state import now_iso
from pyvela._workflow.stepio import outputs_of, resolve_inputs
from pyvela._workflow.waits import parked_action
from pyvela._workflow.watchdog import GRACE, Attempt, start
from pyvela.errors import PyvelaError, StepTimeout

PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED, SUSPENDING = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "suspending",
)
DONE = frozenset({SUCCEEDED, FAILED, SKIPPED})
#: Seconds an outcome that no step waits for may stay unsaved (and unreported), at least;
#: where saves take longer (a real API server, a loaded machine) up to ``FLUSH_MAX``, so
#: that saving takes about ``1 / SAVE_SHARE`` of a run, whatever a save costs.
FLUSH, FLUSH_MAX, SAVE_SHARE = 0.2, 2.0, 20
#: Seconds a step may run before its start is saved: a slow step shows as running to
#: readers in other processes (``status``, the dashboard); a quick one costs no extra write.
STARTED_FLUSH = 1.0
#: Seconds an applied object may stay off the record (``status`` lists what a step applied,
#: one that then blocks too): it goes with the next save, or makes one of its own.
APPLIED_FLUSH = 1.0


def flush_delay(delay: float, took: float) -> float:
    """How long outcomes wait to be saved after a save that took ``took`` seconds (smoothed)."""
    return min(FLUSH_MAX, max(FLUSH, (delay + SAVE_SHARE * took) / 2))


def new_step_state() -> dict[str, Any]:
    return {
        "phase": PENDING,
        "reason": "",
        "message": "",
        "outputs": {},
        "journal": [],
        "resumed": False,
        "started": None,
        "finished": None,
        "elapsed": None,
        "attempts": 0,
    }


@attrs.define
class Outcome:
    phase: str
    reason: str = ""
    message: str = ""
    outputs: dict[str, Any] = attrs.field(factory=dict)
    traceback: str | None = None
    parked: dict[str, Any] | None = None  # a WAITING step's ``parking.park_state``


class Engine:
    """Runs the steps of one revision record (``rev["steps"]`` is updated in place)."""

    def __init__(
        self,
        loaded: LoadedApp,
        executor: Executor,
        rev: dict[str, Any],
        *,
        events: EventSink,
        save: Callable[[Iterable[str]], None],
        state_lock: threading.RLock,
        parallel: int = 8,
        retries: int = 5,
        backoff: float = 0.2,
    ) -> None:
        self.loaded = loaded
        self.plan = loaded.plan
        self.executor = executor
        self.rev = rev
        self.steps: dict[str, dict[str, Any]] = rev["steps"]
        self.events = events
        self.save = save
        self.lock = state_lock
        self.parallel = max(1, parallel)
        self.retries = retries
        self.backoff = backoff
        self.cancel = threading.Event()
        self.suspend_requested = threading.Event()
        self._done: queue.Queue[tuple[str, Outcome]] = queue.Queue()  # only outcomes a thread claimed
        self._started: dict[str, float] = {}
        self._cancelled: float | None = None  # when the engine first saw a terminate
        self._components = {c.name: c.params for c in loaded.app.components}
        self._ready = Ready(self.plan, self.steps, (), DONE)
        self._dirty: set[str] = set()  # steps changed since the last save (guarded by ``lock``)
        self._unsaved: set[str] = set()  # finished steps whose outcome is not saved yet
        self._held: list[Event] = []  # their step-finished events, emitted once saved
        self._flush_at = math.inf  # when the oldest unsaved outcome must be saved
        self._delay = FLUSH  # how long after it (see ``FLUSH``)
        self._applied_at = math.inf  # when objects applied since the last save must be (``applied``)

    def run(self) -> str:
        """Run until nothing can run; returns the revision phase (succeeded/failed/suspended/terminated)."""
        pending = [n for n in self.plan.order if self.steps[n]["phase"] in (PENDING, RUNNING)]
        for name in pending:
            self.steps[name]["phase"] = PENDING
        self._dirty.update(pending)
        self._ready = Ready(self.plan, self.steps, pending, DONE)
        running: dict[str, Attempt] = {}
        while True:
            self._schedule(running)
            if not running:
                self._save()
                break
            for name, outcome in self._next(running):
                del running[name]
                self._finish(name, outcome)
            if time.monotonic() >= min(self._flush_at, self._applied_at):
                self._save()
        return self._phase()

    def applied(self) -> None:
        """A step applied an object: it is on record within ``APPLIED_FLUSH`` seconds.

        Called on step threads, which may hold the sandbox's batch that a save (made under
        ``lock``) waits for: so no lock; ``_save`` clears the time before it encodes the record,
        and an object applied before that is in the record it saves.
        """
        if self._applied_at == math.inf:
            self._applied_at = time.monotonic() + APPLIED_FLUSH

    def _next(self, running: Mapping[str, Attempt]) -> list[tuple[str, Outcome]]:
        """The outcomes that came in; a step still running past its deadline is abandoned.

        Returns (maybe with nothing) when unsaved outcomes are due to be saved.
        """
        batch: list[tuple[str, Outcome]] = []
        while not batch:
            if self.cancel.is_set() and self._cancelled is None:
                self._cancelled = time.monotonic()
            # A terminate ends even a blocked step: it gets the same grace as a deadline.
            stop = math.inf if self._cancelled is None else self._cancelled + GRACE
            due = min(self._flush_at, self._applied_at)
            expires = min(min(at.expires for at in running.values()), stop, due)
            wait = min(max(0.0, expires - time.monotonic()), 1.0)  # 1 s: notice a terminate
            try:
                batch.append(self._done.get(timeout=wait))
                while True:
                    batch.append(self._done.get_nowait())
            except queue.Empty:
                pass
            now = time.monotonic()
            for name, attempt in running.items():
                if now >= min(attempt.expires, stop) and attempt.abandon():
                    if now >= attempt.expires:
                        batch.append((name, Outcome(FAILED, "Timeout", attempt.message())))
                    else:
                        batch.append((name, Outcome(FAILED, "Terminate", attempt.terminated())))
            if now >= due:
                break
        return batch

    # ------------------------------------------------------------------ scheduling

    def _schedule(self, running: dict[str, Attempt]) -> bool:
        """Start (or skip) the ready steps, earliest in plan order first, up to ``parallel``."""
        if self.cancel.is_set():
            cancelled = self._ready.drain()
            for name in cancelled:
                self._set(name, SKIPPED, "Terminate", "the workflow was terminated")
            return bool(cancelled)
        changed = False
        while not self.suspend_requested.is_set() and len(running) < self.parallel:
            ready = self._ready.pop()
            if ready is None:
                break
            name = ready
            planned = self.plan.steps[name]
            if self._unsaved and (callable(planned.condition) or planned.dependencies & self._unsaved):
                self._save()  # what it builds on (or its condition reads) is on record first
            run_it, reason = decide(planned, self.steps, self.lock)
            changed = True
            if reason.startswith("ConditionError"):
                self._set(name, FAILED, "ConditionError", reason.removeprefix("ConditionError: "))
            elif not run_it:
                self._set(name, SKIPPED, reason, "skipped: " + reason)
            else:
                running[name] = self._start(name, planned)
        return changed

    def _set(self, name: str, phase: str, reason: str = "", message: str = "") -> None:
        with self.lock:
            self._dirty.add(name)
            st = self.steps[name]
            st.update(phase=phase, reason=reason, message=message)
            if phase in DONE or phase == SUSPENDING:
                st["finished"] = now_iso()
        if phase in DONE:
            self._ready.finished(name)
        data: dict[str, Any] = {"phase": phase, "reason": reason}
        if name in self._started:
            data["elapsed"] = round(time.monotonic() - self._started[name], 3)
            with self.lock:
                self.steps[name]["elapsed"] = data["elapsed"]
        event = Event(
            kind="step-finished" if phase != RUNNING else "step-started",
            step=name,
            message=message,
            data=data,
        )
        if phase in DONE or phase in (SUSPENDING, WAITING):
            with self.lock:
                self._unsaved.add(name)
                self._held.append(event)  # reported once saved: a success shown is a success kept
                self._flush_at = min(self._flush_at, time.monotonic() + self._delay)
        else:
            self.events.emit(event)

    def _start(self, name: str, planned: PlannedStep) -> Attempt:
        with self.lock:
            self._dirty.add(name)
            st = self.steps[name]
            st.update(phase=RUNNING, reason="", message="", started=now_iso(), finished=None)
            st["attempts"] = int(st.get("attempts") or 0) + 1
            journal = list(st.get("journal") or [])
            resumed = bool(st.get("resumed"))
            since = parked_since(st)
            self._flush_at = min(self._flush_at, time.monotonic() + STARTED_FLUSH)
        self._started[name] = time.monotonic()
        self.events.emit(
            Event(
                kind="step-started",
                step=name,
                message=planned.use.definition.name,
                data={"type": planned.use.definition.name},
            )
        )
        attempt = Attempt.begin(name, planned.timeout, since)
        start(attempt, lambda: self._worker(attempt, planned, journal, resumed))
        return attempt

    def _finish(self, name: str, outcome: Outcome) -> None:
        with self.lock:
            self._dirty.add(name)
            st = self.steps[name]
            st["outputs"] = outcome.outputs
            st.pop("parked", None)
            if outcome.parked is not None:
                st["parked"] = outcome.parked
            if outcome.traceback:
                st["traceback"] = outcome.traceback
        self._set(name, outcome.phase, outcome.reason, outcome.message)

    def _phase(self) -> str:
        phases = [self.steps[n]["phase"] for n in self.plan.order]
        if self.cancel.is_set():
            return "terminated"
        if SUSPENDING in phases or (self.suspend_requested.is_set() and PENDING in phases):
            return "suspended"
        if WAITING in phases and FAILED not in phases:
            return WAITING  # the controller's run parked: it goes on at its next reconcile
        if all(p in (SUCCEEDED, SKIPPED) for p in phases) and FAILED not in phases:
            return "succeeded"
        return "failed"

    def _save(self) -> None:
        """Save every change since the last save, then report the outcomes it made durable."""
        with self.lock:
            if not self._dirty and self._applied_at == math.inf:
                return
            self._applied_at = math.inf
            began = time.monotonic()
            self.save(self._dirty)
            took = time.monotonic() - began
            self._delay = flush_delay(self._delay, took)
            self._dirty = set()
            held, self._held = self._held, []
            self._unsaved = set()
            self._flush_at = math.inf
        for event in held:
            self.events.emit(event)

    # ------------------------------------------------------------------ one step

    def _worker(
        self, attempt: Attempt, planned: PlannedStep, journal: list[dict[str, Any]], resumed: bool
    ) -> None:
        try:
            outcome = self._run_step(attempt, planned, journal, resumed)
        except BaseException as exc:  # a runner bug must still end the step, never hang the run
            outcome = Outcome(
                FAILED,
                "Error",
                f"internal error: {type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(),
            )
        if attempt.report():  # an abandoned step's outcome is already decided: Timeout
            self._done.put((attempt.name, outcome))

    def _journal(self, attempt: Attempt, journal: list[dict[str, Any]]) -> None:
        with attempt.writing(), self.lock:
            self.steps[attempt.name]["journal"] = journal
            self.save((attempt.name,))

    def _run_step(
        self, attempt: Attempt, planned: PlannedStep, journal: list[dict[str, Any]], resumed: bool
    ) -> Outcome:
        name, use, deadline = attempt.name, planned.use, attempt.deadline
        try:
            params = resolve_inputs(name, planned, self.steps, self.lock)
            ctx = StepContext(
                step_name=name,
                app_name=self.loaded.app.name,
                namespace=self.executor.namespace,
                app_revision=f"{self.loaded.app.name}-{self.loaded.revision[:10]}",
                components=self._components,
            )
            run = StepRun(
                name=name,
                definition=use.definition.name,
                journal=journal,
                resumed=resumed,
                retries=self.retries if use.retries is None else use.retries,
                backoff=self.backoff,
                on_journal=lambda j: self._journal(attempt, j),
                park=parked_action if getattr(self.executor, "park", False) else None,
            )
            result = drive(
                use.definition.run(params, ctx),
                run,
                lambda action: self.executor.perform(
                    action, step=name, deadline=deadline, cancel=self.cancel, since=attempt.since
                ),
                deadline=deadline,
                cancel=self.cancel,
                where=use.where,
                observe=attempt.observe,
            )
            return Outcome(SUCCEEDED, outputs=outputs_of(name, use, result))
        except Parked as exc:
            parked = park_state(exc, since=attempt.since, timeout=attempt.timeout)
            return Outcome(WAITING, REASON, exc.message, parked=parked)
        except Suspended:
            return Outcome(SUSPENDING, "Suspend", "waiting for `pyvela workflow resume`")
        except StepTimeout as exc:
            return Outcome(FAILED, "Timeout", f"{exc.message} (timeout {attempt.timeout:g}s)")
        except PyvelaError as exc:
            reason = (
                "Terminate" if self.cancel.is_set() else str(exc.context.get("reason") or type(exc).__name__)
            )
            return Outcome(FAILED, reason, str(exc), traceback=getattr(exc, "traceback", None))


def reset_steps(steps: Mapping[str, dict[str, Any]], names: list[str], *, keep_journal: bool) -> None:
    """Make ``names`` pending again (a resume keeps journals; a restart clears them)."""
    for n in names:
        st = steps[n]
        journal = st.get("journal") if keep_journal else []
        resumed = st.get("resumed") if keep_journal else False
        attempts, parked = st.get("attempts") or 0, st.get("parked") if keep_journal else None
        st.clear()
        st.update(new_step_state(), journal=journal or [], resumed=bool(resumed), attempts=attempts)
        if parked:  # its deadline still counts from its first start
            st["parked"] = parked
