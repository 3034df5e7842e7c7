"""A resumed run (the controller's, same revision, after its step parked at readiness) does
not read and apply again the objects the first run applied when the watch shows them as that
apply left them; an object edited or deleted since is read and applied again (drift is still
corrected). On the sandbox, a real Backend, every call counted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pyvela._backends.readiness import rule_for
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._cli.centres import config_centre_for
from pyvela._controller.applied import AppliedObjects
from pyvela._controller.reconciler import Reconciler
from pyvela._core.objects import ObjectRef

from .test_cache import NS, PARTS, Counting, body, deployment, fill


def _parked(tmp_path: Path) -> tuple[Sandbox, Counting, Reconciler]:
    box = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=1.0))
    counting = Counting(box)
    reconciler = Reconciler(
        counting, centre_for=config_centre_for, workdir=tmp_path / "w", wait_lock=5, park=True
    )
    first = reconciler.reconcile(body())
    assert first.result.phase == "waiting", first.result.to_dict()
    return box, counting, reconciler


def _until_ready(box: Sandbox) -> None:
    deadline = time.monotonic() + 30
    rule = rule_for("apps/v1", "Deployment")
    while not all(rule(box.get(deployment(p)) or {}).ready for p in PARTS):
        assert time.monotonic() < deadline, "the sandbox's Deployments never became ready"
        time.sleep(0.2)


def _objects(counting: Counting) -> list[str]:
    return [g for g in counting.got if g.startswith(("Deployment/", "Service/"))]


def test_a_resumed_run_applies_nothing_the_watch_shows_unchanged(tmp_path: Path) -> None:
    box, counting, reconciler = _parked(tmp_path)
    try:
        _until_ready(box)
        fill(reconciler, box)  # what the label watches delivered
        counting.reset()
        done = reconciler.reconcile(body())
        assert done.result.phase == "succeeded", done.result.to_dict()
        assert done.status["ready"] == "6/6"
        assert counting.calls["apply"] == 0, counting.calls  # no PATCH of the six objects
        assert _objects(counting) == [], counting.got  # nor a GET
    finally:
        box.close()


def test_an_object_edited_or_deleted_since_the_first_apply_is_applied_again(tmp_path: Path) -> None:
    box, counting, reconciler = _parked(tmp_path)
    try:
        live = box.get(deployment("api"))
        assert live is not None
        containers = live["spec"]["template"]["spec"]["containers"]
        edited = [c | {"image": "nginx:0.0"} for c in containers]
        box.merge_patch(
            deployment("api"), {"spec": {"template": {"spec": {"containers": edited}}}}
        )  # someone else's
        service = ObjectRef("v1", "Service", NS, "shop-worker")
        box.delete(service, wait=True)
        _until_ready(box)
        fill(reconciler, box)
        assert reconciler.cache.get(service) is None
        counting.reset()
        again = reconciler.reconcile(body())  # parks again: the corrected Deployment rolls out
        assert again.result.phase in ("waiting", "succeeded"), again.result.to_dict()
        assert counting.calls["apply"] == 2, counting.calls  # the edited and the deleted, only
        assert set(_objects(counting)) == {"Deployment/shop-api", "Service/shop-worker"}, counting.got
        api = box.get(deployment("api"))
        assert api is not None and api["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
        assert box.get(service) is not None
    finally:
        box.close()


def test_a_copy_is_unchanged_by_its_resource_version_or_its_generation_and_metadata() -> None:
    applied = AppliedObjects()
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "labels": {"a": "1"}},
        "spec": {"replicas": 1},
    }
    answer = manifest | {"metadata": manifest["metadata"] | {"resourceVersion": "5", "generation": 2}}
    applied.record(manifest, answer)
    ref = ObjectRef.of(answer)
    assert applied.same(ref, manifest, answer)
    status_only = answer | {
        "metadata": answer["metadata"] | {"resourceVersion": "9"},
        "status": {"readyReplicas": 1},
    }
    assert applied.same(ref, manifest, status_only)  # its status changed, nothing else
    assert not applied.same(ref, manifest | {"spec": {"replicas": 2}}, answer)  # another manifest
    relabelled = status_only | {"metadata": status_only["metadata"] | {"labels": {"a": "2"}}}
    assert not applied.unchanged(ref, relabelled)  # its label edited: applied again
    unlabelled = status_only | {"metadata": status_only["metadata"] | {"labels": {}}}
    assert not applied.unchanged(ref, unlabelled)
    # What its controller adds (a Deployment's revision annotation) is not the apply's.
    annotated = status_only | {
        "metadata": status_only["metadata"] | {"annotations": {"deployment.kubernetes.io/revision": "1"}}
    }
    assert applied.same(ref, manifest, annotated)
    edited = status_only | {"metadata": status_only["metadata"] | {"generation": 3}}
    assert not applied.unchanged(ref, edited)
    assert not applied.unchanged(ref, None)  # gone from the watch
    deleting = answer | {"metadata": answer["metadata"] | {"deletionTimestamp": "now"}}
    assert not applied.unchanged(ref, deleting)
    # A kind with content besides its spec (a ConfigMap's data): its resourceVersion only.
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": NS},
        "data": {},
    }
    config_answer: dict[str, Any] = config | {
        "metadata": config["metadata"] | {"resourceVersion": "3", "generation": 1}
    }
    applied.record(config, config_answer)
    moved = config_answer | {"metadata": config_answer["metadata"] | {"resourceVersion": "4"}}
    assert applied.same(ObjectRef.of(config), config, config_answer)
    assert not applied.unchanged(ObjectRef.of(config), moved)
    applied.forget(ref)
    assert not applied.unchanged(ref, answer)


def test_a_restarted_controller_applies_once_more(tmp_path: Path) -> None:
    """The memory is the process's: nothing remembered, every object is applied again."""
    box, counting, reconciler = _parked(tmp_path)
    try:
        _until_ready(box)
        reconciler.applied = AppliedObjects()  # a controller restarted: nothing remembered
        fill(reconciler, box)
        counting.reset()
        assert reconciler.reconcile(body()).result.phase == "succeeded"
        assert counting.calls["apply"] >= 6
    finally:
        box.close()
