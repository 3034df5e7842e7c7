"""``vela workflow restart [--step S]`` read from a KubeVela Application's status.

The vela CLI (v1.10) restarts a workflow by rewriting the Application's status, as it does
for suspend, resume and terminate; vela-core then runs the workflow again. pyvela reads the
same writes and runs ``pyvela workflow restart [--step S]``:

- ``vela workflow restart APP`` replaces the status without its ``workflow``: a status that
  has a ``latestRevision`` (the controller writes both together) but no ``workflow`` asks
  for the whole workflow to run again;
- ``--step S`` clears ``finished``, ``suspend`` and ``terminated`` and removes the statuses
  of ``S`` and of the steps after it (or, in a DAG, its dependants): a workflow that is
  neither finished nor suspended nor terminated and lacks a step of the spec asks for a
  restart from the first step missing, in the spec's order. Only a status of the current
  spec counts (``observedGeneration``): a spec that gained a step is a new revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pyvela._workflow.results import RunResult

#: restart_requested's answer for the whole workflow (else the step's name, or None).
WHOLE = ""


class _Ops(Protocol):
    def restart(self, step: str | None = None) -> RunResult: ...


class _Reconciler(Protocol):
    def ops(self, body: Mapping[str, Any]) -> _Ops: ...


def _spec_steps(spec: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(step, its sub-steps) in the spec's order; an app without a workflow's generated steps
    are its components'."""
    steps = (spec.get("workflow") or {}).get("steps")
    if not steps:
        return [(str(c["name"]), []) for c in spec.get("components") or [] if c.get("name")]
    out = []
    for s in steps:
        if isinstance(s, Mapping) and s.get("name"):
            subs = [
                str(x["name"]) for x in s.get("subSteps") or [] if isinstance(x, Mapping) and x.get("name")
            ]
            out.append((str(s["name"]), subs))
    return out


def restart_requested(body: Mapping[str, Any]) -> str | None:
    """``WHOLE`` for ``vela workflow restart``, the step for ``--step``, else None."""
    status = body.get("status") or {}
    if not status.get("latestRevision"):
        return None  # never deployed: nothing to restart
    wf = status.get("workflow")
    if wf is None:
        return WHOLE
    if wf.get("finished") or wf.get("suspend") or wf.get("terminated"):
        return None
    if status.get("observedGeneration") != (body.get("metadata") or {}).get("generation"):
        return None
    shown: set[str] = set()
    for s in wf.get("steps") or []:
        shown.add(str(s.get("name")))
        shown |= {str(x.get("name")) for x in s.get("subSteps") or []}
    for name, subs in _spec_steps(body.get("spec") or {}):
        if name not in shown:
            return subs[0] if subs else name  # pyvela's record has a group's sub-steps
        missing = [x for x in subs if x not in shown]
        if missing:
            return missing[0]
    return None


def restart(reconciler: _Reconciler, body: Mapping[str, Any], step: str) -> RunResult:
    """``pyvela workflow restart [--step]`` of the app (``step`` ``WHOLE``: from the start)."""
    return reconciler.ops(body).restart(step or None)
