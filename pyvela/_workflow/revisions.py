"""The revisions of the state record: what a new one plans, what a rollback copies, and
which objects a prune would remove (what a prune and a delete do is ``gc``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyvela._app.guardrails import guard
from pyvela._app.loader import LoadedApp
from pyvela._app.render import RenderedComponent, render_component
from pyvela._core.objects import Obj, ObjectRef
from pyvela._core.policies_builtin import ApplyOnceParams
from pyvela._core.reads import ClusterReads, cluster_reads, reading
from pyvela._workflow.engine import new_step_state, reset_steps
from pyvela._workflow.gc import gc_note
from pyvela._workflow.state import HISTORY_LIMIT, now_iso
from pyvela.errors import RenderError, StateError


def new_revision(
    record: dict[str, Any],
    loaded: LoadedApp,
    kind: str = "deploy",
    *,
    renders: dict[str, RenderedComponent] | None = None,
) -> dict[str, Any]:
    """Append a running revision of ``loaded`` (with its planned objects) to ``record``.

    The components are rendered for the planned objects; given ``renders``, each render is
    kept there by component name, so the run's steps apply it instead of rendering again.
    """
    number = max((int(r["number"]) for r in record["revisions"]), default=0) + 1
    planned: list[dict[str, Any]] = []
    note = gc_note(loaded.app)  # the garbage-collect strategy of each object, as it is now
    rendered = _render_all(loaded, renders)
    # The guardrails judge the whole render before the revision is recorded: an error stops here.
    guardrails = guard(loaded.app, loaded.catalogue, rendered).to_record()
    for rc in rendered:
        for o in rc.objects:
            entry: dict[str, Any] = {"ref": ObjectRef.of(o.object).to_dict(), "component": o.component}
            entry["trait"] = o.trait
            if o.output and o.trait is None:  # a component's extra output: selectors see a trait
                entry["output"] = o.output
            entry.update(note(o))
            planned.append(entry)
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
    if guardrails is not None:  # the checks that ran, what was waived (status shows it), warnings
        rev["guardrails"] = guardrails
    if loaded.plan.groups:  # not in the spec (they change nothing that runs); the graph draws them
        rev["groups"] = {g: list(members) for g, members in loaded.plan.groups.items()}
    record["revisions"].append(rev)
    del record["revisions"][: -history_limit(loaded.app.policies)]
    return rev


def guard_new_namespace(backend: Any, loaded: LoadedApp, namespace: str) -> None:
    """The guardrails, before a deploy creates the app's namespace for its lock: an app they
    stop leaves no namespace behind either. (Into an existing namespace they run once, when the
    revision is planned.)

    Raises:
        GuardrailError: an error finding.
    """
    if not loaded.catalogue.checks or backend.get(ObjectRef("v1", "Namespace", "", namespace)) is not None:
        return
    with reading(backend):
        guard(loaded.app, loaded.catalogue, _render_all(loaded, None))


def history_limit(policies: Any) -> int:
    """How many revisions the record keeps: the current one and ``application_revision_limit``
    earlier ones (garbage-collect policy), else ``HISTORY_LIMIT``; at least the previous one,
    whose objects the next prune compares with."""
    for p in policies:
        if p.definition.name == "garbage-collect":
            limit = getattr(p.params, "application_revision_limit", None)
            if isinstance(limit, int):
                return max(limit, 1) + 1
    return HISTORY_LIMIT


class _Noting:
    """The cluster a render reads, noting that it did: such a render may differ when its step runs."""

    def __init__(self, reader: ClusterReads) -> None:
        self.reader = reader
        self.read = False

    def get(self, ref: ObjectRef) -> Obj | None:
        self.read = True
        return self.reader.get(ref)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        self.read = True
        return self.reader.list(api_version, kind, namespace, labels)


def _render_all(loaded: LoadedApp, renders: dict[str, RenderedComponent] | None) -> list[RenderedComponent]:
    """Every component rendered; into ``renders`` those whose render read nothing of the cluster
    (pure functions of the app: the same when their step applies them)."""
    try:
        outer: ClusterReads | None = cluster_reads("planning the revision")
    except RenderError:
        outer = None  # no cluster: a render that reads one fails here, as it would in its step
    # The plan's objects are applied as rendered: the apply writes only their metadata (the
    # renderer's own nodes), and the backends copy what they store, so they need not be private
    # copies, unless apply-once's paths write live values into them (anywhere). A step's patch
    # or parameters render again, privately (``Executor.apply_component``).
    private = any(isinstance(p.params, ApplyOnceParams) for p in loaded.app.policies)
    out = []
    for use in loaded.app.components:
        if outer is None:
            rc = render_component(loaded.app, use, revision=loaded.revision, private=private)
            pure = True
        else:
            noting = _Noting(outer)
            with reading(noting):
                rc = render_component(loaded.app, use, revision=loaded.revision, private=private)
            pure = not noting.read
        if renders is not None and pure:
            renders[use.name] = rc
        out.append(rc)
    return out


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
    if target.get("groups"):
        rev["groups"] = target["groups"]
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


def rollback_target(record: Mapping[str, Any], number: int | None) -> dict[str, Any]:
    revisions: list[dict[str, Any]] = record["revisions"]
    current = revisions[-1] if revisions else None
    candidates = [r for r in revisions if r["phase"] == "succeeded" and r is not current]
    if number is not None:
        named = [r for r in revisions if int(r["number"]) == number]
        if named and named[-1]["phase"] != "succeeded":
            # Its record is what it applied before it stopped: re-applying that and calling the
            # result a success would report a state the app never reached.
            ok = ", ".join(
                str(r["number"]) for r in revisions if r["phase"] == "succeeded" and r is not current
            )
            raise StateError(
                f"revision {number} did not succeed ({named[-1]['phase']}): nothing whole to roll back to",
                expected="a succeeded revision: " + (ok or "none yet"),
                got=f"revision {number} ({named[-1]['phase']})",
                fix=f"pyvela rollback APP {ok.split(', ')[-1]}" if ok else "fix the app and deploy it again",
            )
        candidates = named
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
