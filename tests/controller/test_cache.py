"""What a no-op reconcile reads (on the sandbox, a real Backend, every call counted): the
record's index alone once the watch cache holds the owned objects; a cached object that
looks drifted or not ready is read again from the server before anything is done; the
loaded app is kept while the spec (and a module's file) is unchanged."""

from __future__ import annotations

import copy
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.centres import config_centre_for
from pyvela._controller.cache import LoadedApps, Reads, RecordParts, WatchCache
from pyvela._controller.operator import Controller
from pyvela._controller.reconciler import Reconciler
from pyvela._core.objects import LABEL_MANAGED_BY, MANAGER, ObjectRef
from pyvela._workflow.state import state_ref

NS = "team"
PARTS = ("web", "api", "worker")
WRITES = ("apply", "create", "replace", "merge_patch", "patch", "delete", "update")


class Counting:
    """The sandbox, counting every call made through it (reads and writes)."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.got: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "get":
                self.got.append(f"{args[0].kind}/{args[0].name}")
            return attr(*args, **kwargs)

        return counted

    def reset(self) -> None:
        self.calls.clear()
        self.got.clear()

    @property
    def writes(self) -> int:
        return sum(n for name, n in self.calls.items() if name in WRITES)


def body(image: str = "nginx:1.14.2") -> dict[str, Any]:
    return {
        "apiVersion": "pyvela.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop", "namespace": NS, "uid": "uid-1"},
        "spec": {
            "components": [
                {
                    "name": f"shop-{part}",
                    "type": "webservice",
                    "properties": {"image": image, "ports": [{"port": 80, "expose": True}]},
                }
                for part in PARTS
            ]
        },
    }


def deployment(part: str = "web") -> ObjectRef:
    return ObjectRef("apps/v1", "Deployment", NS, f"shop-{part}")


def owned(box: Sandbox) -> list[dict[str, Any]]:
    return [
        o
        for api, kind in (("apps/v1", "Deployment"), ("v1", "Service"))
        for o in box.list(api, kind, NS, {LABEL_MANAGED_BY: MANAGER})
    ]


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


@pytest.fixture
def counting(box: Sandbox) -> Counting:
    return Counting(box)


@pytest.fixture
def reconciler(counting: Counting, tmp_path: Path) -> Reconciler:
    return Reconciler(counting, centre_for=config_centre_for, workdir=tmp_path / "w", wait_lock=5)


def fill(reconciler: Reconciler, box: Sandbox) -> None:
    """What the operator's label watches do: every owned object into the watch cache."""
    for obj in owned(box):
        reconciler.cache.put(obj)


def test_a_no_op_reconcile_reads_the_index_alone_once_the_watch_cache_is_full(
    reconciler: Reconciler, counting: Counting, box: Sandbox
) -> None:
    first = reconciler.reconcile(body())
    assert first.status["ready"] == "6/6" and not first.result.up_to_date
    counting.reset()
    cold = reconciler.reconcile(body())  # no watch yet: every object read, the parts once
    assert cold.result.up_to_date and counting.writes == 0
    assert counting.got.count(state_ref("shop", NS).kind + "/" + state_ref("shop", NS).name) == 1
    assert sum(1 for g in counting.got if g.startswith(("Deployment/", "Service/"))) == 6

    fill(reconciler, box)
    counting.reset()
    warm = reconciler.reconcile(body())
    assert warm.result.up_to_date and warm.status == cold.status
    assert counting.got == [f"Secret/{state_ref('shop', NS).name}"]  # one request
    assert counting.writes == 0 and sum(counting.calls.values()) == 1
    assert reconciler.apps.loads == 1  # the spec did not change: loaded once


