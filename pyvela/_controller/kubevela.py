"""``--kubevela``: KubeVela's own ``core.oam.dev/v1beta1`` Applications, reconciled by pyvela
for a cluster moving off vela-core, with a status in the shape KubeVela's users and tools
read (``status.status``, ``services``, ``workflow``, ``latestRevision``, ``conditions``…).

KubeVela's CRD has a structural status schema: a field it does not know is pruned by the API
server. So only KubeVela's fields are written; pyvela's extras (``failures``,
``driftCorrections``, ``lastReconciled``) live in the conditions' messages, the Events and
the metrics instead. ``kubevela_crd`` has a minimal CRD of our own for clusters that never
had vela-core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pyvela._controller.kubevela_restart import restart_requested
from pyvela._controller.served import Served
from pyvela._controller.status import MAX_MESSAGE, MAX_OBJECTS

GROUP = "core.oam.dev"
VERSION = "v1beta1"
KIND = "Application"
PLURAL = "applications"
CRD_NAME = f"{PLURAL}.{GROUP}"

#: pyvela's revision phase -> KubeVela's application phase (``status.status``).
APP_PHASES = {
    "running": "runningWorkflow",
    "interrupted": "runningWorkflow",  # the controller resumes it
    "waiting": "runningWorkflow",  # a step waits for health: the next reconcile goes on
    "suspended": "workflowSuspending",
    "terminated": "workflowTerminated",
    "failed": "workflowFailed",
}
#: pyvela's revision phase -> KubeVela's workflow phase (``status.workflow.status``).
WORKFLOW_PHASES = {
    "running": "executing",
    "interrupted": "executing",
    "waiting": "executing",
    "suspended": "suspending",
    "terminated": "terminated",
    "failed": "failed",
    "succeeded": "succeeded",
}
#: pyvela's step phase -> KubeVela's (the others are spelt alike).
STEP_PHASES = {"suspended": "suspending", "interrupted": "running", "waiting": "running"}  # reason Wait


def _time(text: Any, plus: float = 0.0) -> str | None:
    """An ISO timestamp as Kubernetes writes one (seconds, Z)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when.astimezone(UTC) + timedelta(seconds=plus)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(
    old: Sequence[Mapping[str, Any]], wanted: list[tuple[str, str, str, str]], now: str
) -> list[dict[str, Any]]:
    """``old`` with the ``wanted`` (type, status, reason, message) set; a condition's
    ``lastTransitionTime`` moves only when its status does (so a resync changes nothing)."""
    by_type = {t: (s, r, m) for t, s, r, m in wanted}
    out: list[dict[str, Any]] = []
    for c in old:
        if c.get("type") not in by_type:
            out.append(dict(c))  # someone else's condition: kept
            continue
        status, reason, message = by_type.pop(str(c["type"]))
        since = c.get("lastTransitionTime") if c.get("status") == status else now
        out.append(_condition(str(c["type"]), status, reason, message, since or now))
    out += [_condition(t, s, r, m, now) for t, (s, r, m) in by_type.items()]
    return out


def _condition(type_: str, status: str, reason: str, message: str, since: str) -> dict[str, Any]:
    c = {"type": type_, "status": status, "reason": reason, "lastTransitionTime": since}
    return c | ({"message": message[:MAX_MESSAGE]} if message else {})


