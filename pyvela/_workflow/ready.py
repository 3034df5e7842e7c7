"""Which pending steps may start: each step's unfinished dependencies, counted once.

Scanning every pending step on every scheduling round made a run of n steps cost O(n²);
here a step becomes ready when its last dependency finishes, and the earliest ready step
in plan order starts first.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pyvela._app.application import Plan, PlannedStep
from pyvela._core.steps import WorkflowView, where_of_condition


class Ready:
    def __init__(
        self,
        plan: Plan,
        steps: Mapping[str, Mapping[str, Any]],
        pending: Iterable[str],
        done: Collection[str],
    ) -> None:
        self._order = {n: i for i, n in enumerate(plan.order)}
        self._pending = set(pending)
        self._waiting: dict[str, int] = {}
        self._dependants: dict[str, list[str]] = {}
        self._heap: list[tuple[int, str]] = []
        for name in self._pending:
            # A dependency that is neither done nor pending (suspended) keeps its dependants waiting.
            unfinished = [d for d in plan.steps[name].dependencies if steps[d]["phase"] not in done]
            for d in unfinished:
                self._dependants.setdefault(d, []).append(name)
            self._waiting[name] = len(unfinished)
            if not unfinished:
                heapq.heappush(self._heap, (self._order[name], name))

    def pop(self) -> str | None:
        """The ready step earliest in plan order (no longer pending), or None."""
        if not self._heap:
            return None
        name = heapq.heappop(self._heap)[1]
        self._pending.discard(name)
        return name

    def finished(self, name: str) -> None:
        """``name`` is done (succeeded, failed or skipped): its dependants may become ready."""
        for d in self._dependants.pop(name, ()):
            self._waiting[d] -= 1
            if not self._waiting[d] and d in self._pending:
                heapq.heappush(self._heap, (self._order[d], d))

    def drain(self) -> list[str]:
        """Every pending step, in plan order; none is pending afterwards (a terminate)."""
        out = sorted(self._pending, key=self._order.__getitem__)
        self._pending.clear()
        self._heap.clear()
        return out


def decide(
    planned: PlannedStep, steps: Mapping[str, Mapping[str, Any]], lock: threading.RLock
) -> tuple[bool, str]:
    """Whether a step whose dependencies are done runs, by its condition; else why not."""
    phases = {d: steps[d]["phase"] for d in planned.dependencies}
    cond = planned.condition
    if cond == "always":
        return True, ""
    if cond == "on-success":
        bad = [d for d, p in phases.items() if p != "succeeded"]
        return (not bad), (f"DependencyNotSucceeded ({', '.join(sorted(bad))})" if bad else "")
    if callable(cond):
        with lock:
            view = WorkflowView(
                phases={n: s["phase"] for n, s in steps.items()},
                outputs={n: dict(s.get("outputs") or {}) for n, s in steps.items()},
                reasons={n: str(s.get("reason") or "") for n, s in steps.items()},
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
