"""``pyvela rollout`` on the sandbox: its simulated Argo Rollouts controller pauses a canary
update (``honour_pauses``), and a promote lets it finish, an abort fails the waiting deploy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from tests.conftest import ROOT

WriteApp = Callable[..., Path]
DEFS = ["--defs", "tests.cli.pod_defs"]
APP = """
import os
from pyvela import Application
from tests.cli.pod_defs import canary, server

app = Application(
    "canaryapp",
    components=[
        canary("front", image=os.environ.get("IMG", "registry.example.com/front:1")),
        server("plain", image="registry.example.com/plain:1"),
    ],
)
"""
REF = ObjectRef("argoproj.io/v1alpha1", "Rollout", "default", "front")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def first(capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path) -> Path:
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    (sandbox_dir / "sandbox.yaml").write_text("honour_pauses: true\nready_delay: 0.2\n")
    path = write_app(APP)
    code, _, err = run(capsys, "deploy", str(path), *DEFS)
    assert code == 0, err
    return path


def _update(path: Path, sandbox_dir: Path, image: str) -> subprocess.Popen[str]:
    env = {**os.environ, "IMG": image, "PYVELA_SANDBOX": str(sandbox_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "pyvela", "deploy", str(path), *DEFS, "-o", "json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _paused(sandbox_dir: Path, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        box = Sandbox(sandbox_dir, read_only=True)
        try:
            live = box.get(REF)
        finally:
            box.close()
        status = (live or {}).get("status") or {}
        if (
            status.get("phase") == "Paused"
            and live
            and live["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2")
        ):
            return status
        time.sleep(0.2)
    raise AssertionError("the Rollout never paused")


def test_promote_lets_a_paused_canary_finish(
    capsys: pytest.CaptureFixture[str], first: Path, sandbox_dir: Path
) -> None:
    with _update(first, sandbox_dir, "registry.example.com/front:2") as proc:
        status = _paused(sandbox_dir)
        assert status["currentStepIndex"] == 1 and status["pauseConditions"]
        code, out, err = run(capsys, "rollout", "promote", "canaryapp", "front")
        assert code == 0, err
        assert out.startswith("rollout 'front' promoted\n")
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert json.loads(stdout)["ok"]
    code, out, _ = run(capsys, "rollout", "pause", "canaryapp", "front", "-o", "json")
    data = json.loads(out)
    assert (
        code == 0 and data["action"] == "pause" and data["paused"]
    )  # spec.paused, before the controller acts
    box = Sandbox(sandbox_dir, read_only=True)
    try:
        live = box.get(REF)
    finally:
        box.close()
    assert (
        live is not None
        and live["status"]["phase"] == "Paused"
        and live["status"]["message"] == "manually paused"
    )


def test_abort_fails_the_waiting_deploy_and_retry_starts_again(
    capsys: pytest.CaptureFixture[str], first: Path, sandbox_dir: Path
) -> None:
    with _update(first, sandbox_dir, "registry.example.com/front:2") as proc:
        _paused(sandbox_dir)
        code, out, err = run(capsys, "rollout", "abort", "canaryapp", "front", "-o", "json")
        assert code == 0, err
        data = json.loads(out)
        assert data["aborted"] and data["phase"] == "Degraded" and data["canary"]["weight"] == 0
        stdout, _ = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "RolloutAborted: Rollout aborted update" in stdout
    code, out, _ = run(capsys, "rollout", "retry", "canaryapp", "front")
    assert code == 0 and "now: Paused; canary step 2/2 (pause), weight 50%" in out
    code, out, _ = run(capsys, "rollout", "promote", "canaryapp", "front", "--full")
    assert code == 0 and out.startswith("rollout 'front' fully promoted\n") and "now: Healthy" in out


def test_a_component_without_a_rollout_or_an_unknown_one_is_refused(
    capsys: pytest.CaptureFixture[str], first: Path
) -> None:
    code, _, err = run(capsys, "rollout", "promote", "canaryapp", "plain")
    assert code == 1 and "has no Argo Rollout" in err and "Deployment default/plain" in err
    code, _, err = run(capsys, "rollout", "abort", "canaryapp", "nope")
    assert code == 1 and "no component 'nope'" in err and "front, plain" in err
    code, _, err = run(capsys, "rollout", "abort", "ghost", "front")
    assert code == 1 and "no app 'ghost'" in err
