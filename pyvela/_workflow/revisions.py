"""The revisions of the state record: what a new one plans, what a rollback copies, and
which objects a prune or a delete must remove. Pure functions of the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyvela._app.loader import LoadedApp
from pyvela._app.render import render_app
from pyvela._core.objects import ObjectRef
from pyvela._workflow.engine import new_step_state, reset_steps
from pyvela._workflow.state import HISTORY_LIMIT, now_iso
from pyvela.errors import StateError


def new_revision(record: dict[str, Any], loaded: LoadedApp, kind: str = "deploy") -> dict[str, Any]:
    """Append a running revision of ``loaded`` (with its planned objects) to ``record``."""
    number = max((int(r["number"]) for r in record["revisions"]), default=0) + 1
    planned = []
    for rc in render_app(loaded.app, revision=loaded.revision):
        planned += [
            {"ref": ObjectRef.of(o.object).to_dict(), "component": o.component, "trait": o.trait}
            for o in rc.objects
        ]
    rev = {
        "number": number,
        "hash": loaded.revision,
        "kind": kind,
        "phase": "running",
        "started": now_iso(),
        "finished": None,
        "spec": loaded.spec,
        "message": "",
        "planned": planned,
        "inventory": [],
        "steps": {n: new_step_state() for n in loaded.plan.order},
    }
    record["revisions"].append(rev)
    del record["revisions"][:-HISTORY_LIMIT]
    return rev


def rollback_revision(record: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Append a running revision that re-applies ``target``'s objects to ``record``."""
    rev: dict[str, Any] = {
        "number": max(int(r["number"]) for r in record["revisions"]) + 1,
        "hash": target["hash"],
        "kind": "rollback",
        "rollback_of": target["number"],
        "phase": "running",
        "started": now_iso(),
        "finished": None,
        "spec": target.get("spec"),
        "message": f"rollback to revision {target['number']}",
        "inventory": [],
        "steps": target.get("steps", {}),
    }
    record["revisions"].append(rev)
    del record["revisions"][:-HISTORY_LIMIT]
    return rev


def stale_objects(record: dict[str, Any], rev: dict[str, Any]) -> list[ObjectRef]:
    """What a prune after ``rev`` removes, newest first.

    Everything applied since the last success (inclusive) that ``rev`` no longer has; older
    revisions' objects were pruned by that success already.
    """
    keep = {ObjectRef.from_dict(e["ref"]) for e in rev["inventory"]}
    stale: list[ObjectRef] = []
    for old in reversed(record["revisions"]):
        if old is rev:
            continue
        for e in reversed(old.get("inventory") or []):
            ref = ObjectRef.from_dict(e["ref"])
            if ref not in keep and ref not in stale:
                stale.append(ref)
        if old["phase"] == "succeeded":
            break
    return stale


def owned_objects(record: dict[str, Any]) -> list[ObjectRef]:
    """Every object any revision applied or planned, in reverse order of application.

    The namespace is left alone: other things may live in it.
    """
    refs: list[ObjectRef] = []
    for rev in reversed(record["revisions"]):
        for e in reversed((rev.get("inventory") or []) + (rev.get("planned") or [])):
            ref = ObjectRef.from_dict(e["ref"])
            if ref not in refs and ref.kind != "Namespace":
                refs.append(ref)
    return refs


def rollback_target(record: Mapping[str, Any], number: int | None) -> dict[str, Any]:
    revisions: list[dict[str, Any]] = record["revisions"]
    current = revisions[-1] if revisions else None
    candidates = [r for r in revisions if r["phase"] == "succeeded" and r is not current]
    if number is not None:
        candidates = [r for r in revisions if int(r["number"]) == number]
    if not candidates:
        known = ", ".join(f"{r['number']} ({r['phase']})" for r in revisions)
        raise StateError(
            "no revision to roll back to",
            expected="an earlier succeeded revision",
            got=known or "no revisions",
            fix="pass a revision number from `pyvela history`",
        )
    return candidates[-1]


def reset_keeping_logs(steps: Mapping[str, dict[str, Any]], names: list[str]) -> None:
    """Make ``names`` pending for a resume: journals and ``ctx.log`` lines survive.

    The logs stay so ``status`` shows them, and ``logged`` tells the replay which lines
    were shown already (see ``events.StepLogs``).
    """
    kept = {n: (steps[n].get("logs"), steps[n].get("logged")) for n in names}
    reset_steps(steps, names, keep_journal=True)
    for n, (logs, logged) in kept.items():
        if logs is not None:
            steps[n].update(logs=logs, logged=logged)


def dependants(plan: Any, step: str) -> list[str]:
    """The steps that depend on ``step``, directly or not, in plan order (what a restart re-runs)."""
    out: list[str] = []
    frontier = {step}
    for name in plan.order:
        if plan.steps[name].dependencies & frontier:
            frontier.add(name)
            out.append(name)
    return out
