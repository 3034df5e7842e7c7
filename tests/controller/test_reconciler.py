"""One reconcile on the sandbox (a real Backend): the CLI's deploy, then a no-op; drift (an
edit, a deletion) found by reading and corrected, each with an Event on the resource;
apply-once leaving an edit alone; the finalizer's delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.centres import config_centre_for
from pyvela._controller.reconciler import Reconciler
from pyvela._core.objects import ObjectRef

NS = "team"
DEPLOYMENT = ObjectRef("apps/v1", "Deployment", NS, "web")
SERVICE = ObjectRef("v1", "Service", NS, "web")


def body(*policies: dict[str, Any], image: str = "nginx:1.14.2") -> dict[str, Any]:
    return {
        "apiVersion": "pyvela.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": NS, "uid": "uid-1"},
        "spec": {
            "components": [
                {
                    "name": "web",
                    "type": "webservice",
                    "properties": {"image": image, "ports": [{"port": 80, "expose": True}]},
                }
            ],
            **({"policies": list(policies)} if policies else {}),
        },
    }


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


@pytest.fixture
def reconciler(box: Sandbox, tmp_path: Path) -> Reconciler:
    return Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "work", wait_lock=5)


def _image(box: Sandbox) -> str:
    live = box.get(DEPLOYMENT)
    assert live is not None
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])


def _edit(box: Sandbox, image: str) -> None:
    box.merge_patch(
        DEPLOYMENT, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}
    )


def _events(box: Sandbox, reason: str) -> list[str]:
    return [
        str(e["message"])
        for e in box.list("v1", "Event", NS)
        if e.get("reason") == reason and e["involvedObject"].get("kind") == "Application"
    ]


def test_deploy_then_no_op_then_drift_corrected(reconciler: Reconciler, box: Sandbox) -> None:
    first = reconciler.reconcile(body())
    assert (first.result.phase, first.result.revision, first.result.up_to_date) == ("succeeded", 1, False)
    assert first.status["ready"] == "2/2" and first.status["app"] == "web"
    again = reconciler.reconcile(body())
    assert again.result.up_to_date and again.corrected == ()  # nothing drifted: nothing written

    _edit(box, "nginx:9.9")
    box.delete(SERVICE)
    fixed = reconciler.reconcile(body())
    assert fixed.result.up_to_date and fixed.result.revision == 1  # drift is no new revision
    changes = {str(d.ref): (d.reason, change) for d, change in fixed.corrected}
    assert changes == {
        str(DEPLOYMENT): (".spec.template.spec.containers[0].image", "configured"),
        str(SERVICE): ("missing", "created"),
    }
    assert _image(box) == "nginx:1.14.2" and box.get(SERVICE) is not None
    assert len(_events(box, "DriftCorrected")) == 2


def test_apply_once_leaves_an_edit_alone_and_a_deleted_object_deleted_until_the_next_revision(
    reconciler: Reconciler, box: Sandbox
) -> None:
    """Enabled without rules, as KubeVela: no state is kept, so a reconcile neither reverts an
    edit nor recreates a deleted object; the next revision's deploy creates it again."""
    once = {"name": "once", "type": "apply-once", "properties": {"enable": True}}
    reconciler.reconcile(body(once))
    _edit(box, "nginx:9.9")
    kept = reconciler.reconcile(body(once))
    assert [change for _d, change in kept.corrected] == ["unchanged (apply-once)"]
    assert _image(box) == "nginx:9.9"
    assert not _events(box, "DriftCorrected")
    box.delete(SERVICE)
    left = reconciler.reconcile(body(once))
    assert sorted((str(d.ref), change) for d, change in left.corrected) == [
        (str(DEPLOYMENT), "unchanged (apply-once)"),  # still as someone left it
        (str(SERVICE), "not recreated (apply-once)"),
    ]
    assert box.get(SERVICE) is None and not _events(box, "DriftCorrected")
    updated = reconciler.reconcile(body(once, image="nginx:1.15.0"))
    assert updated.result.revision == 2 and box.get(SERVICE) is not None
    assert _image(box) == "nginx:1.15.0"  # the app renders it differently: written, as in KubeVela


