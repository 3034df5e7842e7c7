"""The real Argo Rollouts controller's Events, as ``pyvela status`` shows them: the same ones
the sandbox derives (tests/cli/test_rollout_events.py asserts the same lines there).

An update paused at ``pause: {}`` is not healthy: status lists its Events (the update started,
step 1/2 done, paused at CanaryPauseStep); after an abort, the Warning ``RolloutAborted``.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_rollout_ops import APP, Cli, _paused_on

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef

kube, namespace = support.kube, support.namespace  # fixtures


def _rollout_events(cli: Cli, name: str) -> list[dict[str, Any]]:
    done = cli.run("status", name, "-o", "json")
    problems = [p for p in json.loads(done.stdout)["problems"] if p["object"]["kind"] == "Rollout"]
    assert problems, done.stdout + done.stderr
    events: list[dict[str, Any]] = problems[0]["events"]
    return events


def test_status_shows_the_controllers_events_of_a_paused_then_aborted_canary(
    kube_cluster: Any, kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    name = f"canary-{uuid.uuid4().hex[:6]}"
    app = tmp_path / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace))
    cli = Cli(kube_cluster)
    ref = ObjectRef("argoproj.io/v1alpha1", "Rollout", namespace, "front")
    done = cli.run("deploy", str(app), "--defs", "tests.cli.pod_defs")
    assert done.returncode == 0, done.stderr + done.stdout

    with cli.deploy(app, "registry.example.com/front:2") as proc:
        try:
            _paused_on(kube, ref, "registry.example.com/front:2")
            said = [(e["type"], e["reason"], e["message"]) for e in _rollout_events(cli, name)]
            assert ("Normal", "RolloutUpdated", "Rollout updated to revision 2") in said, said
            assert ("Normal", "RolloutStepCompleted", "Rollout step 1/2 completed (setWeight: 50)") in said
            assert ("Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)") in said
            assert not any(r == "RolloutAborted" for _, r, _ in said)
            aborted = cli.run("rollout", "abort", name, "front")
            assert aborted.returncode == 0, aborted.stderr
            proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1
    shown = _rollout_events(cli, name)
    warnings = [e for e in shown if e["reason"] == "RolloutAborted"]
    assert len(warnings) == 1 and warnings[0]["type"] == "Warning", shown
    assert warnings[0]["message"] == "Rollout aborted update to revision 2"
    assert warnings[0]["from"] == "rollouts-controller"
