"""Reading an app's state record: its revision history and its live status.

Needs only the backend and the record (no app module), so any command that reads can use it.
"""

from __future__ import annotations

from typing import Any

from pyvela._app.application import Application
from pyvela._backends.protocol import Backend, Readiness
from pyvela._core.leases import held_by
from pyvela._core.objects import LABEL_APP, Obj, ObjectRef
from pyvela._workflow.clusterview import cluster_objects
from pyvela._workflow.events import LOG_LIMIT
from pyvela._workflow.health import rule_of
from pyvela._workflow.state import LEASE_SECONDS, StateStore, lease_ref
from pyvela.errors import StateError

#: From how many objects of one kind ``status`` lists them instead of reading each one.
LIST_FROM = 20


def summary(live: Obj | None) -> dict[str, Any]:
    """The live fields a status reader wants: clusterIP, images and env of workloads."""
    if live is None:
        return {}
    out: dict[str, Any] = {}
    spec = live.get("spec") or {}
    if live.get("kind") == "Service":
        out["clusterIP"] = spec.get("clusterIP")
    template = (spec.get("template") or {}).get("spec") or {}
    containers = template.get("containers") or []
    if containers:
        out["containers"] = {
            c.get("name"): {
                "image": c.get("image"),
                "env": {v["name"]: v["value"] for v in c.get("env") or [] if "value" in v},
            }
            for c in containers
        }
    return out


def dropped_logs(step_state: dict[str, Any]) -> int:
    """How many of a step's oldest ``ctx.log`` lines the record no longer keeps (``LOG_LIMIT``)."""
    kept = len(step_state.get("logs") or [])
    return max(0, int(step_state.get("logged") or 0) - kept)


