"""The patches ``pyvela rollout`` makes, case by case as the kubectl-argo-rollouts plugin makes
them, and what a waiting step says of a canary."""

from __future__ import annotations

from typing import Any

from pyvela._backends.readiness import rollout as rollout_rule
from pyvela._backends.rolloutstatus import canary_of
from pyvela._workflow.rolloutops import current_step, promote_patches

STEPS = [
    {"setWeight": 20},
    {"pause": {}},
    {"setWeight": 60},
    {"analysis": {"templates": [{"templateName": "t"}]}},
]


def ro(status: dict[str, Any] | None = None, *, paused: bool = False, steps: Any = STEPS) -> dict[str, Any]:
    spec: dict[str, Any] = {"strategy": {"canary": {"steps": steps}}}
    if paused:
        spec["paused"] = True
    return {
        "metadata": {"name": "front", "generation": 2},
        "spec": spec,
        "status": {"observedGeneration": "2", **(status or {})},
    }


def test_promote_of_a_canary_paused_at_a_step_clears_its_pause_conditions() -> None:
    paused = ro(
        {"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": True}
    )
    assert promote_patches(paused, full=False) == (
        None,
        {"status": {"pauseConditions": None}},
        {"spec": {"paused": False}, "status": {"pauseConditions": None}},
    )


def test_promote_of_a_running_canary_skips_to_the_next_step() -> None:
    running = ro({"currentStepIndex": 2})
    with_step = {"pauseConditions": None, "currentStepIndex": 3}
    assert promote_patches(running, full=False) == (
        None,
        {"status": with_step},
        {"spec": {"paused": False}, "status": with_step},
    )
    done = ro({"currentStepIndex": 4})  # past the last step: stays there
    assert promote_patches(done, full=False)[1] == {
        "status": {"pauseConditions": None, "currentStepIndex": 4}
    }


def test_promote_of_a_user_paused_rollout_unpauses_the_spec() -> None:
    user = ro({"pauseConditions": [{"reason": "PausedByUser"}]}, paused=True)
    spec, status, _ = promote_patches(user, full=False)
    assert spec == {"spec": {"paused": False}} and status == {"status": {"pauseConditions": None}}


def test_promote_after_an_inconclusive_analysis_moves_on_and_releases_the_controller() -> None:
    stuck = ro(
        {
            "currentStepIndex": 3,
            "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
            "controllerPause": True,
            "canary": {"currentStepAnalysisRunStatus": {"name": "front-3", "status": "Inconclusive"}},
        }
    )
    assert promote_patches(stuck, full=False)[1] == {
        "status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 4}
    }


def test_full_promotion_skips_everything_unless_already_stable() -> None:
    updating = ro({"currentPodHash": "b", "stableRS": "a"}, paused=True)
    assert promote_patches(updating, full=True) == (
        {"spec": {"paused": False}},
        {"status": {"promoteFull": True}},
        {"spec": {"paused": False}, "status": {"promoteFull": True}},
    )
    stable = ro({"currentPodHash": "a", "stableRS": "a"})
    assert promote_patches(stable, full=True)[:2] == (None, None)


def test_current_step() -> None:
    assert current_step(ro()) == (STEPS[0], 0)
    assert current_step(ro({"currentStepIndex": 4})) == (None, 4)
    assert current_step(ro(steps=[])) == (None, None)


def test_a_waiting_step_shows_the_canary_step_weight_and_analysis() -> None:
    paused = ro({"phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1})
    verdict = rollout_rule(paused)
    assert not verdict.ready and not verdict.failed
    assert verdict.message.endswith("; canary step 2/4 (pause), weight 20%"), verdict.message
    analysing = ro(
        {
            "phase": "Progressing",
            "currentStepIndex": 3,
            "readyReplicas": 1,
            "canary": {"currentStepAnalysisRunStatus": {"name": "front-3", "status": "Running"}},
        }
    )
    assert rollout_rule(analysing).message.endswith("(analysis), weight 60%, analysis front-3 Running")
    past = canary_of(ro({"currentStepIndex": 4}))
    assert past is not None and past.weight == 100 and str(past).startswith("canary all steps done")
    aborted = canary_of(ro({"currentStepIndex": 0, "abort": True}))
    assert aborted is not None and aborted.weight == 0


def test_a_failed_analysis_fails_the_wait_with_its_message() -> None:
    failed = ro(
        {
            "phase": "Degraded",
            "message": "RolloutAborted: Rollout aborted update to revision 2",
            "abort": True,
            "currentStepIndex": 3,
            "canary": {
                "currentStepAnalysisRunStatus": {
                    "name": "front-2-3",
                    "status": "Failed",
                    "message": 'Metric "errors" assessed Failed due to failed (1) > failureLimit (0)',
                }
            },
        }
    )
    verdict = rollout_rule(failed)
    assert verdict.failed and "RolloutAborted" in verdict.message
    assert 'analysis front-2-3 Failed: Metric "errors" assessed Failed' in verdict.message
