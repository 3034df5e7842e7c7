"""An operator's hand on an Argo Rollout: promote, abort, retry, pause.

The same patches the ``kubectl argo rollouts`` plugin makes (merge patches, the status ones
on the status subresource, falling back to the object itself where the CRD has none), so
the controller sees what it sees from the plugin:

- promote: unpause the spec if paused; clear ``status.pauseConditions`` when paused, or,
  when not paused on a canary, move ``status.currentStepIndex`` to the next step; an
  inconclusive step analysis that paused the controller is cleared with it
  (``controllerPause: false``). ``--full``: ``status.promoteFull: true`` (skip every step,
  pause and analysis) unless the new revision is already stable.
- abort: ``status.abort: true`` (back to the stable ReplicaSet); retry: ``status.abort: false``;
  pause: ``spec.paused: true``.

Which Rollout: the component's, from the app's state record (the latest revision's inventory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pyvela._backends.fields import mapping, text
from pyvela._backends.patching import merge_patcher
from pyvela._backends.protocol import Backend
from pyvela._backends.rolloutstatus import canary_of, steps_of
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.podsof import spec_components
from pyvela._workflow.state import StateStore
from pyvela.errors import ClusterError, NotFoundError, StateError

Action = Literal["promote", "abort", "retry", "pause"]
ACTIONS: tuple[Action, ...] = ("promote", "abort", "retry", "pause")
GROUP = "argoproj.io"
#: What the plugin prints after each action.
DONE = {"promote": "promoted", "abort": "aborted", "retry": "retried", "pause": "paused"}
Patch = dict[str, Any]


def current_step(rollout: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, int | None]:
    """The canary step the Rollout is on and its index (None, None without canary steps;
    (None, n) once past the last of n)."""
    steps = steps_of(rollout)
    if not steps:
        return None, None
    raw = mapping(rollout.get("status")).get("currentStepIndex")
    index = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
    return (mapping(steps[index]) if index < len(steps) else None), index


def _next_index(rollout: Mapping[str, Any]) -> int | None:
    _step, index = current_step(rollout)
    if index is None:
        return None
    return index + 1 if index < len(steps_of(rollout)) else index


def promote_patches(rollout: Mapping[str, Any], *, full: bool) -> tuple[Patch | None, Patch | None, Patch]:
    """(spec patch, status patch, the unified patch for a CRD without a status subresource)."""
    spec, status = mapping(rollout.get("spec")), mapping(rollout.get("status"))
    paused = spec.get("paused") is True
    unpause: Patch | None = {"spec": {"paused": False}} if paused else None
    if full:
        promote_full = {"status": {"promoteFull": True}}
        stable = status.get("currentPodHash") == status.get("stableRS")
        return unpause, None if stable else promote_full, {"spec": {"paused": False}, **promote_full}
    conditions = status.get("pauseConditions")
    canary = (
        mapping(mapping(spec.get("strategy")).get("canary"))
        if "canary" in mapping(spec.get("strategy"))
        else None
    )
    analysis = mapping(mapping(status.get("canary")).get("currentStepAnalysisRunStatus"))
    inconclusive = canary is not None and analysis.get("status") == "Inconclusive"
    unified: Patch = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    if inconclusive and conditions and status.get("controllerPause") is True:
        index = _next_index(rollout)
        if index is not None:
            return (
                unpause,
                {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": index}},
                unified,
            )
        return unpause, None, unified
    if conditions:
        return unpause, {"status": {"pauseConditions": None}}, unified
    if canary is not None:
        index = _next_index(rollout)
        if index is not None:
            with_step = {"pauseConditions": None, "currentStepIndex": index}
            return unpause, {"status": with_step}, {"spec": {"paused": False}, "status": with_step}
    return unpause, None, unified


def act(backend: Backend, ref: ObjectRef, action: Action, *, full: bool = False) -> Obj:
    """Make ``action``'s patches on the Rollout ``ref``; the Rollout as patched."""
    patcher = merge_patcher(backend)
    live = backend.get(ref)
    if live is None:
        raise NotFoundError(f"the Rollout {ref.namespace}/{ref.name} does not exist", object=str(ref))
    if action == "pause":
        return patcher.merge_patch(ref, {"spec": {"paused": True}})
    if action in ("abort", "retry"):
        return _status_or_object(patcher, ref, {"status": {"abort": action == "abort"}}, live)
    spec, status, unified = promote_patches(live, full=full)
    result = live
    if status is not None:
        try:
            result = patcher.merge_patch(ref, status, status=True)
        except NotFoundError:
            spec = unified  # no status subresource: the plugin patches the object itself
    if spec is not None:
        result = patcher.merge_patch(ref, spec)
    return result


def _status_or_object(patcher: Any, ref: ObjectRef, patch: Patch, live: Obj) -> Obj:
    try:
        result: Obj = patcher.merge_patch(ref, patch, status=True)
    except NotFoundError:
        result = patcher.merge_patch(ref, patch)
    return result


def rollout_of(backend: Backend, app: str, namespace: str, component: str) -> ObjectRef:
    """The component's Rollout, as the app's latest revision applied it."""
    record = StateStore(backend, app, namespace).load(revisions="latest")
    if not record or not record.get("revisions"):
        raise StateError(
            f"app {app!r} was never deployed to namespace {namespace!r} of {backend.description}"
        )
    rev = record["revisions"][-1]
    entries = rev.get("inventory") or []
    recorded = [str(e.get("component")) for e in entries if e.get("component")]
    components = list(dict.fromkeys([*spec_components(rev), *recorded]))
    if component not in components:
        raise NotFoundError(
            f"app {app!r} has no component {component!r}",
            expected="one of " + (", ".join(components) or "(no components deployed)"),
            got=component,
            fix="pick a component from `pyvela status`",
        )
    refs = [ObjectRef.from_dict(e["ref"]) for e in entries if e.get("component") == component]
    rollouts = [r for r in refs if r.kind == "Rollout" and r.api_version.startswith(GROUP + "/")]
    if not rollouts:
        raise ClusterError(
            f"component {component!r} of app {app!r} has no Argo Rollout",
            expected="a component whose objects include an argoproj.io Rollout",
            got=", ".join(str(r) for r in refs) or "no objects",
        )
    return rollouts[0]


def describe(rollout: Mapping[str, Any]) -> dict[str, Any]:
    """What an operator wants to see of a Rollout: phase, canary step and weight, analysis."""
    status = mapping(rollout.get("status"))
    out: dict[str, Any] = {
        "name": text(mapping(rollout.get("metadata")).get("name")),
        "phase": text(status.get("phase")) or None,
        "message": text(status.get("message")) or None,
        "paused": bool(status.get("pauseConditions")) or mapping(rollout.get("spec")).get("paused") is True,
        "aborted": status.get("abort") is True,
    }
    canary = canary_of(rollout)
    if canary is not None:
        out["canary"] = {
            "step": canary.index,
            "steps": canary.count,
            "kind": canary.step or None,
            "weight": canary.weight,
            "summary": str(canary),
        }
        if canary.analysis:
            out["analysis"] = {
                "name": canary.analysis,
                "phase": canary.analysis_phase or None,
                "message": canary.analysis_message or None,
            }
    return out
