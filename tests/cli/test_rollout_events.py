"""The sandbox records the Argo Rollouts controller's Events on a Rollout, as the real one
does (reasons and wording as the test control plane's controller records them): the first
revision's ``Initial deploy``, an update's steps and ``RolloutPaused``, a Warning
``RolloutAborted`` on abort, the steps again on retry (``count`` 2), and on promote the rest of
the steps and ``RolloutCompleted``; ``status`` of the paused or aborted Rollout shows them."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from tests.cli.test_rollout_cmd import REF, _paused, first, run
from tests.cli.test_rollout_cmd import _update as _start


@contextlib.contextmanager
def _update(path: Path, sandbox_dir: Path, image: str) -> Iterator[subprocess.Popen[str]]:
    """The waiting deploy of an update, killed if the test fails before it ends."""
    proc = _start(path, sandbox_dir, image)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


__all__ = ["first"]  # the fixture, used here by name


def _events(sandbox_dir: Path) -> list[dict[str, Any]]:
    box = Sandbox(sandbox_dir, read_only=True)
    try:
        live = box.get(REF)
        assert live is not None
        uid = live["metadata"]["uid"]
        return [e for e in box.list("v1", "Event", "default") if e["involvedObject"].get("uid") == uid]
    finally:
        box.close()


def _said(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in events]


def _problem_events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    _, out, err = run(capsys, "status", "canaryapp", "-o", "json")
    problems = [
        p
        for p in json.loads(out)["problems"]
        if (p["object"]["kind"], p["object"]["name"]) == ("Rollout", "front")
    ]
    assert problems, out + err
    events: list[dict[str, Any]] = problems[0]["events"]
    return events


def test_the_first_revision_is_an_initial_deploy(first: Path, sandbox_dir: Path) -> None:
    events = _events(sandbox_dir)
    said = _said(events)
    assert said[0] == ("Normal", "RolloutUpdated", "Rollout updated to revision 1")
    assert said[-1][1] == "RolloutCompleted" and said[-1][2].endswith("): Initial deploy")
    assert {e["source"]["component"] for e in events} == {"rollouts-controller"}
    scaled = [m for _, r, m in said if r == "ScalingReplicaSet"]
    assert len(scaled) == 1 and scaled[0].startswith("Scaled up ReplicaSet front-")
    assert scaled[0].endswith("(revision 1) from 0 to 2")
    assert _events(sandbox_dir) == events  # derived, but the same on every list


def test_status_of_a_paused_then_aborted_canary_shows_the_controllers_events(
    capsys: pytest.CaptureFixture[str], first: Path, sandbox_dir: Path
) -> None:
    with _update(first, sandbox_dir, "registry.example.com/front:2") as proc:
        _paused(sandbox_dir)
        said = [(e["type"], e["reason"], e["message"]) for e in _problem_events(capsys)]
        assert ("Normal", "RolloutStepCompleted", "Rollout step 1/2 completed (setWeight: 50)") in said
        assert said[-1] == ("Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)")
        assert ("Normal", "RolloutUpdated", "Rollout updated to revision 2") in said
        assert not any(r == "RolloutCompleted" for _, r, _ in said)
        code, _, err = run(capsys, "rollout", "abort", "canaryapp", "front")
        assert code == 0, err
        proc.wait(timeout=60)
    shown = _problem_events(capsys)
    aborted = [e for e in shown if e["reason"] == "RolloutAborted"]
    assert len(aborted) == 1 and aborted[0]["type"] == "Warning"
    assert aborted[0]["message"] == "Rollout aborted update to revision 2"
    assert aborted[0]["from"] == "rollouts-controller"
    # retry: the steps start again, the same Events recorded a second time.
    assert run(capsys, "rollout", "retry", "canaryapp", "front")[0] == 0
    events = {
        e["reason"]: e for e in _events(sandbox_dir) if e["reason"] in ("RolloutPaused", "RolloutAborted")
    }
    assert events["RolloutPaused"]["count"] == 2 and events["RolloutAborted"]["count"] == 1
    assert events["RolloutPaused"]["lastTimestamp"] >= events["RolloutAborted"]["lastTimestamp"]


def test_promote_completes_the_steps(
    capsys: pytest.CaptureFixture[str], first: Path, sandbox_dir: Path
) -> None:
    with _update(first, sandbox_dir, "registry.example.com/front:2") as proc:
        _paused(sandbox_dir)
        assert run(capsys, "rollout", "promote", "canaryapp", "front")[0] == 0
        proc.wait(timeout=60)
        assert proc.returncode == 0
    said = _said(_events(sandbox_dir))
    assert ("Normal", "RolloutStepCompleted", "Rollout step 2/2 completed (pause)") in said
    assert said[-1][1] == "RolloutCompleted" and said[-1][2].endswith("): Completed all 2 canary steps")
    assert not any(r in ("RolloutAborted", "RolloutResumed") for _, r, _ in said)


def test_a_full_promotion_resumes_and_says_so(
    capsys: pytest.CaptureFixture[str], first: Path, sandbox_dir: Path
) -> None:
    with _update(first, sandbox_dir, "registry.example.com/front:2") as proc:
        _paused(sandbox_dir)
        assert run(capsys, "rollout", "promote", "canaryapp", "front", "--full")[0] == 0
        proc.wait(timeout=60)
    said = _said(_events(sandbox_dir))
    assert ("Normal", "RolloutResumed", "Rollout is resumed") in said
    assert said[-1][2].endswith("): Full promotion requested")
    assert ("Normal", "RolloutStepCompleted", "Rollout step 2/2 completed (pause)") not in said
