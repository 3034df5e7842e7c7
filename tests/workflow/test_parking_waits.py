"""The waits other than ``wait_ready`` in a run given ``park=True`` (the controller's), on the
sandbox: a timed suspend and ``depends-on-app`` park the run at once, saved with what they
wait for; the next run goes on when that came (the suspend's end, the other app's success)
without repeating a journaled POST; a step's deadline holds across parks (Timeout); a
delete and a component's CRD go on at once when the object is gone or established. The CLI
(``park=False``) still blocks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._controller.cache import WatchCache
from pyvela._controller.waiting import Waiters, requeue_after, still_waiting
from pyvela._core.objects import ObjectRef
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.state import StateStore, state_ref
from tests.post_counter import counting_server
from tests.runner_helpers import DEFS, sandbox
from tests.runner_helpers import ops_for as _ops_for

WriteApp = Callable[..., Path]
GO = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "flow"}}


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


@pytest.fixture
def posts() -> Iterator[tuple[list[str], str]]:
    got: list[str] = []
    with counting_server(got) as url:
        yield got, url


def ops_for(path: Path, box: Sandbox, **options: Any) -> AppOps:
    return _ops_for(path, box, defs=[*DEFS, "tests.waits_defs"], **options)


def _app(write_app: WriteApp, name: str, steps: str) -> Path:
    return write_app(
        f"""
