"""The CLI as a user runs it: exit codes, messages, JSON output, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.post_counter import counting_server

WriteApp = Callable[..., Path]
DEFS = ["--defs", "platform_defs", "--defs", "tests.sample_defs"]


def pyvela(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_render_yaml_json_and_component_filter() -> None:
    out = pyvela("render", "apps/lixiang.py")
    assert out.returncode == 0, out.stderr
    import yaml

    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Deployment", "base-service"),
        ("Service", "base-service"),
        ("Ingress", "base-service-ingress"),
        ("Rollout", "proxy-service"),
        ("Service", "proxy-service"),
        ("Ingress", "proxy-service-ingress"),
    ]
    assert "# kind: HelmRelease" in out.stdout  # shown for review, invisible to kubectl
    assert "targets port 11001, which no container" in out.stderr
    js = json.loads(pyvela("render", "apps/lixiang.py", "-o", "json", "--component", "redis").stdout)
    assert js["kind"] == "List" and js["items"] == []
    assert js["pyvelaHelmReleases"][0]["spec"]["chart"]["name"] == "redis-cluster"
    bad = pyvela("render", "apps/lixiang.py", "--component", "nope")
    assert bad.returncode == 1 and "no component named nope" in bad.stderr


def test_bad_input_gives_one_clear_message_and_exit_1(write_app: WriteApp, sandbox_dir: Path) -> None:
    missing = pyvela("deploy", "apps/missing.py")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: app file 'apps/missing.py' does not exist")
    assert "Traceback" not in missing.stderr
    path = write_app("""
from platform_defs import base_service
from pyvela import Application
app = Application("a", components=[base_service("b", image=["x"], cluster="c")])
""")
    bad = pyvela("render", str(path))
    assert bad.returncode == 1
    assert f"{path}:3: component 'b', parameter 'image', definition 'base-service'" in bad.stderr
    assert "expected: str" in bad.stderr and "got:      ['x'] (list)" in bad.stderr
    js = pyvela("deploy", str(path), "-o", "json")
    err = json.loads(js.stderr)
    assert err["ok"] is False and err["error"] == "ParameterError" and err["where"] == f"{path}:3"


def test_deploy_status_history_json(sandbox_dir: Path) -> None:
    env = {"PYVELA_SANDBOX_DELAY": "0.05"}
    out = pyvela("deploy", "apps/lixiang.py", "-o", "json", env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] and result["phase"] == "succeeded"
    assert result["target"].startswith("sandbox (") and str(sandbox_dir) in result["target"]
    cluster_ip = result["steps"]["apply-base-service"]["outputs"]["cluster_ip"]
    assert result["steps"]["apply-proxy-service"]["outputs"]["backend_ip"] == cluster_ip
    status = json.loads(pyvela("status", "apps/lixiang.py", "-o", "json").stdout)
    rollout = next(o for o in status["objects"] if o["object"]["kind"] == "Rollout")
    assert rollout["live"]["containers"]["proxy-service"]["env"]["BackendIP"] == cluster_ip
    assert all(o["ready"] for o in status["objects"])
    text = pyvela("status", "apps/lixiang.py")
    assert f"BackendIP={cluster_ip}" in text.stdout and f"clusterIP={cluster_ip}" in text.stdout
    again = pyvela("deploy", "apps/lixiang.py", env=env)
    assert again.returncode == 0 and "is up to date" in again.stdout
    history = json.loads(pyvela("history", "apps/lixiang.py", "-o", "json").stdout)
    assert [h["phase"] for h in history] == ["succeeded"]


POSTS: list[str] = []  # what post_server received in the current test


@pytest.fixture
def post_server() -> Iterator[str]:
    POSTS.clear()
    with counting_server(POSTS) as url:
        yield url


def test_sigkill_then_rerun_resumes_without_repeating_the_post(
    write_app: WriteApp, sandbox_dir: Path, post_server: str
) -> None:
    path = write_app(f"""
