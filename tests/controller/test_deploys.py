"""A controller's deploy runs on a ``DeployBackend``: what it already knows is not asked of
the API server again (on the sandbox, a real Backend, every call counted): the state record
once the deploy wrote it (the Events on it, the reconcile's reading of it after the
deploy), the Application's own Namespace after the first read, an applied object the watch
shows current and ready. What it does not know is read from the server."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.centres import config_centre_for
from pyvela._controller.cache import WatchCache
from pyvela._controller.deploys import DeployBackend, Namespaces
from pyvela._controller.reconciler import Reconciler
from pyvela._core.objects import ObjectRef
from pyvela._workflow.state import state_ref
from pyvela.errors import ConflictError

from .test_cache import NS, Counting, body, deployment

INDEX = state_ref("shop", NS)
NAMESPACE = f"Namespace/{NS}"


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


def test_a_creation_reads_the_record_only_before_it_writes_it(box: Sandbox, tmp_path: Path) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})  # the resource's
    counting = Counting(box)
    reconciler = Reconciler(counting, centre_for=config_centre_for, workdir=tmp_path / "w", wait_lock=5)
    first = reconciler.reconcile(body())
    assert first.result.phase == "succeeded" and first.status["ready"] == "6/6"
    # Before the Lease (is there anything to do?) and under it (what to run): nothing after
    # the deploy's first write, neither for the Events on the record nor for the status.
    assert counting.got.count(f"Secret/{INDEX.name}") == 2, counting.got
    assert not [g for g in counting.got if g.startswith(f"Secret/{INDEX.name}.")]  # no part read back
    assert counting.got.count(NAMESPACE) == 1
    assert len(box.list("v1", "Event", NS)) >= 2  # the record's Events were still made, with its uid
    assert all((e.get("involvedObject") or {}).get("uid") for e in box.list("v1", "Event", NS))

    # A second app in the namespace: its Namespace is not read again.
    counting.reset()
    other = body()
    other["metadata"] |= {"name": "shop2", "uid": "uid-2"}
    for c in other["spec"]["components"]:
        c["name"] = c["name"].replace("shop-", "shop2-")
    assert reconciler.reconcile(other).result.phase == "succeeded"
    assert NAMESPACE not in counting.got


def test_the_status_after_a_deploy_is_the_records_as_written(box: Sandbox, tmp_path: Path) -> None:
    reconciler = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "w", wait_lock=5)
    created = reconciler.reconcile(body())
    fresh = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "w2", wait_lock=5)
    again = fresh.reconcile(body())  # nothing in memory: the record read from the server
    assert again.result.up_to_date
    keys = ("phase", "revision", "hash", "ready", "steps")
    assert {k: created.status[k] for k in keys} == {k: again.status[k] for k in keys}


def _secret(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "pyvela.dev/app-state-part",
        "metadata": {"name": name, "namespace": NS},
        "data": {"state": ""},
    }


def test_a_record_is_served_only_as_this_deploy_last_wrote_it(box: Sandbox) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    counting = Counting(box)
    run = DeployBackend(counting, namespace=NS)
    ref = ObjectRef("v1", "Secret", NS, "pyvela-app.shop.1.steps.0")
    assert run.get(ref) is None and counting.got == [f"Secret/{ref.name}"]  # not written: asked
    written = run.create(_secret(ref.name))
    counting.reset()
    assert run.get(ref) == written and counting.got == []
    stale = copy.deepcopy(written)
    stale["metadata"]["resourceVersion"] = "1"
    with pytest.raises(ConflictError):
        run.replace(stale)
    assert run.get(ref) is not None and counting.got == [f"Secret/{ref.name}"]  # refused: asked again
    run.delete(ref, wait=False)
    counting.reset()
    assert run.get(ref) is None and counting.got == [f"Secret/{ref.name}"]
    # Another deploy's backend knows nothing of this one's writes.
    run.create(_secret(ref.name))
    counting.reset()
    assert DeployBackend(counting, namespace=NS).get(ref) is not None
    assert counting.got == [f"Secret/{ref.name}"]


def test_only_the_resources_own_namespace_is_kept(box: Sandbox) -> None:
    for name in (NS, "elsewhere"):
        box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    counting = Counting(box)
    namespaces = Namespaces()
    for _ in range(3):
        run = DeployBackend(counting, namespace=NS, namespaces=namespaces)
        assert run.get(ObjectRef("v1", "Namespace", "", NS)) is not None
        assert run.get(ObjectRef("v1", "Namespace", "", "elsewhere")) is not None
    assert counting.got.count(NAMESPACE) == 1 and counting.got.count("Namespace/elsewhere") == 3


def _deployment(ready: bool, generation: int = 1, observed: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop-web", "namespace": NS, "generation": generation},
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": observed,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": 1 if ready else 0,
            "availableReplicas": 1 if ready else 0,
            "conditions": [{"type": "Available", "status": "True" if ready else "False"}],
        },
    }


@pytest.mark.parametrize(
    ("seen", "served"),
    [
        (_deployment(ready=True), True),
        (_deployment(ready=False), False),  # not ready by the watch: the server may know better
        (_deployment(ready=True, generation=1, observed=0), False),  # its controller has not seen it
        (None, False),  # not delivered yet
    ],
)
def test_an_applied_object_is_looked_at_through_the_watch_only_when_current_and_ready(
    box: Sandbox, seen: dict[str, Any] | None, served: bool
) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    counting = Counting(box)
    cache = WatchCache()
    run = DeployBackend(counting, namespace=NS, cache=cache)
    ref = deployment("web")
    assert run.get(ref) is None  # a read before the apply: always the server's
    applied = run.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop-web", "namespace": NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.14.2"}]},
                },
            },
        }
    )
    if seen is not None:
        seen["metadata"]["generation"] = applied["metadata"]["generation"]
        if seen["status"]["observedGeneration"]:
            seen["status"]["observedGeneration"] = applied["metadata"]["generation"]
        cache.put(seen)
    counting.reset()
    run.get(ref)
    assert (counting.got == []) is served, counting.got
