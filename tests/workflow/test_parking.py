"""A run given ``park=True`` (the controller's) on the sandbox: a wait for an object not ready
ends the run ``waiting`` at once, its record saved; the next run of the revision goes on
without repeating a journaled POST; a step's timeout counts from its first start across
parks; the record gets no Event per park; ``park=False`` (the CLI) still blocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.state import state_ref
from pyvela.errors import StepTimeout
from tests.post_counter import counting_server
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
GO = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}}


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


def _app(write_app: WriteApp, url: str, timeout: float = 300) -> Path:
    return write_app(f"""
from tests.sample_defs import noop, post_then_wait
from pyvela import Application
post = post_then_wait("post", url="{url}", then_wait="go").with_timeout({timeout})
app = Application("parks", components=[], workflow=[noop("first"), post, noop("last")])
""")


def _events(box: Sandbox) -> list[str]:
    name = state_ref("parks", "default").name
    return [
        str(e["reason"]) for e in box.list("v1", "Event", "default") if e["involvedObject"]["name"] == name
    ]


def test_a_wait_parks_the_run_and_the_next_run_goes_on_without_repeating_the_post(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, url)
    first = ops_for(path, box, park=True).deploy()
    assert first.phase == "waiting", first.to_dict()
    step = first.steps["post"]
    assert (step["phase"], step["reason"]) == ("waiting", "Wait")
    assert "waiting for ConfigMap default/go" in step["message"]
    assert first.steps["first"]["phase"] == "succeeded" and first.steps["last"]["phase"] == "pending"
    assert len(got) == 1
    # What others read: the record says waiting, with the step's message, not interrupted.
    status = ops_for(path, box).status()
    assert status["phase"] == "waiting" and "ConfigMap default/go" in status["message"]

    again = ops_for(path, box, park=True).deploy()  # woken with nothing changed: parks again
    assert again.phase == "waiting" and len(got) == 1  # the POST replayed from the journal

    box.apply(GO)
    done = ops_for(path, box, park=True).deploy()
    assert done.phase == "succeeded", done.to_dict()
    assert done.steps["post"]["outputs"] == {"value": "post-1"}  # the first POST's answer
    assert len(got) == 1
    assert "parked" not in done.steps["post"]
    # One Event when it started, one when it ended: none per park or per look.
    assert _events(box) == ["RevisionStarted", "RevisionSucceeded"]


def test_a_step_timeout_counts_from_its_first_start_across_parks(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    _got, url = posts
    path = _app(write_app, url, timeout=4)
    began = time.monotonic()
    assert ops_for(path, box, park=True).deploy().phase == "waiting"
    again = ops_for(path, box, park=True).deploy()
    if time.monotonic() - began < 3.5:  # (a loaded machine may have passed the deadline already)
        assert again.phase == "waiting"
    time.sleep(max(0.0, began + 4.5 - time.monotonic()))
    last = time.monotonic()
    ended = ops_for(path, box, park=True).deploy()
    assert ended.phase == "failed", ended.to_dict()
    assert ended.steps["post"]["reason"] == "Timeout"
    assert time.monotonic() - last < 4  # no run lasted the timeout: their sum did
    assert _events(box) == ["RevisionStarted", "RevisionFailed"]


def test_a_restart_starts_the_step_timeout_afresh(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    _got, url = posts
    path = _app(write_app, url, timeout=3)
    assert ops_for(path, box, park=True).deploy().phase == "waiting"
    time.sleep(3.2)
    restarted = ops_for(path, box, park=True).restart()
    assert restarted.phase == "waiting", restarted.to_dict()  # not timed out: a new start


def test_without_park_the_wait_blocks_as_before(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, url)
    threading.Timer(0.5, lambda: box.apply(GO)).start()
    result = ops_for(path, box).deploy()
    assert result.phase == "succeeded" and len(got) == 1


def test_the_cli_resumes_a_parked_run_and_waits(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    got, url = posts
    path = _app(write_app, url)
    assert ops_for(path, box, park=True).deploy().phase == "waiting"
    threading.Timer(0.5, lambda: box.apply(GO)).start()
    result = ops_for(path, box).deploy()
    assert result.phase == "succeeded" and len(got) == 1


def _stuck_deployment(box: Sandbox, grace: str) -> None:
    labels = {"app": "stuck"}
    box.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "stuck",
                "namespace": "default",
                "annotations": {"pyvela.dev/failure-grace": grace},
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "example/does-not-exist:1"}]},
                },
            },
        }
    )


def test_a_look_fails_on_pods_stuck_for_the_grace_since_the_step_began_and_the_pod_exists(
    box: Sandbox,
) -> None:
    from pyvela._backends.readiness import rule_for
    from pyvela._core.objects import ObjectRef
    from pyvela._workflow.parking import Parked, look
    from pyvela.errors import NotReadyError

    _stuck_deployment(box, "4")
    ref = ObjectRef("apps/v1", "Deployment", "default", "stuck")
    rule = rule_for("apps/v1", "Deployment")
    with pytest.raises(Parked):  # the step began just now: its Pods are not looked at yet
        look(box, ref, rule, remaining=60, since=time.time())
    with pytest.raises(Parked):  # waiting for long, but the Pod is younger than the grace
        look(box, ref, rule, remaining=60, since=time.time() - 30, failure_grace=None)
    time.sleep(4.5)
    with pytest.raises(NotReadyError, match="will not become ready"):
        look(box, ref, rule, remaining=60, since=time.time() - 30)
    with pytest.raises(StepTimeout):
        look(box, ref, rule, remaining=0, since=time.time())


def test_a_new_revision_ends_a_parked_one_in_the_record(
    write_app: WriteApp, box: Sandbox, posts: tuple[list[str], str]
) -> None:
    _got, url = posts
    path = _app(write_app, url)
    assert ops_for(path, box, park=True).deploy().phase == "waiting"
    changed = _app(write_app, url + "?v=2")  # a new spec: a new revision
    assert ops_for(changed, box, park=True).deploy().revision == 2
    first = ops_for(changed, box).history()[0]
    assert (first["number"], first["phase"]) == (1, "terminated"), first