def test_apply_once_rules_keep_their_paths_but_recreate_a_deleted_object(
    reconciler: Reconciler, box: Sandbox
) -> None:
    """With rules, KubeVela's state keep runs, the rules' paths taken from the live object: one
    that no longer exists is applied as recorded."""
    once = {
        "name": "once",
        "type": "apply-once",
        "properties": {
            "enable": True,
            "rules": [
                {
                    "selector": {"resourceTypes": ["Deployment"]},
                    "strategy": {"path": ["spec.template.spec.containers[0].image"]},
                }
            ],
        },
    }
    reconciler.reconcile(body(once))
    live = box.get(DEPLOYMENT)
    assert live is not None
    containers = live["spec"]["template"]["spec"]["containers"]
    containers[0]["image"] = "nginx:9.9"  # the image alone: a merge patch replaces the whole list
    box.merge_patch(DEPLOYMENT, {"spec": {"template": {"spec": {"containers": containers}}}})
    box.delete(SERVICE)
    back = reconciler.reconcile(body(once))
    assert sorted((str(d.ref), change) for d, change in back.corrected) == [
        (str(DEPLOYMENT), "unchanged (apply-once)"),  # its kept path alone drifted: not written
        (str(SERVICE), "created"),
    ]
    assert _image(box) == "nginx:9.9" and box.get(SERVICE) is not None
    assert _events(box, "DriftCorrected") == ["Service team/web created (missing drifted)"]


def test_a_spec_change_is_a_new_revision_and_the_finalizer_deletes(
    reconciler: Reconciler, box: Sandbox
) -> None:
    reconciler.reconcile(body())
    updated = reconciler.reconcile(body(image="nginx:1.15.0"))
    assert (updated.result.revision, updated.result.phase) == (2, "succeeded")
    assert _image(box) == "nginx:1.15.0"
    gone = reconciler.finalize(body())
    assert gone.phase == "deleted"
    assert box.get(DEPLOYMENT) is None and box.get(SERVICE) is None
    assert box.get(ObjectRef("v1", "Secret", NS, "pyvela-app.web")) is None


class Counting:
    """The backend, counting the writes made through it."""

    WRITES = ("apply", "create", "replace", "merge_patch", "delete")

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in self.WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            self.writes.append(f"{name} {args[0] if args else ''}")
            return attr(*args, **kwargs)

        return write


def test_a_no_change_resync_writes_nothing(box: Sandbox, tmp_path: Path) -> None:
    counting = Counting(box)
    reconciler = Reconciler(counting, centre_for=config_centre_for, workdir=tmp_path / "w")
    reconciler.reconcile(body())
    assert counting.writes  # the first deploy writes, of course
    counting.writes.clear()
    again = reconciler.reconcile(body())
    assert again.result.up_to_date and again.result.revision == 1
    assert counting.writes == []  # not even the Lease
    _edit(box, "nginx:9.9")
    fixed = reconciler.reconcile(body())
    assert [c for _d, c in fixed.corrected] == [
        "configured"
    ] and counting.writes  # the Lease, the apply, the Event


def test_the_finalizer_deletes_from_the_record_an_app_whose_spec_stopped_loading(
    box: Sandbox, tmp_path: Path
) -> None:
    """As KubeVela deletes through its ResourceTracker: a spec broken after a deploy must not
    hold the resource (and its namespace) until someone mends a spec they are deleting."""
    from pyvela._cli.centres import centre_for

    reconciler = Reconciler(
        box,
        centre_for=config_centre_for,
        named_centre=lambda b, app: centre_for(b, app=app),
        workdir=tmp_path / "work",
        wait_lock=5,
    )
    assert reconciler.reconcile(body()).result.ok
    broken = body()
    broken["spec"]["components"][0]["type"] = "no-such-type"
    gone = reconciler.finalize(broken)
    assert gone.phase == "deleted" and str(DEPLOYMENT) in gone.pruned
    assert box.get(DEPLOYMENT) is None and box.get(SERVICE) is None
    assert not box.list("v1", "Secret", NS, {"pyvela.dev/state-of": "web"})  # the record went too