from pyvela import Application
from pyvela.stdlib import suspend
from tests.sample_defs import noop, wait_for_configmap
from tests.waits_defs import post_then_delete, post_then_nap, post_then_wait_app
app = Application("{name}", namespace="flow", components=[], workflow=[{steps}])
""",
        f"{name}.py",
    )


# --------------------------------------------------------------------------- a timed suspend


def test_a_timed_suspend_parks_until_its_end_and_repeats_nothing(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, "nap", f'post_then_nap("nap", url="{url}", seconds=2.0), noop("after")')
    began = time.time()
    first = ops_for(path, box, park=True).deploy()
    assert first.phase == "waiting", first.to_dict()  # returned at the suspend (blocked: succeeded)
    step = first.steps["nap"]
    assert (step["phase"], step["reason"]) == ("waiting", "Wait")
    assert "waiting for suspend for 2s: it ends at" in step["message"]
    parked = step["parked"]
    assert parked["until"] == "time" and parked["object"] is None
    end = float(parked["wake_at"])
    assert began + 1.9 <= end <= time.time() + 2.1
    assert len(got) == 1
    # The controller's requeue comes at the suspend's end, not later.
    assert requeue_after(1, first.steps, 300) <= end - time.time() + 0.6

    again = ops_for(path, box, park=True).deploy()  # woken early: the same end, not a new 2 s
    assert again.phase == "waiting" and float(again.steps["nap"]["parked"]["wake_at"]) == end
    assert len(got) == 1

    time.sleep(max(0.0, end - time.time() + 0.1))
    done = ops_for(path, box, park=True).deploy()
    assert done.phase == "succeeded", done.to_dict()
    assert len(got) == 1  # the POST replayed from the journal
    assert [line["message"] for line in done.steps["nap"].get("logs") or []][-1] == "woke up"


def test_a_timed_suspend_longer_than_its_step_timeout_fails_at_the_deadline(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, "late", f'post_then_nap("nap", url="{url}", seconds=60).with_timeout(2)')
    first = ops_for(path, box, park=True).deploy()
    assert first.phase == "waiting"
    assert requeue_after(1, first.steps, 300) <= 2.6  # due at the deadline, before the suspend's end
    time.sleep(2.3)
    ended = ops_for(path, box, park=True).deploy()
    assert ended.phase == "failed" and ended.steps["nap"]["reason"] == "Timeout", ended.to_dict()
    assert len(got) == 1


def test_a_parked_suspend_is_answered_from_the_record_until_its_end(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    _got, url = posts
    path = _app(write_app, "quiet", f'post_then_nap("nap", url="{url}", seconds=1.5)')
    ops = ops_for(path, box, park=True)
    assert ops.deploy().phase == "waiting"
    store = StateStore(box, "quiet", "flow")
    assert still_waiting(store, ops.loaded.revision, ops.loaded.app, WatchCache()) is not None
    time.sleep(1.6)
    assert still_waiting(store, ops.loaded.revision, ops.loaded.app, WatchCache()) is None  # due: run it


def test_without_park_a_timed_suspend_blocks_as_before(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, "cli", f'post_then_nap("nap", url="{url}", seconds=1.0), noop("after")')
    began = time.monotonic()
    result = ops_for(path, box).deploy()
    assert result.phase == "succeeded" and time.monotonic() - began >= 1.0
    assert len(got) == 1 and not result.steps["nap"]["journal"][1:]  # no suspend entry: as before


def test_the_cli_resuming_a_parked_suspend_waits_for_the_same_end(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, "handover", f'post_then_nap("nap", url="{url}", seconds=8.0)')
    parked = ops_for(path, box, park=True).deploy()
    assert parked.phase == "waiting"
    end = float(parked.steps["nap"]["parked"]["wake_at"])
    time.sleep(4)
    began = time.time()
    done = ops_for(path, box).deploy()  # the CLI: blocks, until the end the controller's run set
    assert done.phase == "succeeded", done.to_dict()
    assert time.time() >= end
    assert time.time() - began < 7.5  # at most 4 s were left: not a new 8 s from the CLI's start
    assert len(got) == 1


# --------------------------------------------------------------------------- another app


def test_depends_on_app_parks_until_the_other_app_succeeds(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    base = _app(write_app, "base", 'wait_for_configmap("gate", name="go")')
    front = _app(write_app, "front", f'post_then_wait_app("need", url="{url}", app="base"), noop("go")')
    assert ops_for(base, box, park=True).deploy().phase == "waiting"  # base parks on its own wait

    ops = ops_for(front, box, park=True)
    first = ops.deploy()
    assert first.phase == "waiting", first.to_dict()
    step = first.steps["need"]
    assert step["message"] == "waiting for app flow/base: revision 1 is waiting"
    assert step["parked"]["until"] == "app" and step["parked"]["judgeable"]
    assert step["parked"]["object"] == state_ref("base", "flow").to_dict()
    assert len(got) == 1

    # The controller: the other app's record, as its watch shows it, still not succeeded: no run.
    cache = WatchCache()
    index = box.get(state_ref("base", "flow"))
    assert index is not None
    cache.put(index)
    store = StateStore(box, "front", "flow")
    assert still_waiting(store, ops.loaded.revision, ops.loaded.app, cache) is not None
    # ... and the record's next watch event wakes this app.
    waiters = Waiters()
    waiters.parked("flow/front", first.steps)
    assert waiters.of(index) == ["flow/front"]

    box.apply(GO)
    assert ops_for(base, box, park=True).deploy().phase == "succeeded"
    index = box.get(state_ref("base", "flow"))
    assert index is not None
    cache.put(index)
    assert still_waiting(store, ops.loaded.revision, ops.loaded.app, cache) is None  # succeeded: run it
    done = ops_for(front, box, park=True).deploy()
    assert done.phase == "succeeded", done.to_dict()
    assert len(got) == 1  # not repeated by the resume
    assert "app base revision 1 succeeded" in [line["message"] for line in done.steps["need"]["logs"]]
    waiters.parked("flow/front", {})
    assert waiters.of(index) == []


def test_depends_on_app_fails_at_once_when_the_other_app_fails_and_times_out_at_its_deadline(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    _got, url = posts
    base = _app(write_app, "base", 'wait_for_configmap("gate", name="go", seconds=1).with_timeout(1)')
    assert ops_for(base, box, park=True).deploy().phase == "waiting"
    slow = _app(write_app, "slow", f'post_then_wait_app("need", url="{url}", app="base").with_timeout(2)')
    assert ops_for(slow, box, park=True).deploy().phase == "waiting"
    time.sleep(2.2)
    timed_out = ops_for(slow, box, park=True).deploy()
    assert timed_out.phase == "failed" and timed_out.steps["need"]["reason"] == "Timeout", timed_out.to_dict()

    assert ops_for(base, box, park=True).deploy().phase == "failed"  # its own wait timed out
    front = _app(write_app, "front", f'post_then_wait_app("need", url="{url}", app="base")')
    failed = ops_for(front, box, park=True).deploy()
    assert failed.phase == "failed", failed.to_dict()
    assert "app flow/base revision 1 failed" in failed.steps["need"]["message"]


# --------------------------------------------------------------------------- delete, CRD


def test_a_delete_of_an_object_that_goes_at_once_does_not_park(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flow"}})
    box.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old", "namespace": "flow"}})
    path = _app(write_app, "cleaner", f'post_then_delete("clean", url="{url}", name="old")')
    result = ops_for(path, box, park=True).deploy()
    assert result.phase == "succeeded", result.to_dict()
    assert "deleted (existed: True)" in [line["message"] for line in result.steps["clean"]["logs"]]
    assert box.get(ObjectRef("v1", "ConfigMap", "flow", "old")) is None
    assert len(got) == 1


def test_a_component_with_a_crd_goes_on_once_it_is_established(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        """
from pyvela import Application
from pyvela.stdlib import k8s_objects
OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
crd = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
        "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": OPEN}}],
    },
}
app = Application("crds", namespace="flow", components=[k8s_objects("defs", objects=(crd,))])
""",
        "crds.py",
    )
    result = ops_for(path, box, park=True).deploy()
    assert result.phase == "succeeded", result.to_dict()


def test_a_parked_delete_answers_as_its_first_try_once_the_object_is_gone() -> None:
    """The journal keeps the first try's answer (it existed) when the delete parks: the try that
    finds the object gone answers True, as a blocking delete would have."""
    from pyvela._core.actions import DeleteObject
    from pyvela._workflow.driver import StepRun
    from pyvela._workflow.parking import GONE, Parked
    from pyvela._workflow.waits import parked_action

    saved: list[list[dict[str, Any]]] = []
    run = StepRun(name="clean", definition="d", journal=[], on_journal=saved.append)
    action = DeleteObject(ref=ObjectRef("v1", "ConfigMap", "flow", "old"))

    def still_there() -> bool:
        raise Parked(action.ref, "it is being deleted", until=GONE)

    with pytest.raises(Parked):
        parked_action(action, 2, run, still_there)
    assert saved and saved[-1][0]["result"] == {"existed": True} and saved[-1][0]["index"] == 2
    with pytest.raises(Parked):  # parked again: the entry is not written twice
        parked_action(action, 2, run, still_there)
    assert len(saved) == 1
    assert parked_action(action, 2, run, lambda: False) is True  # gone now: the first try's answer
    fresh = StepRun(name="clean", definition="d", journal=[])
    assert parked_action(action, 2, fresh, lambda: False) is False  # it never existed


def test_a_recreated_workload_in_a_parked_run_is_replaced(write_app: WriteApp, box: Sandbox) -> None:
    """``update="recreate"``: the delete parks like any other until the object is gone (the
    sandbox deletes at once), then the apply creates it again."""
    source = """
