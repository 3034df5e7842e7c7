"""What a run was asked to do (``Options``) and what came of it (``RunResult``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class Options:
    """How a run behaves (CLI flags)."""

    parallel: int = 8
    wait_lock: float = 0.0
    force_conflicts: bool = False
    retries: int = 5
    backoff: float = 0.2
    #: A wait for readiness parks the run instead of blocking (the controller; ``parking``).
    park: bool = False


@attrs.frozen(kw_only=True)
class RunResult:
    """The outcome of a run, for the summary and ``-o json``."""

    app: str
    namespace: str
    target: str
    revision: int
    hash: str
    phase: str
    up_to_date: bool = False
    message: str = ""
    steps: Mapping[str, Any] = attrs.field(factory=dict)
    pruned: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.phase == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        steps = {
            n: {
                k: s.get(k)
                for k in (
                    "phase",
                    "reason",
                    "message",
                    "outputs",
                    "elapsed",
                    "started",
                    "finished",
                    "attempts",
                )
            }
            for n, s in self.steps.items()
        }
        return {
            "ok": self.ok,
            "app": self.app,
            "namespace": self.namespace,
            "target": self.target,
            "revision": self.revision,
            "hash": self.hash,
            "phase": self.phase,
            "upToDate": self.up_to_date,
            "message": self.message,
            "steps": steps,
            "pruned": list(self.pruned),
        }
