"""``--kubevela``: the status written on KubeVela's Applications has KubeVela's shape (phase
in ``status.status``, ``services``, ``workflow`` with a list of steps, ``latestRevision``,
``conditions``) and only KubeVela's fields (its CRD prunes the others); a resync that
changes nothing writes nothing; the merge patch removes what a new revision dropped."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pyvela._controller.kubevela import (
    KUBEVELA,
    changed,
    conditions,
    patch,
    services,
)
from pyvela._controller.kubevela_crd import crd
from pyvela._controller.served import PYVELA
from pyvela._controller.status import app_status, failed_status

BODY: dict[str, Any] = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "shop", "namespace": "team", "generation": 4},
    "spec": {
        "components": [
            {"name": "web", "type": "webservice", "traits": [{"type": "gateway"}]},
            {"name": "db", "type": "worker"},
            {"name": "later", "type": "worker"},
        ],
        "workflow": {
            "steps": [
                {"name": "deploy-web", "type": "apply-component"},
                {"name": "approve", "type": "suspend"},
            ]
        },
    },
}


def obj(kind: str, name: str, component: str, ready: bool, message: str = "", **extra: Any) -> dict[str, Any]:
    api = {"Deployment": "apps/v1", "Ingress": "networking.k8s.io/v1"}.get(kind, "v1")
    ref = {"apiVersion": api, "kind": kind, "namespace": "team", "name": name}
    return {"object": ref, "component": component, "trait": None, "ready": ready, "message": message} | extra


def view(phase: str = "succeeded", **over: Any) -> dict[str, Any]:
    return {
        "app": "shop",
        "revision": 2,
        "hash": "h2",
        "phase": phase,
        "message": "",
        "steps": {
            "deploy-web": {"phase": "succeeded", "started": "2026-12-01T10:00:00.500000Z", "elapsed": 2.4},
            "approve": {"phase": "succeeded" if phase == "succeeded" else "suspended", "message": "waiting"},
        },
        "objects": [
            obj("Deployment", "web", "web", True, "Ready:1/1"),
            obj("Service", "web", "web", True),
            obj("Ingress", "web", "web", True, trait="gateway"),
            obj("Deployment", "db", "db", False, "0/1 replicas available"),
        ],
    } | over


def shaped(v: dict[str, Any] | None, body: dict[str, Any] = BODY) -> dict[str, Any]:
    summary = app_status(v) if v is not None else failed_status("no such type", 2)
    return KUBEVELA.shape(body, summary, v)


def test_a_healthy_revision_is_running_with_services_workflow_and_conditions() -> None:
    healthy = view(objects=[o | {"ready": True} for o in view()["objects"]])
    out = shaped(healthy)
    assert out["status"] == "running" and out["observedGeneration"] == 4
    assert [s["name"] for s in out["services"]] == ["web", "db", "later"]  # the spec's order
    web = out["services"][0]
    assert web == {
        "name": "web",
        "healthy": True,
        "workloadDefinition": {"apiVersion": "apps/v1", "kind": "Deployment"},
        "namespace": "team",
        "message": "Ready:1/1",
        "traits": [{"type": "gateway", "healthy": True}],
    }
    assert out["services"][2] == {"name": "later", "healthy": True}  # rendered nothing
    assert shaped(view("running"))["services"][2] == {
        "name": "later",
        "healthy": False,
        "message": "not applied yet",
    }
    wf = out["workflow"]
    assert wf["appRevision"] == "shop-v2" and wf["status"] == "succeeded" and wf["mode"] == "StepByStep-DAG"
    assert (wf["finished"], wf["suspend"], wf["terminated"]) == (True, False, False)
    assert wf["steps"][0] == {
        "id": "deploy-web",
        "name": "deploy-web",
        "type": "apply-component",
        "phase": "succeeded",
        "firstExecuteTime": "2026-12-01T10:00:00Z",
        "lastExecuteTime": "2026-12-01T10:00:02Z",
    }
    assert wf["startTime"] == "2026-12-01T10:00:00Z"
    assert out["latestRevision"] == {"name": "shop-v2", "revision": 2, "revisionHash": "h2"}
    assert out["appliedResources"][0] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "team",
        "name": "web",
        "creator": "workflow",
    }
    by_type = {c["type"]: c for c in out["conditions"]}
    assert [by_type[t]["status"] for t in ("Parsed", "Revision", "Render", "Workflow", "Ready")] == [
        "True"
    ] * 5
    assert by_type["Ready"]["reason"] == "ReconcileSuccess"


def test_an_unready_object_makes_the_app_unhealthy_and_says_why() -> None:
    out = shaped(view())
    assert out["status"] == "unhealthy"
    db = out["services"][1]
    assert db["healthy"] is False and db["message"] == "0/1 replicas available"


@pytest.mark.parametrize(
    ("phase", "app", "workflow"),
    [
        ("running", "runningWorkflow", "executing"),
        ("interrupted", "runningWorkflow", "executing"),
        ("suspended", "workflowSuspending", "suspending"),
        ("terminated", "workflowTerminated", "terminated"),
        ("failed", "workflowFailed", "failed"),
    ],
)
def test_workflow_phases_are_kubevelas(phase: str, app: str, workflow: str) -> None:
    out = shaped(view(phase, message="step approve: waiting"))
    assert out["status"] == app and out["workflow"]["status"] == workflow
    assert out["workflow"]["suspend"] is (phase == "suspended")
    assert out["workflow"]["message"] == "step approve: waiting"
    ready = next(c for c in out["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    if phase == "suspended":
        assert out["workflow"]["steps"][1]["phase"] == "suspending"


def test_without_a_workflow_the_steps_run_as_kubevelas_dag() -> None:
    body = {**BODY, "spec": {"components": BODY["spec"]["components"]}}
    out = shaped(view(), body)
    assert out["workflow"]["mode"] == "DAG-DAG" and "type" not in out["workflow"]["steps"][0]


def test_a_failed_reconcile_keeps_the_last_status_and_says_why_in_ready() -> None:
    first = shaped(None)
    assert first["status"] == "rendering"  # never loaded: as vela-core leaves an app it cannot parse
    (ready,) = first["conditions"]
    assert ready["type"] == "Ready" and ready["status"] == "False" and ready["reason"] == "ReconcileError"
    assert "no such type" in ready["message"] and "retry in 10s" in ready["message"]
    assert "services" not in first and "workflow" not in first  # what was there stays
    running = shaped(view())
    later = shaped(None, {**BODY, "status": running})
    assert later["status"] == "unhealthy"
    assert {c["type"] for c in later["conditions"]} == {"Parsed", "Revision", "Render", "Workflow", "Ready"}


def test_a_resync_with_nothing_new_changes_nothing() -> None:
    first = shaped(view())
    again = shaped(view(), {**BODY, "status": first})
    assert not changed(first, again)  # the conditions' transition times did not move
    worse = view(objects=[o | {"ready": False} for o in view()["objects"]])
    assert changed(first, shaped(worse, {**BODY, "status": first}))


def test_a_conditions_time_moves_only_when_its_status_does() -> None:
    old = [
        {"type": "Ready", "status": "True", "reason": "R", "lastTransitionTime": "T0"},
        {"type": "Other", "status": "True", "reason": "Theirs", "lastTransitionTime": "T0"},
    ]
    same = conditions(old, [("Ready", "True", "R2", "")], "T1")
    assert same[0]["lastTransitionTime"] == "T0" and same[1] == old[1]  # someone else's kept
    flipped = conditions(old, [("Ready", "False", "E", "boom")], "T1")
    assert flipped[0] == {
        "type": "Ready",
        "status": "False",
        "reason": "E",
        "lastTransitionTime": "T1",
        "message": "boom",
    }


def test_the_patch_removes_what_the_new_status_dropped() -> None:
    old = {"workflow": {"message": "waiting", "status": "suspending"}, "services": [{"name": "a"}]}
    new = {"workflow": {"status": "succeeded"}}
    assert patch(old, new) == {"workflow": {"status": "succeeded", "message": None}}


@given(
    st.lists(st.sampled_from(["web", "db", "x"]), max_size=6), st.lists(st.booleans(), min_size=6, max_size=6)
)
def test_a_service_is_healthy_exactly_when_all_its_objects_are(
    components: list[str], ready: list[bool]
) -> None:
    v = {"objects": [obj("Deployment", f"o{i}", c, ready[i]) for i, c in enumerate(components)]}
    out = {s["name"]: s["healthy"] for s in services(BODY["spec"], v)}
    for name in out:
        mine = [ready[i] for i, c in enumerate(components) if c == name]
        assert out[name] == (bool(mine) and all(mine))


def test_pyvelas_own_resource_keeps_its_shape() -> None:
    summary = app_status(view())
    assert PYVELA.shape(BODY, summary, view()) is summary
    assert (PYVELA.api_version, KUBEVELA.api_version) == ("pyvela.dev/v1alpha1", "core.oam.dev/v1beta1")


def _fields(schema: dict[str, Any], prefix: str = "") -> set[str]:
    """Every field path a structural schema keeps (lists' items as ``[]``)."""
    out = set()
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}"
        out.add(path)
        if sub.get("type") == "array":
            out |= _fields(sub.get("items") or {}, path + "[]")
        else:
            out |= _fields(sub, path)
    return out