def test_a_stale_cached_copy_that_looks_drifted_is_read_again_and_nothing_is_written(
    reconciler: Reconciler, counting: Counting, box: Sandbox
) -> None:
    reconciler.reconcile(body())
    fill(reconciler, box)
    stale = copy.deepcopy(box.get(deployment()))
    assert stale is not None
    stale["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:0.0"
    reconciler.cache.put(stale)  # as if the watch had not delivered the latest version yet
    counting.reset()
    outcome = reconciler.reconcile(body())
    assert outcome.corrected == () and counting.writes == 0
    assert f"Deployment/{deployment().name}" in counting.got  # what the server says decided


def test_drift_the_cache_has_seen_is_corrected(reconciler: Reconciler, box: Sandbox) -> None:
    reconciler.reconcile(body())
    box.merge_patch(
        deployment("api"),
        {"spec": {"template": {"spec": {"containers": [{"name": "shop-api", "image": "nginx:9.9"}]}}}},
    )
    box.delete(ObjectRef("v1", "Service", NS, "shop-worker"))
    fill(reconciler, box)
    reconciler.cache.drop(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": NS, "name": "shop-worker"}}
    )
    outcome = reconciler.reconcile(body())
    assert sorted((str(d.ref), change) for d, change in outcome.corrected) == [
        ("Deployment team/shop-api", "configured"),
        ("Service team/shop-worker", "created"),
    ]
    live = box.get(deployment("api"))
    assert live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
    service = [o["ready"] for o in outcome.status["objects"] if o["object"] == "Service/team/shop-worker"]
    assert service == [True]  # read back from the server: the cache had it deleted


def test_a_cached_copy_that_says_not_ready_is_read_again(
    reconciler: Reconciler, counting: Counting, box: Sandbox
) -> None:
    reconciler.reconcile(body())
    fill(reconciler, box)
    unready = copy.deepcopy(box.get(deployment("worker")))
    assert unready is not None
    unready["status"] = {}
    reconciler.cache.put(unready)
    counting.reset()
    outcome = reconciler.reconcile(body())
    assert outcome.status["ready"] == "6/6" and counting.writes == 0
    assert f"Deployment/{deployment('worker').name}" in counting.got


def test_a_new_revision_is_read_whole_after_a_spec_change(reconciler: Reconciler, box: Sandbox) -> None:
    reconciler.reconcile(body())
    reconciler.reconcile(body())  # parts kept under revision 1's index
    changed = reconciler.reconcile(body(image="nginx:1.15"))
    assert (changed.result.revision, changed.status["revision"]) == (2, 2)
    fill(reconciler, box)
    again = reconciler.reconcile(body(image="nginx:1.15"))
    assert again.result.up_to_date and again.corrected == ()  # revision 2's manifests, not 1's
    assert again.status["revision"] == 2 and reconciler.apps.loads == 2


def test_record_parts_are_kept_per_index_version() -> None:
    parts = RecordParts()
    index = state_ref("a", NS)
    part = ObjectRef("v1", "Secret", NS, f"{index.name}.1.steps.0")
    parts.put(index, "7", part, {"data": {}})
    assert parts.get(index, "7", part) == {"data": {}}
    assert parts.get(index, "8", part) is None  # the index was written since: read again
    parts.put(index, "8", ObjectRef("v1", "Secret", NS, f"{index.name}.2.steps.0"), {})
    assert parts.get(index, "7", part) is None  # the older version's parts are dropped


def test_reads_never_take_the_state_record_from_the_watch(box: Sandbox) -> None:
    cache = WatchCache()
    ref = state_ref("a", NS)
    cache.put(
        {"apiVersion": "v1", "kind": "Secret", "type": "pyvela.dev/app-state", "metadata": ref.to_dict()}
    )
    assert Reads(box, cache).get(ref) is None  # the sandbox has none: the server was asked


def test_the_loaded_app_is_kept_until_the_spec_or_the_module_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = LoadedApps()
    first = apps.load(body(), tmp_path, None)
    assert apps.load(body(), tmp_path, None) is first and apps.loads == 1
    assert apps.load(body(image="nginx:2"), tmp_path, None) is not first and apps.loads == 2

    mods = tmp_path / "mods"
    mods.mkdir()
    source = mods / "cached_app_mod.py"
    text = "from pyvela import Application\nfrom pyvela.stdlib import webservice\n"
    source.write_text(text + 'app = Application("modapp", components=[webservice("w", image="a:1")])\n')
    monkeypatch.syspath_prepend(str(mods))
    resource = {"metadata": {"name": "m", "namespace": NS, "uid": "u"}, "spec": {"module": "cached_app_mod"}}
    one = apps.load(resource, tmp_path, None)
    assert apps.load(resource, tmp_path, None) is one
    source.write_text(text + 'app = Application("modapp", components=[webservice("w", image="a:2")])\n')
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    two = apps.load(resource, tmp_path, None)
    assert two is not one and two.revision != one.revision
    sys.modules.pop("cached_app_mod", None)


def test_the_operator_feeds_the_watch_cache(reconciler: Reconciler, box: Sandbox) -> None:
    reconciler.reconcile(body())
    controller = Controller(reconciler, resync=300, debounce=0.01, workers=1)
    live = box.get(deployment())
    assert live is not None
    live["metadata"]["managedFields"] = [{"manager": "pyvela", "fieldsV1": {}}]  # as a server has it
    controller.owned_changed(live, None)
    cached = reconciler.cache.get(deployment())
    assert cached is not None and "managedFields" not in cached["metadata"]  # the bulk is not kept
    controller.owned_changed(live, "DELETED")
    assert reconciler.cache.get(deployment()) is None


def test_after_a_relisting_what_it_did_not_deliver_again_is_read_from_the_server(
    reconciler: Reconciler, counting: Counting, box: Sandbox
) -> None:
    clock = [1000.0]
    reconciler.cache = WatchCache(clock=lambda: clock[0])
    reconciler.reconcile(body())
    for obj in owned(box):
        reconciler.cache.put(obj, listed=True)  # the first listing
    gone = ObjectRef("v1", "Service", NS, "shop-api")
    box.delete(gone)  # while the watch was lost: no DELETED event comes
    clock[0] += 60
    for obj in owned(box):  # kopf lists again (after "410 Gone", or a new term)
        reconciler.cache.put(obj, listed=True)
    assert reconciler.cache.get(gone) is None and reconciler.cache.get(deployment()) is not None
    outcome = reconciler.reconcile(body())
    assert [(str(d.ref), change) for d, change in outcome.corrected] == [("Service team/shop-api", "created")]


def test_a_listing_of_new_objects_is_no_relisting_and_fresh_forgets_what_is_gone(box: Sandbox) -> None:
    cache = WatchCache()
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": NS, "name": "a"}}
    cache.put(service, listed=True)
    cache.put({**service, "metadata": {"namespace": NS, "name": "b"}}, listed=True)
    assert cache.get(ObjectRef("v1", "Service", NS, "a")) is not None  # both from one first listing
    reads = Reads(box, cache)
    assert reads.get(ObjectRef("v1", "Service", NS, "a")) is not None  # served from the cache
    assert reads.fresh(ObjectRef("v1", "Service", NS, "a")) is None  # the sandbox has no such Service
    assert cache.get(ObjectRef("v1", "Service", NS, "a")) is None and len(cache) == 1
