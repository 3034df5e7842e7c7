"""``pyvela rollout promote|abort|retry|pause`` with the real Argo Rollouts controller.

An update of a canary Rollout (setWeight 50, then ``pause: {}``) pauses at its second step:
the waiting deploy says where the canary is; ``rollout promote`` lets it finish (the deploy
succeeds), ``rollout abort`` sends it back to the stable ReplicaSet (the deploy fails with
the controller's RolloutAborted message); ``retry`` starts the steps again and
``promote --full`` skips them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef

kube, namespace = support.kube, support.namespace  # fixtures
ROOT = support.ROOT
APP = """
import os
from pyvela import Application
from tests.cli.pod_defs import canary

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[canary("front", image=os.environ.get("IMG", "registry.example.com/front:1"))],
)
"""


class Cli:
    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "PYVELA_APOLLO_"))}
        self.env["PYTHONPATH"] = str(ROOT)

    def argv(self, *args: str) -> list[str]:
        target = ["--kubeconfig", self.cluster.kubeconfig, "--context", self.cluster.context]
        return [sys.executable, "-m", "pyvela", *args, *target]

    def run(self, *args: str, image: str = "") -> subprocess.CompletedProcess[str]:
        env = {**self.env, "IMG": image} if image else self.env
        return subprocess.run(
            self.argv(*args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
        )

    def deploy(self, app: Path, image: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv("deploy", str(app), "--defs", "tests.cli.pod_defs", "-o", "json"),
            env={**self.env, "IMG": image},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def _paused_on(kube: KubeBackend, ref: ObjectRef, image: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = kube.get(ref) or {}
        status = live.get("status") or {}
        template = ((live.get("spec") or {}).get("template") or {}).get("spec") or {}
        current = [c.get("image") for c in template.get("containers") or []]
        if current == [image] and status.get("phase") == "Paused" and status.get("pauseConditions"):
            return status
        time.sleep(0.3)
    raise AssertionError(f"the Rollout never paused on {image}: {kube.get(ref)}")


def test_promote_and_abort_with_the_real_controller(
    kube_cluster: Any, kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    name = f"canary-{uuid.uuid4().hex[:6]}"
    app = tmp_path / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace))
    cli = Cli(kube_cluster)
    ref = ObjectRef("argoproj.io/v1alpha1", "Rollout", namespace, "front")
    done = cli.run("deploy", str(app), "--defs", "tests.cli.pod_defs")
    assert done.returncode == 0, done.stderr + done.stdout

    # An update pauses at `pause: {}`; the waiting step says where; promote lets it finish.
    with cli.deploy(app, "registry.example.com/front:2") as proc:
        status = _paused_on(kube, ref, "registry.example.com/front:2")
        assert status["currentStepIndex"] == 1
        promoted = cli.run("rollout", "promote", name, "front")
        assert promoted.returncode == 0, promoted.stderr
        assert promoted.stdout.startswith("rollout 'front' promoted\n")
        stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    result = json.loads(stdout)
    assert result["ok"]
    waits = [e["message"] for e in result["events"] if "canary" in (e["message"] or "")]
    assert any("canary step 2/2 (pause), weight 50%" in m for m in waits), result["events"]
    assert (kube.get(ref) or {})["status"]["phase"] == "Healthy"

    # Another update, aborted: the deploy fails with the controller's message.
    with cli.deploy(app, "registry.example.com/front:3") as proc:
        _paused_on(kube, ref, "registry.example.com/front:3")
        aborted = cli.run("rollout", "abort", name, "front", "-o", "json")
        assert aborted.returncode == 0, aborted.stderr
        assert json.loads(aborted.stdout)["aborted"]
        stdout, _ = proc.communicate(timeout=180)
    assert proc.returncode == 1
    assert "RolloutAborted: Rollout aborted update to revision" in stdout
    live = kube.get(ref) or {}
    assert live["status"]["phase"] == "Degraded" and live["status"]["abort"] is True

    # Retry: the steps again, paused at the same step; a full promotion skips them.
    retried = cli.run("rollout", "retry", name, "front")
    assert retried.returncode == 0, retried.stderr
    _paused_on(kube, ref, "registry.example.com/front:3")
    full = cli.run("rollout", "promote", name, "front", "--full")
    assert full.returncode == 0 and full.stdout.startswith("rollout 'front' fully promoted"), full.stderr
    deadline = time.monotonic() + 60
    while (kube.get(ref) or {}).get("status", {}).get("phase") != "Healthy":
        assert time.monotonic() < deadline, kube.get(ref)
        time.sleep(0.3)

    paused = cli.run("rollout", "pause", name, "front")
    assert paused.returncode == 0 and (kube.get(ref) or {})["spec"]["paused"] is True