def _written(value: Any, prefix: str = "") -> set[str]:
    out = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            out.add(f"{prefix}.{key}")
            out |= _written(sub, f"{prefix}.{key}")
    elif isinstance(value, list):
        for item in value:
            out |= _written(item, prefix + "[]")
    return out


GROUPED = {
    **BODY,
    "spec": {
        "components": BODY["spec"]["components"],
        "workflow": {
            "steps": [{"name": "g", "type": "step-group", "subSteps": [{"name": "deploy-web", "type": "x"}]}]
        },
    },
}


def _every_field_written() -> set[str]:
    out = set()
    for v in (view(), view("suspended", message="m"), None):
        out |= _written(shaped(v))
    out |= _written(shaped(view("failed", message="m"), GROUPED))
    assert ".workflow.steps[].subSteps[].firstExecuteTime" in out
    return out


def test_our_crd_keeps_every_field_the_controller_writes() -> None:
    (version,) = crd()["spec"]["versions"]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert "x-kubernetes-preserve-unknown-fields" not in status  # structural: it prunes as KubeVela's
    assert _every_field_written() <= _fields(status)
    assert version["subresources"] == {"status": {}}
    assert crd()["metadata"]["name"] == "applications.core.oam.dev"


CRD_IN_MODULE = "charts/vela-core/crds/core.oam.dev_applications.yaml"