def services(spec: Mapping[str, Any], view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per component (the spec's order): healthy when every object it owns is, with
    its workload's kind and its traits' health (KubeVela's ``ApplicationComponentStatus``)."""
    order = [str(c.get("name")) for c in spec.get("components") or [] if c.get("name")]
    by_name: dict[str, list[Mapping[str, Any]]] = {name: [] for name in order}
    for o in view.get("objects") or []:
        if o.get("component"):
            by_name.setdefault(str(o["component"]), []).append(o)
    # A component of a succeeded revision that owns nothing rendered nothing: healthy.
    done = view.get("phase") == "succeeded"
    out = []
    for name, objects in by_name.items():
        own = [o for o in objects if not o.get("trait")]
        entry: dict[str, Any] = {
            "name": name,
            "healthy": (done or bool(objects)) and all(o.get("ready") for o in own),
        }
        if own:
            ref = own[0].get("object") or {}
            entry["workloadDefinition"] = {
                "apiVersion": str(ref.get("apiVersion")),
                "kind": str(ref.get("kind")),
            }
            if ref.get("namespace"):
                entry["namespace"] = ref["namespace"]
        if own and own[0].get("cluster"):
            entry["cluster"] = str(own[0]["cluster"])
        unready = [o for o in own if not o.get("ready")]
        message = (unready or own or [{}])[0].get("message") or ("" if objects or done else "not applied yet")
        if message:
            entry["message"] = str(message)[:MAX_MESSAGE]
        traits: dict[str, list[Mapping[str, Any]]] = {}
        for o in objects:
            if o.get("trait"):
                traits.setdefault(str(o["trait"]), []).append(o)
        if traits:
            entry["traits"] = [_trait(t, os) for t, os in traits.items()]
        entry["healthy"] = entry["healthy"] and all(t["healthy"] for t in entry.get("traits", []))
        out.append(entry)
    return out


def _trait(type_: str, objects: list[Mapping[str, Any]]) -> dict[str, Any]:
    unready = [o for o in objects if not o.get("ready")]
    message = (unready or objects)[0].get("message")
    return {"type": type_, "healthy": not unready} | ({"message": str(message)} if message else {})


def _step(name: str, st: Mapping[str, Any], type_: Any) -> dict[str, Any]:
    """KubeVela's ``StepStatus`` of one of pyvela's steps."""
    step: dict[str, Any] = {"id": name, "name": name}
    if type_:
        step["type"] = str(type_)
    step["phase"] = STEP_PHASES.get(str(st.get("phase")), str(st.get("phase") or "pending"))
    for key in ("message", "reason"):
        if st.get(key):
            step[key] = str(st[key])[:MAX_MESSAGE]
    first = _time(st.get("started"))
    if first:
        step["firstExecuteTime"] = first
        step["lastExecuteTime"] = _time(st.get("started"), float(st.get("elapsed") or 0.0))
    return step


def _group(name: str, subs: list[dict[str, Any]]) -> dict[str, Any]:
    """A step group's status (pyvela records only its sub-steps): its phase from theirs."""
    phases = {s["phase"] for s in subs}
    for phase in ("failed", "running", "suspending", "pending"):
        if phase in phases:
            break
    else:
        phase = "skipped" if phases == {"skipped"} else "succeeded"
    group: dict[str, Any] = {"id": name, "name": name, "type": "step-group", "phase": phase}
    firsts = sorted(s["firstExecuteTime"] for s in subs if s.get("firstExecuteTime"))
    lasts = sorted(s["lastExecuteTime"] for s in subs if s.get("lastExecuteTime"))
    if firsts:
        group["firstExecuteTime"] = firsts[0]
    if lasts:
        group["lastExecuteTime"] = lasts[-1]
    return group | {"subSteps": subs}


def _steps(spec_steps: list[Any], view_steps: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The steps in the spec's order, a group's sub-steps under it; steps the spec does not
    name (the ones generated for an app without a workflow) in the run's order."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for s in spec_steps:
        if not isinstance(s, Mapping) or not s.get("name"):
            continue
        name = str(s["name"])
        subs = [x for x in s.get("subSteps") or [] if isinstance(x, Mapping) and x.get("name")]
        if subs:
            inner = [
                _step(str(x["name"]), view_steps[str(x["name"])], x.get("type"))
                for x in subs
                if str(x["name"]) in view_steps
            ]
            seen |= {str(x["name"]) for x in subs}
            if inner:
                out.append(_group(name, inner))
        elif name in view_steps:
            out.append(_step(name, view_steps[name], s.get("type")))
        seen.add(name)
    out += [_step(n, st, None) for n, st in view_steps.items() if n not in seen]
    return out


def workflow(body: Mapping[str, Any], view: Mapping[str, Any]) -> dict[str, Any]:
    """KubeVela's ``WorkflowStatus``: the revision's steps in order, as a list."""
    spec = body.get("spec") or {}
    wf = spec.get("workflow") or {}
    mode = wf.get("mode") or {}
    # KubeVela runs the steps it generates for an app without a workflow as a DAG.
    steps_mode = mode.get("steps") or ("StepByStep" if wf.get("steps") else "DAG")
    phase = str(view.get("phase"))
    steps = _steps(list(wf.get("steps") or []), view.get("steps") or {})
    starts = sorted(s["firstExecuteTime"] for s in steps if s.get("firstExecuteTime"))
    out: dict[str, Any] = {
        "appRevision": f"{body['metadata']['name']}-v{view.get('revision')}",
        "mode": f"{steps_mode}-{mode.get('subSteps') or 'DAG'}",
        "status": WORKFLOW_PHASES.get(phase, "executing"),
        "suspend": phase == "suspended",
        "terminated": phase == "terminated",
        "finished": phase in ("succeeded", "failed", "terminated"),
        "steps": steps,
    }
    if view.get("message"):
        out["message"] = str(view["message"])[:MAX_MESSAGE]
    if starts:
        out["startTime"] = starts[0]
    return out


def applied(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``appliedResources``: the revision's objects (at most ``MAX_OBJECTS``)."""
    out = []
    for o in list(view.get("objects") or [])[:MAX_OBJECTS]:
        ref = o.get("object") or {}
        entry = {k: str(ref[k]) for k in ("apiVersion", "kind", "namespace", "name") if ref.get(k)}
        entry["creator"] = "workflow"
        if o.get("cluster"):
            entry["cluster"] = str(o["cluster"])
        out.append(entry)
    return out


def kubevela_status(
    body: Mapping[str, Any], status: dict[str, Any], view: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The status to write on a KubeVela Application after a reconcile (``view`` is what
    ``pyvela status -o json`` said; None when the reconcile raised: ``status`` says why)."""
    old = dict(body.get("status") or {})
    now = _now()
    generation = (body.get("metadata") or {}).get("generation")
    if view is None:
        # KubeVela keeps the last phase and marks the failed stage; a resource that never
        # loaded is "rendering", as vela-core leaves an app it cannot parse.
        return {
            "observedGeneration": generation,
            "status": old.get("status") or "rendering",
            "conditions": conditions(
                old.get("conditions") or [],
                [("Ready", "False", "ReconcileError", str(status.get("message")))],
                now,
            ),
        }
    phase = str(view.get("phase"))
    serving = services(body.get("spec") or {}, view)
    healthy = all(s["healthy"] for s in serving)
    app_phase = APP_PHASES.get(phase) or ("running" if healthy else "unhealthy")
    wanted = [
        ("Parsed", "True", "Available", ""),
        ("Revision", "True", "Available", ""),
        ("Render", "True", "Available", ""),
        (
            "Workflow",
            "True" if phase == "succeeded" else "False",
            "Available" if phase == "succeeded" else "Unavailable",
            "" if phase == "succeeded" else str(view.get("message") or phase),
        ),
        (
            "Ready",
            "True" if phase == "succeeded" else "False",
            "ReconcileSuccess" if phase == "succeeded" else "Unavailable",
            "",
        ),
    ]
    return {
        "observedGeneration": generation,
        "status": app_phase,
        "services": serving,
        "workflow": workflow(body, view),
        "latestRevision": {
            "name": f"{body['metadata']['name']}-v{view.get('revision')}",
            "revision": int(view.get("revision") or 0),
            "revisionHash": str(view.get("hash") or ""),
        },
        "appliedResources": applied(view),
        "conditions": conditions(old.get("conditions") or [], wanted, now),
    }


def resume_requested(body: Mapping[str, Any]) -> bool:
    """Whether ``vela workflow resume`` asked for the suspended workflow to go on: it sets
    ``status.workflow.suspend`` to false, where the controller wrote true beside
    ``workflowSuspending``."""
    status = body.get("status") or {}
    wf = status.get("workflow") or {}
    # `vela workflow terminate` clears suspend too: that is not a resume.
    return (
        status.get("status") == "workflowSuspending"
        and wf.get("suspend") is False
        and not wf.get("terminated")
    )


def control_requested(body: Mapping[str, Any]) -> str | None:
    """``terminate`` or ``suspend`` when ``vela workflow terminate|suspend`` asked for it: it
    sets ``status.workflow.terminated`` (or ``suspend``) to true, which the controller writes
    only beside ``workflowTerminated`` (``workflowSuspending``)."""
    status = body.get("status") or {}
    wf = status.get("workflow") or {}
    if wf.get("terminated") is True and status.get("status") != "workflowTerminated":
        return "terminate"
    if wf.get("suspend") is True and status.get("status") != "workflowSuspending":
        return "suspend"
    return None


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(old.get(k) != v for k, v in new.items())


def patch(old: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The merge patch writing ``new``: a key of a map ``new`` sets that the old map had and
    ``new`` lacks is removed (null); what ``new`` does not set (a failure's services) stays."""

    def nulls(before: Any, after: Any) -> Any:
        if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
            return after
        out = {k: nulls(before.get(k), v) for k, v in after.items()}
        return out | {k: None for k in before if k not in after}

    return {k: nulls(old.get(k), v) for k, v in new.items()}


KUBEVELA = Served(
    group=GROUP,
    version=VERSION,
    plural=PLURAL,
    kind=KIND,
    crd_name=CRD_NAME,
    shape=kubevela_status,
    changed=changed,
    patch=patch,
    resume_requested=resume_requested,
    control_requested=control_requested,
    restart_requested=restart_requested,
    deleting={"status": "deleting"},
)
