"""The seed workflow against Apollo (the loopback server): register, publish, read back, resume."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apollo_server import DEFAULT_TOKEN, ApolloServer, running_apollo_server

from tests.conftest import ROOT


@pytest.fixture
def apollo(sandbox_dir: Path) -> Iterator[ApolloServer]:
    with running_apollo_server(app_ids=("lixiang-app",)) as server:
        yield server


def _env(server: ApolloServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYVELA_APOLLO_PORTAL_URL": server.portal_url,
        "PYVELA_APOLLO_CONFIG_URL": server.config_url,
        "PYVELA_APOLLO_APP_ID": "lixiang-app",
        "PYVELA_APOLLO_TOKEN": DEFAULT_TOKEN,
        "PYVELA_SANDBOX_DELAY": "0.05",
        **extra,
    }


def _deploy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyvela", "deploy", "apps/lixiang.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _state_text(sandbox_dir: Path) -> str:
    from pyvela._backends.sandbox import Sandbox
    from pyvela._workflow.state import StateStore

    box = Sandbox(sandbox_dir)
    try:
        record = StateStore(box, "lixiang-app", "default").load()  # the index and all its parts
    finally:
        box.close()
    assert record is not None
    return json.dumps(record)


def test_seed_registers_in_apollo_publishes_and_reads_back(apollo: ApolloServer, sandbox_dir: Path) -> None:
    run = _deploy(_env(apollo), "-o", "json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    cluster_ip = result["steps"]["apply-base-service"]["outputs"]["cluster_ip"]
    releases = apollo.releases("lixiang-app")
    assert len(releases) == 1
    assert releases[0].configurations["base-service.clusterIP"] == cluster_ip
    assert releases[0].configurations["base-service.cluster"] == "default"
    # apply-proxy read the registration through the config service.
    reads = [r for r in apollo.requests if r.path.startswith("/configs/lixiang-app/default/application")]
    assert reads and reads[-1].status == 200
    assert result["steps"]["apply-proxy-service"]["outputs"]["backend_host"] == "base-service.dev.example.com"
    # The token is a secret: not in any output, nor in the state stored in the cluster, nor on disk.
    for text in (run.stdout, run.stderr, _state_text(sandbox_dir)):
        assert DEFAULT_TOKEN not in text
    for file in sandbox_dir.rglob("*"):
        if file.is_file():
            assert DEFAULT_TOKEN.encode() not in file.read_bytes(), file
    # Re-registering the same values makes no new release (a restart of the step).
    restart = subprocess.run(
        [sys.executable, "-m", "pyvela", "workflow", "restart", "apps/lixiang.py"],
        cwd=ROOT,
        env=_env(apollo),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restart.returncode == 0, restart.stderr
    assert len(apollo.releases("lixiang-app")) == 1


def test_wrong_token_fails_the_step_with_a_clear_message(apollo: ApolloServer) -> None:
    run = _deploy(_env(apollo, PYVELA_APOLLO_TOKEN="not-the-token"), "-o", "json")
    assert run.returncode == 1
    step = json.loads(run.stdout)["steps"]["apply-base-service"]
    assert step["phase"] == "failed" and "token" in step["message"].lower()
    assert "not-the-token" not in run.stdout + run.stderr


def test_token_from_a_kubernetes_secret(apollo: ApolloServer, sandbox_dir: Path) -> None:
    from pyvela._backends.sandbox import Sandbox

    box = Sandbox(sandbox_dir)
    try:
        box.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "apollo", "namespace": "default"},
                "data": {"token": base64.b64encode(DEFAULT_TOKEN.encode()).decode()},
            }
        )
    finally:
        box.close()
    env = _env(apollo, PYVELA_APOLLO_TOKEN_SECRET="default/apollo/token")
    del env["PYVELA_APOLLO_TOKEN"]
    run = _deploy(env)
    assert run.returncode == 0, run.stderr + run.stdout
    assert len(apollo.releases("lixiang-app")) == 1


def test_killed_between_write_and_publish_resumes_to_exactly_one_release(
    apollo: ApolloServer, sandbox_dir: Path
) -> None:
    reached, release = apollo.hold("/releases", method="POST")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyvela", "deploy", "apps/lixiang.py"],
        cwd=ROOT,
        env=_env(apollo),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reached.wait(60), "the deploy never tried to publish"
    assert apollo.items("lixiang-app")["base-service.clusterIP"]  # written...
    assert apollo.releases("lixiang-app") == []  # ...not published
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    release.set()
    time.sleep(0.1)
    rerun = _deploy(_env(apollo), "-o", "json")
    assert rerun.returncode == 0, rerun.stderr
    releases = apollo.releases("lixiang-app")
    assert len(releases) == 1
    cluster_ip = json.loads(rerun.stdout)["steps"]["apply-base-service"]["outputs"]["cluster_ip"]
    assert releases[0].configurations["base-service.clusterIP"] == cluster_ip