def _kubevela_crd_text() -> bytes | None:
    """KubeVela v1.10.1's Application CRD from the Go module cache, if it is there (the e2e
    suite downloads it; this offline test never does)."""
    import os

    cache = Path(os.environ.get("GOMODCACHE") or Path.home() / "go" / "pkg" / "mod")
    extracted = cache / "github.com" / "oam-dev" / "kubevela@v1.10.1" / CRD_IN_MODULE
    if extracted.is_file():
        return extracted.read_bytes()
    archive = cache / "cache" / "download" / "github.com" / "oam-dev" / "kubevela" / "@v" / "v1.10.1.zip"
    if archive.is_file():
        with zipfile.ZipFile(archive) as z:
            return z.read(f"github.com/oam-dev/kubevela@v1.10.1/{CRD_IN_MODULE}")
    return None


KUBEVELA_CRD = _kubevela_crd_text()


@pytest.mark.skipif(KUBEVELA_CRD is None, reason="KubeVela v1.10.1's Go module is not in the module cache")
def test_kubevelas_own_crd_keeps_every_field_the_controller_writes() -> None:
    """Against vela-core's CRD itself (read from the Go module cache, never copied): nothing
    the controller writes is pruned, and our CRD's status fields are a subset of its."""
    (version,) = [v for v in yaml.safe_load(KUBEVELA_CRD or b"")["spec"]["versions"] if v.get("storage")]
    theirs = _fields(version["schema"]["openAPIV3Schema"]["properties"]["status"])
    assert _every_field_written() <= theirs
    (ours,) = crd()["spec"]["versions"]
    assert _fields(ours["schema"]["openAPIV3Schema"]["properties"]["status"]) <= theirs
    assert [c["jsonPath"] for c in ours["additionalPrinterColumns"]] == [
        c["jsonPath"] for c in version["additionalPrinterColumns"]
    ]