from pyvela import Application
from tests.job_defs import recreated_job, apply_only
app = Application("jobs", components=[recreated_job("migrate", image="{image}")],
                  workflow=[apply_only("apply", component="migrate")])
"""
    ref = ObjectRef("batch/v1", "Job", "default", "migrate")
    for image in ("migrate:1", "migrate:2"):
        path = write_app(source.format(image=image), "jobs.py")
        result = _ops_for(path, box, defs=["tests.job_defs"], park=True).deploy()
        assert result.ok, result.to_dict()
    live = box.get(ref)
    assert live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"] == "migrate:2"


def test_a_crd_not_established_yet_parks_and_past_the_deadline_times_out(box: Sandbox) -> None:
    """The look a parked apply makes at its CRD (the sandbox establishes a CRD it stores at
    once, so this one is not stored: no condition yet, as just after an API server took it)."""
    from pyvela._workflow.parking import Parked
    from pyvela._workflow.waits import crd_established
    from pyvela.errors import StepTimeout

    ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "gadgets.example.com")
    live = {"apiVersion": ref.api_version, "kind": ref.kind, "metadata": {"name": ref.name}}
    with pytest.raises(Parked) as parked:
        crd_established(box, live, remaining=30)
    assert "waiting for CustomResourceDefinition gadgets.example.com" in parked.value.message
    assert parked.value.until == "ready" and not parked.value.judgeable  # CRDs are not watched
    with pytest.raises(StepTimeout):
        crd_established(box, live, remaining=0)
