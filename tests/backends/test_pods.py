"""Reading why a workload's Pods are stuck, and when a stuck Pod fails the wait."""

from __future__ import annotations

from typing import Any

import pytest

from pyvela._backends.pods import (
    ANNOTATION_GRACE,
    DEFAULT_GRACE,
    PodProblems,
    grace_of,
    problems_of,
    selector_of,
)


def pod(
    name: str = "web-1", *, waiting: str | None = None, restarts: int = 0, **status: Any
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "restartCount": restarts, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": f"why {waiting}"}}
    return {"metadata": {"name": name}, "status": {"containerStatuses": [container], **status}}


@pytest.mark.parametrize(
    "reason",
    [
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
    ],
)
def test_stuck_waiting_reasons_are_problems(reason: str) -> None:
    [problem] = problems_of(pod(waiting=reason))
    assert (problem.pod, problem.reason) == ("web-1", reason)
    assert str(problem) == f"pod web-1: {reason}: container app: why {reason}"


def test_passing_states_are_not_problems() -> None:
    assert problems_of(pod()) == []
    assert problems_of(pod(waiting="ContainerCreating")) == []
    assert problems_of(pod(waiting="PodInitializing")) == []


def test_a_crash_loop_is_a_problem_only_after_some_restarts() -> None:
    assert problems_of(pod(waiting="CrashLoopBackOff", restarts=1)) == []
    [problem] = problems_of(pod(waiting="CrashLoopBackOff", restarts=4))
    assert "restarted 4 times" in problem.message
    assert problems_of(pod(waiting="CrashLoopBackOff", restarts=1), crash_restarts=1)


def test_init_containers_and_scheduling() -> None:
    init = pod(waiting=None)
    init["status"]["initContainerStatuses"] = [
        {"name": "init", "state": {"waiting": {"reason": "ErrImagePull"}}}
    ]
    assert [p.reason for p in problems_of(init)] == ["ErrImagePull"]
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes fit"}
    [problem] = problems_of({"metadata": {"name": "p"}, "status": {"conditions": [cond]}})
    assert (problem.reason, problem.message) == ("Unschedulable", "0/3 nodes fit")


def test_garbage_and_terminating_pods_have_no_problems() -> None:
    assert problems_of({}) == []
    assert problems_of({"status": {"containerStatuses": "nope", "conditions": [1, None]}}) == []
    going = pod(waiting="ImagePullBackOff")
    going["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert problems_of(going) == []


def test_grace_from_annotation_then_step_then_default() -> None:
    annotated = {"metadata": {"annotations": {ANNOTATION_GRACE: "5"}}}
    assert grace_of(annotated, 30) == 5
    assert grace_of({"metadata": {"annotations": {ANNOTATION_GRACE: "soon"}}}, 30) == 30
    assert grace_of({}, 30) == 30
    assert grace_of(None, None) == DEFAULT_GRACE


def test_selector() -> None:
    assert selector_of({"spec": {"selector": {"matchLabels": {"app": "web"}}}}) == {"app": "web"}
    assert selector_of({"spec": {}}) is None
    assert selector_of(None) is None


def test_a_problem_fails_only_once_it_lasted_the_grace() -> None:
    now = [100.0]
    problems = PodProblems(10, clock=lambda: now[0])
    problems.update([pod(waiting="ImagePullBackOff")])
    assert problems.verdict() == (None, "pod web-1: ImagePullBackOff: container app: why ImagePullBackOff")
    now[0] = 109.0
    problems.update([pod(waiting="ImagePullBackOff")])
    assert problems.verdict()[0] is None
    now[0] = 110.0
    failed, _ = problems.verdict()
    assert failed is not None and failed.reason == "ImagePullBackOff"


def test_a_problem_that_cleared_starts_its_grace_again() -> None:
    now = [0.0]
    problems = PodProblems(10, clock=lambda: now[0])
    problems.update([pod(waiting="ErrImagePull")])
    now[0] = 8.0
    problems.update([pod()])
    assert problems.verdict() == (None, "")
    now[0] = 9.0
    problems.update([pod(waiting="ErrImagePull")])
    now[0] = 15.0
    assert problems.verdict()[0] is None


def test_many_problems_are_summarised() -> None:
    problems = PodProblems(60)
    problems.update([pod(f"web-{i}", waiting="ImagePullBackOff") for i in range(5)])
    assert problems.verdict()[1].endswith("; and 2 more")