def _rules(objects: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    role = next(o for o in objects if o["kind"] == "ClusterRole")
    return {
        (g, r): rule["verbs"] for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
    }


def test_kubevela_manifests_grant_kubevelas_applications_and_ship_no_crd_unless_asked() -> None:
    from pyvela._controller.manifests import DEFAULT_KINDS, manifests

    objects = manifests(kinds=list(DEFAULT_KINDS), kubevela=True, bind="0.0.0.0:9090")
    rules = _rules(objects)
    assert rules[("core.oam.dev", "applications")] == ["get", "list", "watch", "patch", "update"]
    assert rules[("core.oam.dev", "applications/status")] == ["get", "patch", "update"]
    assert rules[("core.oam.dev", "applications/finalizers")] == ["update"]
    assert not [k for k in rules if k[0] == "pyvela.dev"]  # least privilege: not pyvela's resource
    assert "CustomResourceDefinition" not in {o["kind"] for o in objects}  # vela-core's is there
    container = objects[-1]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["controller", "--in-cluster", "--bind", "0.0.0.0:9090", "--kubevela"]
    assert container["ports"][0]["containerPort"] == 9090 == container["readinessProbe"]["httpGet"]["port"]
    (ours,) = [
        o
        for o in manifests(kinds=list(DEFAULT_KINDS), kubevela=True, kubevela_crd=True)
        if o["kind"] == "CustomResourceDefinition"
    ]
    assert ours == crd()


def test_the_finalizer_lets_a_never_deployed_poison_app_go(tmp_path: Path) -> None:
    """A resource whose spec never loaded deployed nothing: its delete must not fail forever
    (it would keep its finalizer, and its namespace); one deployed once, without a way to find
    its configuration centre by name, still fails loudly (the controller gives one: see
    test_reconciler)."""
    from pyvela._backends.sandbox import Sandbox
    from pyvela._cli.centres import config_centre_for
    from pyvela._controller.reconciler import Reconciler
    from pyvela.errors import PyvelaError

    box = Sandbox(tmp_path / "sandbox")
    reconciler = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "work", wait_lock=5)
    poison = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "poison", "namespace": "team"},
        "spec": {"components": [{"name": "x", "type": "no-such-type", "properties": {}}]},
    }
    gone = reconciler.finalize(poison)
    assert (gone.phase, gone.message) == ("deleted", "never deployed: nothing to delete")
    good = {
        **poison,
        "spec": {"components": [{"name": "w", "type": "worker", "properties": {"image": "busybox:1"}}]},
    }
    assert reconciler.reconcile(good).result.ok
    with pytest.raises(PyvelaError, match="no-such-type"):
        reconciler.finalize(poison)  # its record is there: deleted once its spec loads again
    assert reconciler.finalize(good).phase == "deleted"


def test_vela_workflow_resume_is_read_from_the_status() -> None:
    from pyvela._controller.kubevela import resume_requested

    suspended = shaped(view("suspended"))
    assert suspended["workflow"]["suspend"] is True and not resume_requested({**BODY, "status": suspended})
    # What `vela workflow resume` writes: suspend false (its steps' phases aside).
    asked = {**suspended, "workflow": {**suspended["workflow"], "suspend": False}}
    assert resume_requested({**BODY, "status": asked})
    running = shaped(view())
    assert not resume_requested({**BODY, "status": running})
    assert not PYVELA.resume_requested({**BODY, "status": asked})  # pyvela's resource: the CLI's


