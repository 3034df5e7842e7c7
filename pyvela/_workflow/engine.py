"""The workflow engine: one revision's step graph, run with bounded parallelism.

Steps become runnable when their dependencies are done; their ``if`` condition decides
between running and skipping. Every transition is persisted (batched per scheduling
round, and at once after a journaled side effect) before the engine acts on it, so a run
killed at any point resumes where it stopped.
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
from pyvela._core.params import Ref, check_value, param_fields, type_name
from pyvela._core.steps import WorkflowView, where_of_condition
from pyvela._workflow.driver import StepRun, Suspended, drive
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.executor import Executor
from pyvela._workflow.ready import Ready
from pyvela._workflow.state import now_iso
from pyvela._workflow.watchdog import GRACE, Attempt, start
from pyvela.errors import PyvelaError, StepError, StepTimeout

PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED, SUSPENDING = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "suspending",
)
DONE = frozenset({SUCCEEDED, FAILED, SKIPPED})


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

    def run(self) -> str:
        """Run until nothing can run; returns the revision phase (succeeded/failed/suspended/terminated)."""
        pending = [n for n in self.plan.order if self.steps[n]["phase"] in (PENDING, RUNNING)]
        for name in pending:
            self.steps[name]["phase"] = PENDING
        self._dirty.update(pending)
        self._ready = Ready(self.plan, self.steps, pending, DONE)
        running: dict[str, Attempt] = {}
        while True:
            changed = self._schedule(running)
            if not running:
                if changed:
                    self._save()
                break
            for name, outcome in self._next(running, unsaved=changed):
                del running[name]
                self._finish(name, outcome)
            self._save()  # before any dependant starts
        return self._phase()

    def _next(self, running: Mapping[str, Attempt], *, unsaved: bool) -> list[tuple[str, Outcome]]:
        """The outcomes that came in; a step still running past its deadline is abandoned.

        The steps just started are saved as running before waiting, unless outcomes are in
        already: then the save after them records both, one write instead of two per round.
        """
        batch: list[tuple[str, Outcome]] = []
        while not batch:
            if unsaved and self._done.empty():
                self._save()
                unsaved = False
            if self.cancel.is_set() and self._cancelled is None:
                self._cancelled = time.monotonic()
            # A terminate ends even a blocked step: it gets the same grace as a deadline.
            stop = math.inf if self._cancelled is None else self._cancelled + GRACE
            expires = min(min(at.expires for at in running.values()), stop)
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
            run_it, reason = self._decide(planned)
            changed = True
            if reason.startswith("ConditionError"):
                self._set(name, FAILED, "ConditionError", reason.removeprefix("ConditionError: "))
            elif not run_it:
                self._set(name, SKIPPED, reason, "skipped: " + reason)
            else:
                running[name] = self._start(name, planned)
        return changed

    def _decide(self, planned: PlannedStep) -> tuple[bool, str]:
        phases = {d: self.steps[d]["phase"] for d in planned.dependencies}
        cond = planned.condition
        if cond == "always":
            return True, ""
        if cond == "on-success":
            bad = [d for d, p in phases.items() if p != SUCCEEDED]
            return (not bad), (f"DependencyNotSucceeded ({', '.join(sorted(bad))})" if bad else "")
        if callable(cond):
            with self.lock:
                view = WorkflowView(
                    phases={n: s["phase"] for n, s in self.steps.items()},
                    outputs={n: dict(s.get("outputs") or {}) for n, s in self.steps.items()},
                    reasons={n: str(s.get("reason") or "") for n, s in self.steps.items()},
                )
            try:
                ok = bool(cond(view))
            except Exception as exc:
                # A condition that cannot be decided fails its step: skipping it would let the
                # run succeed without the step, and nobody asked for that.
                at = where_of_condition(cond, exc)
                return False, f"ConditionError: its .when() condition raised {type(exc).__name__}: {exc}" + (
                    f" at {at}" if at else ""
                )
            return ok, "" if ok else "ConditionNotMet"
        return False, f"UnknownCondition ({cond!r})"

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
        self.events.emit(
            Event(
                kind="step-finished" if phase != RUNNING else "step-started",
                step=name,
                message=message,
                data=data,
            )
        )

    def _start(self, name: str, planned: PlannedStep) -> Attempt:
        with self.lock:
            self._dirty.add(name)
            st = self.steps[name]
            st.update(phase=RUNNING, reason="", message="", started=now_iso(), finished=None)
            st["attempts"] = int(st.get("attempts") or 0) + 1
            journal = list(st.get("journal") or [])
            resumed = bool(st.get("resumed"))
        self._started[name] = time.monotonic()
        self.events.emit(
            Event(
                kind="step-started",
                step=name,
                message=planned.use.definition.name,
                data={"type": planned.use.definition.name},
            )
        )
        attempt = Attempt.begin(name, planned.timeout)
        start(attempt, lambda: self._worker(attempt, planned, journal, resumed))
        return attempt

    def _finish(self, name: str, outcome: Outcome) -> None:
        with self.lock:
            self._dirty.add(name)
            st = self.steps[name]
            st["outputs"] = outcome.outputs
            if outcome.traceback:
                st["traceback"] = outcome.traceback
        self._set(name, outcome.phase, outcome.reason, outcome.message)

    def _phase(self) -> str:
        phases = [self.steps[n]["phase"] for n in self.plan.order]
        if self.cancel.is_set():
            return "terminated"
        if SUSPENDING in phases or (self.suspend_requested.is_set() and PENDING in phases):
            return "suspended"
        if all(p in (SUCCEEDED, SKIPPED) for p in phases) and FAILED not in phases:
            return "succeeded"
        return "failed"

    def _save(self) -> None:
        with self.lock:
            self.save(self._dirty)
            self._dirty = set()

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
            params = self._resolve(name, planned)
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
                retries=use.retries or self.retries,
                backoff=self.backoff,
                on_journal=lambda j: self._journal(attempt, j),
            )
            result = drive(
                use.definition.run(params, ctx),
                run,
                lambda action: self.executor.perform(
                    action, step=name, deadline=deadline, cancel=self.cancel
                ),
                deadline=deadline,
                cancel=self.cancel,
                where=use.where,
                observe=attempt.observe,
            )
            return Outcome(SUCCEEDED, outputs=self._outputs(name, use, result))
        except Suspended:
            return Outcome(SUSPENDING, "Suspend", "waiting for `pyvela workflow resume`")
        except StepTimeout as exc:
            return Outcome(FAILED, "Timeout", f"{exc.message} (timeout {attempt.timeout:g}s)")
        except PyvelaError as exc:
            reason = (
                "Terminate" if self.cancel.is_set() else str(exc.context.get("reason") or type(exc).__name__)
            )
            return Outcome(FAILED, reason, str(exc), traceback=getattr(exc, "traceback", None))

    def _resolve(self, name: str, planned: PlannedStep) -> Any:
        params = planned.use.params
        updates = {}
        types = param_fields(type(params))
        for field in attrs.fields(type(params)):
            ref = getattr(params, field.name)
            if not isinstance(ref, Ref):
                continue
            with self.lock:
                outputs = self.steps[ref.step].get("outputs") or {}
            if ref.field not in outputs:
                raise StepError(
                    f"input {field.name!r} refers to {ref}, which step {ref.step!r} did not produce",
                    where=planned.use.where,
                    step=name,
                    parameter=field.name,
                    reason="InputMissing",
                )
            value = outputs[ref.field]
            tp = types[field.alias or field.name][0]
            if not check_value(value, tp):
                raise StepError(
                    f"input {field.name!r} from {ref} has the wrong type",
                    where=planned.use.where,
                    step=name,
                    parameter=field.name,
                    expected=type_name(tp),
                    got=repr(value),
                    reason="InputType",
                )
            updates[field.name] = value
        return attrs.evolve(params, **updates) if updates else params

    def _outputs(self, name: str, use: Any, result: Any) -> dict[str, Any]:
        expected = use.definition.outputs_type
        if expected is None:
            return {}
        if not isinstance(result, expected):
            raise StepError(
                "step returned the wrong outputs",
                step=name,
                expected=expected.__qualname__,
                got=type(result).__name__,
                where=use.definition.where,
            )
        data: dict[str, Any] = attrs.asdict(result)
        return data


def reset_steps(steps: Mapping[str, dict[str, Any]], names: list[str], *, keep_journal: bool) -> None:
    """Make ``names`` pending again (a resume keeps journals; a restart clears them)."""
    for n in names:
        st = steps[n]
        journal = st.get("journal") if keep_journal else []
        resumed = st.get("resumed") if keep_journal else False
        attempts = st.get("attempts") or 0
        st.clear()
        st.update(new_step_state(), journal=journal or [], resumed=bool(resumed), attempts=attempts)
