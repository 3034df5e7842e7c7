"""Where an Argo Rollout's canary stands: its step, its weight and its step's analysis.

Read from the Rollout alone (``status.currentStepIndex``, the steps, ``status.canary``), the
way the controller and its plugin compute them: the weight is the last ``setWeight`` at or
before the current step (100 past the last step, 0 once aborted), unless traffic routing
reports the weight it actually set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._backends.fields import mapping, text


@attrs.frozen
class Canary:
    """``index`` of ``count`` steps (``index == count``: past the last), ``step`` (its kind:
    ``setWeight``, ``pause``, ``analysis``...), ``weight`` (percent), and the step's
    AnalysisRun: ``analysis`` (name), ``analysis_phase``, ``analysis_message``."""

    index: int
    count: int
    step: str
    weight: int
    analysis: str = ""
    analysis_phase: str = ""
    analysis_message: str = ""

    def __str__(self) -> str:
        where = (
            f"step {self.index + 1}/{self.count} ({self.step})"
            if self.index < self.count
            else "all steps done"
        )
        out = f"canary {where}, weight {self.weight}%"
        if self.analysis:
            out += f", analysis {self.analysis} {self.analysis_phase or 'Pending'}"
            if self.analysis_message:
                out += f": {self.analysis_message}"
        return out


def steps_of(rollout: Mapping[str, Any]) -> list[Any]:
    canary = mapping(mapping(mapping(rollout.get("spec")).get("strategy")).get("canary"))
    steps = canary.get("steps")
    return steps if isinstance(steps, list) else []


def canary_of(rollout: Mapping[str, Any]) -> Canary | None:
    """The canary's position; None for a Rollout without canary steps."""
    steps = steps_of(rollout)
    if not steps:
        return None
    status = mapping(rollout.get("status"))
    raw = status.get("currentStepIndex")
    index = raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else 0
    current = mapping(steps[index]) if index < len(steps) else {}
    weight = 100 if index >= len(steps) else 0
    if index < len(steps):
        for step in reversed(steps[: index + 1]):
            value = mapping(step).get("setWeight")
            if isinstance(value, int):
                weight = value
                break
    if status.get("abort") is True:
        weight = 0
    routed = mapping(mapping(mapping(status.get("canary")).get("weights")).get("canary")).get("weight")
    if isinstance(routed, int):
        weight = routed
    run = mapping(mapping(status.get("canary")).get("currentStepAnalysisRunStatus"))
    return Canary(
        index=min(index, len(steps)),
        count=len(steps),
        step=next(iter(current), "") if current else "",
        weight=weight,
        analysis=text(run.get("name")),
        analysis_phase=text(run.get("status")),
        analysis_message=text(run.get("message")),
    )