from tests.sample_defs import noop, post_then_wait
from pyvela import Application
post = post_then_wait("post", url="{post_server}", then_wait="go")
app = Application("killme", components=[], workflow=[noop("first"), post])
""")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyvela", "deploy", str(path), *DEFS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The journal entry is persisted right after the POST returns, before the step's next
    # action: once the step waits for the ConfigMap, the POST is on record.
    assert proc.stdout is not None
    for line in proc.stdout:
        if "waiting for ConfigMap" in line:
            break
    assert POSTS, "the step never posted"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    from pyvela._backends.sandbox import Sandbox

    box = Sandbox(sandbox_dir)
    try:
        box.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}}
        )
    finally:
        box.close()
    rerun = pyvela("deploy", str(path), *DEFS, "-o", "json")
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["steps"]["post"]["outputs"] == {"value": "post-1"}
    assert result["steps"]["first"]["phase"] == "succeeded"
    assert len(POSTS) == 1  # the POST was not repeated


def _seed_deploy_until(marker: str, *, delay: str) -> subprocess.Popen[str]:
    """``deploy apps/lixiang.py`` in the background, returned once its progress shows ``marker``:
    the test acts on what the run did, never on a guess with a sleep (the machine may be slow)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyvela", "deploy", "apps/lixiang.py"],
        cwd=ROOT,
        env={**os.environ, "PYVELA_SANDBOX_DELAY": delay},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker in line:
            break
    return proc


def test_sigkill_during_the_seed_workflow_resumes(sandbox_dir: Path) -> None:
    proc = _seed_deploy_until("waiting for HelmRelease", delay="1.5")  # inside apply-redis's wait
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    rerun = pyvela("deploy", "apps/lixiang.py", "-o", "json", env={"PYVELA_SANDBOX_DELAY": "0.2"})
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["revision"] == 1
    assert result["steps"]["apply-base-service"]["attempts"] == 1  # finished before the kill: not re-run
    # A step's start is saved with the round's other transitions: killed that early, its first
    # attempt may not be on record yet. Either way it runs again and finishes.
    assert result["steps"]["apply-redis"]["attempts"] in (1, 2)
    assert any("resuming revision 1" in e["message"] for e in result["events"])
    assert [s["phase"] for s in result["steps"].values()] == ["succeeded"] * 3


def test_concurrent_cli_deploys_second_refuses(sandbox_dir: Path) -> None:
    first = _seed_deploy_until("running", delay="2")  # it holds the lock once it runs a step
    second = pyvela("deploy", "apps/lixiang.py", env={"PYVELA_SANDBOX_DELAY": "2"})
    assert second.returncode == 1
    assert "another pyvela run" in second.stderr and "--wait-lock" in second.stderr
    _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err


def test_diff_against_the_sandbox(write_app: WriteApp, sandbox_dir: Path) -> None:
    env = {"PYVELA_SANDBOX_DELAY": "0.05"}
    fresh = json.loads(pyvela("diff", "apps/lixiang.py", "-o", "json").stdout)
    assert {c["change"] for c in fresh} == {"create"}
    assert pyvela("deploy", "apps/lixiang.py", env=env).returncode == 0
    same = json.loads(pyvela("diff", "apps/lixiang.py", "-o", "json").stdout)
    assert {c["change"] for c in same} == {"unchanged"}  # step patches (BackendIP) replayed, not "removed"
    source = (
        (ROOT / "apps" / "lixiang.py")
        .read_text()
        .replace(
            'proxy_service("proxy-service", image="nginx:1.14.2"',
            'proxy_service("proxy-service", image="nginx:1.25"',
        )
    )
    changed = write_app(source, name="lixiang.py")
    out = pyvela("diff", str(changed))
    assert "   update  Rollout default/proxy-service" in out.stdout
    assert "-        image: nginx:1.14.2" in out.stdout and "+        image: nginx:1.25" in out.stdout
    assert "BackendIP" not in out.stdout


def test_sandbox_reset_wipes_everything(sandbox_dir: Path) -> None:
    assert pyvela("deploy", "apps/lixiang.py", env={"PYVELA_SANDBOX_DELAY": "0.05"}).returncode == 0
    reset = pyvela("sandbox", "reset")
    assert reset.returncode == 0 and str(sandbox_dir) in reset.stdout
    status = pyvela("status", "apps/lixiang.py")
    assert status.returncode == 1 and "was never deployed" in status.stderr


def test_sandbox_reset_of_no_sandbox_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "mistyped" / "dir"
    reset = pyvela("sandbox", "reset", "--sandbox", str(missing))
    assert reset.returncode == 0
    assert f"nothing to reset: no sandbox at {missing}" in reset.stdout
    assert "reset sandbox" not in reset.stdout
    assert not (tmp_path / "mistyped").exists()