class AppView:
    """The recorded history and live status of one app on one backend."""

    def __init__(self, backend: Backend, store: StateStore, app: Application | None = None) -> None:
        self.backend = backend
        self.store = store
        self.application = app  # its definitions' health rules judge their workloads
        self.app = store.app
        self.namespace = store.namespace

    def current(self, *, whole: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """The record and its latest revision; a StateError when the app was never deployed.

        Unless ``whole``, only the latest revision is read in full (the others keep their
        index fields): enough to show it, never to save.
        """
        record = self.store.load(revisions="all" if whole else "latest")
        if not record or not record["revisions"]:
            raise StateError(
                f"app {self.app!r} was never deployed to {self.backend.description}",
                fix="run `pyvela deploy` first",
            )
        return record, record["revisions"][-1]

    def history(self) -> list[dict[str, Any]]:
        record = self.store.load(revisions="none")  # the index has what history lists
        if record is None:
            return []
        return [
            {
                k: r.get(k)
                for k in ("number", "hash", "kind", "phase", "started", "finished", "message", "rollback_of")
            }
            for r in record["revisions"]
        ]

    def status(self) -> dict[str, Any]:
        """Steps of the latest revision, and every owned object with its live health."""
        return self.status_and_live()[0]

    def status_and_live(self) -> tuple[dict[str, Any], dict[ObjectRef, Obj | None]]:
        """``status``, and each owned object as the cluster has it now (None: missing)."""
        _record, rev = self.current(whole=False)
        placed, clusters = cluster_objects(
            self.backend, self.application, rev.get("inventory") or [], summary
        )
        objects: list[dict[str, Any]] = []
        inventory = [e for e in rev.get("inventory") or [] if e.get("cluster") is None]
        lives = self._live([ObjectRef.from_dict(e["ref"]) for e in inventory])
        for e in inventory:
            ref = ObjectRef.from_dict(e["ref"])
            live = lives.get(ref)
            verdict = (
                rule_of(self.application, ref, e)(live) if live is not None else Readiness(False, "missing")
            )
            objects.append(
                {
                    "object": ref.to_dict(),
                    "component": e.get("component"),
                    "trait": e.get("trait"),
                    "ready": verdict.ready,
                    "message": verdict.message,
                    "live": summary(live),
                }
            )
        steps = {
            n: {k: st.get(k) for k in ("phase", "reason", "message", "outputs", "elapsed", "started")}
            | {"logs": list(st.get("logs") or []), "dropped_logs": dropped_logs(st)}
            for n, st in rev["steps"].items()
        }
        phase = rev["phase"]
        message = rev.get("message") or ""
        interrupted = None
        if phase == "running":
            interrupted = self.interrupted(rev)
            if interrupted is not None:
                phase = "interrupted"
                message = interrupted["message"]
                for name in interrupted["steps"]:
                    steps[name]["applied"] = [
                        str(ObjectRef.from_dict(e["ref"]))
                        for e in rev.get("inventory") or []
                        if e.get("step") == name
                    ]
        data = {
            "app": self.app,
            "namespace": self.namespace,
            "target": self.backend.description,
            # Without the app's source, objects are judged by their kinds' rules alone.
            "health_rules": "definitions" if self.application is not None else "kinds",
            "revision": rev["number"],
            "hash": rev["hash"],
            "kind": rev.get("kind"),
            "phase": phase,
            "message": message,
            "interrupted": interrupted,
            "steps": steps,
            "objects": objects + placed,
            "clusters": clusters,  # objects on other clusters (topology): per cluster, with health
            "guardrails": rev.get("guardrails"),
        }
        return data, lives

    def step_logs(self, step: str | None = None, revision: int | None = None) -> dict[str, Any]:
        """What each step (or ``step``) of the latest revision (or ``revision``) logged, as the
        record keeps it."""
        if revision is None:
            _record, rev = self.current(whole=False)
        else:
            record, _latest = self.current()  # an earlier revision's steps are in its parts
            found = [r for r in record["revisions"] if r.get("number") == revision]
            if not found:
                known = ", ".join(str(r.get("number")) for r in record["revisions"])
                raise StateError(
                    f"app {self.app!r} has no revision {revision}",
                    expected=f"one of {known}",
                    got=str(revision),
                    fix="pick a revision from `pyvela history`",
                )
            rev = found[0]
        names = list(rev["steps"])
        if step is not None and step not in rev["steps"]:
            raise StateError(
                f"app {self.app!r} has no step {step!r} in revision {rev['number']}",
                expected="one of " + (", ".join(names) or "(no steps)"),
                got=step,
                fix="pick a step from `pyvela status`",
            )
        return {
            "app": self.app,
            "namespace": self.namespace,
            "revision": rev["number"],
            "limit": LOG_LIMIT,
            "steps": {
                n: {
                    "phase": rev["steps"][n].get("phase"),
                    "logs": list(rev["steps"][n].get("logs") or []),
                    "dropped": dropped_logs(rev["steps"][n]),
                }
                for n in ([step] if step is not None else names)
            },
        }

    def _live(self, refs: list[ObjectRef]) -> dict[ObjectRef, Obj | None]:
        """Each object as the cluster has it now (None: missing).

        Kinds of which the app has many are listed once (by the app's label), as one read
        of thousands of objects instead of one each; an object the list lacks (its label
        removed, say) is read on its own, so a missing one is one that really is gone.
        """
        groups: dict[tuple[str, str, str], list[ObjectRef]] = {}
        for ref in refs:
            groups.setdefault((ref.api_version, ref.kind, ref.namespace), []).append(ref)
        out: dict[ObjectRef, Obj | None] = {}
        for (api_version, kind, namespace), members in groups.items():
            listed: dict[str, Obj] = {}
            if len(members) >= LIST_FROM:
                found = self.backend.list(api_version, kind, namespace or None, {LABEL_APP: self.app})
                listed = {o["metadata"]["name"]: o for o in found}
            for ref in members:
                live = listed.get(ref.name)
                out[ref] = live if live is not None else self.backend.get(ref)
        return out

    def interrupted(self, rev: dict[str, Any]) -> dict[str, Any] | None:
        """Who ran ``rev`` and since when it is gone; None while a live process holds the Lease.

        The record says ``running`` until the run writes its end, so a killed run would look
        alive forever: the Lease tells (its holder's renewals stop, or its process is gone).
        """
        lease = self.backend.get(lease_ref(self.app, self.namespace))
        spec = (lease or {}).get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        if lease is not None and held_by(spec, LEASE_SECONDS):
            return None
        running = [n for n, st in rev["steps"].items() if st.get("phase") in ("running", "suspending")]
        started = [str(st["started"]) for st in rev["steps"].values() if st.get("started")]
        since = spec.get("renewTime") or max(started, default=None) or rev.get("started")
        how = (
            "run `pyvela rollback` again"
            if rev.get("kind") == "rollback"
            else "run `pyvela deploy` with the same app file to resume"
        )
        who = f"holder {holder} is gone" if holder else "no process holds the Lease"
        return {
            "holder": holder or None,
            "since": since,
            "steps": running,
            "resume": how,
            "message": f"interrupted: the run stopped ({who}, last seen {since}); {how}"
            + (f" (interrupted steps: {', '.join(running)})" if running else ""),
        }