def test_a_step_groups_steps_are_its_sub_steps() -> None:
    spec = {
        "components": BODY["spec"]["components"],
        "workflow": {
            "steps": [
                {
                    "name": "both",
                    "type": "step-group",
                    "subSteps": [
                        {"name": "da", "type": "apply-component"},
                        {"name": "db", "type": "apply-component"},
                    ],
                },
                {"name": "after", "type": "notification"},
            ]
        },
    }
    steps = {
        "da": {"phase": "succeeded", "started": "2026-12-01T10:00:00Z", "elapsed": 1.0},
        "db": {"phase": "running", "started": "2026-12-01T10:00:01Z", "elapsed": 3.0},
        "after": {"phase": "pending"},
    }
    out = shaped(view("running", steps=steps), {**BODY, "spec": spec})
    group, after = out["workflow"]["steps"]
    assert (group["name"], group["type"], group["phase"]) == ("both", "step-group", "running")
    assert [(s["name"], s["phase"]) for s in group["subSteps"]] == [("da", "succeeded"), ("db", "running")]
    assert (group["firstExecuteTime"], group["lastExecuteTime"]) == (
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:00:04Z",
    )
    assert (after["name"], after["phase"]) == ("after", "pending")
    # Every field of a group is one our CRD (and KubeVela's) keeps.
    (version,) = crd()["spec"]["versions"]
    assert _written(out) <= _fields(version["schema"]["openAPIV3Schema"]["properties"]["status"])


class StatusWrites:
    """The sandbox, with the status patches made through it recorded (the sandbox serves no
    /status of a custom resource)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.patches: list[Any] = []

    def merge_patch(self, ref: Any, patch: Any, *, status: bool = False) -> Any:
        if status:
            self.patches.append(patch)
            return None
        return self.inner.merge_patch(ref, patch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_the_finalizer_shows_kubevelas_deleting_phase(tmp_path: Path) -> None:
    from pyvela._backends.sandbox import Sandbox
    from pyvela._cli.centres import config_centre_for
    from pyvela._controller.operator import Controller
    from pyvela._controller.reconciler import Reconciler
    from pyvela._core.objects import ObjectRef

    box = StatusWrites(Sandbox(tmp_path / "sandbox"))
    app: dict[str, Any] = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "w", "namespace": "team"},
        "spec": {"components": [{"name": "w", "type": "worker", "properties": {"image": "busybox:1"}}]},
    }
    reconciler = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "work", wait_lock=5)
    outcome = reconciler.reconcile(app)
    status = KUBEVELA.shape(app, outcome.status, outcome.view)
    assert status["status"] == "running"
    running = {**app, "status": status}
    Controller(reconciler, workers=1, served=KUBEVELA).finalize(running, 0)
    assert box.patches == [{"status": {"status": "deleting"}}]  # the rest of the status kept
    assert box.get(ObjectRef("apps/v1", "Deployment", "team", "w")) is None
    box.patches.clear()
    Controller(reconciler, workers=1).finalize({**app, "apiVersion": "pyvela.dev/v1alpha1"}, 0)
    assert box.patches == []  # pyvela's resource has no such phase


def test_vela_workflow_suspend_and_terminate_are_read_from_the_status() -> None:
    from pyvela._controller.kubevela import control_requested, resume_requested

    running = shaped(view("running"))
    assert control_requested({**BODY, "status": running}) is None
    asked = {**running, "workflow": {**running["workflow"], "suspend": True}}
    assert control_requested({**BODY, "status": asked}) == "suspend"
    suspended = shaped(view("suspended"))
    assert control_requested({**BODY, "status": suspended}) is None  # ours: beside workflowSuspending
    # `vela workflow terminate`: terminated true and suspend false; not a resume.
    stop = {**suspended, "workflow": {**suspended["workflow"], "terminated": True, "suspend": False}}
    assert control_requested({**BODY, "status": stop}) == "terminate"
    assert not resume_requested({**BODY, "status": stop})
    assert control_requested({**BODY, "status": shaped(view("terminated"))}) is None
    assert PYVELA.control_requested({**BODY, "status": stop}) is None
