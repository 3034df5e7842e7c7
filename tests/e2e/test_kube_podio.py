"""``pyvela logs``, ``exec`` and ``port-forward`` on the real control plane.

The API server relays them to the node's kubelet, which on the test control plane is kwok's
server (the launcher's ``write_podio_config``): logs are ``tests/cluster/podio/container.log``,
an exec runs the command on this machine with ``KWOK_EXEC=1``, and every forwarded port is
an echo (``cat``). Nothing dials a Pod IP: the forward goes 127.0.0.1 -> API server -> kwok.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend

kube, namespace = support.kube, support.namespace  # fixtures
ROOT = support.ROOT
LOG_LINES = [
    "kwok simulated container log: starting",
    "kwok simulated container log: listening on :8080",
    "kwok simulated container log: a warning on stderr",
]
APP = """
from pyvela import Application
from tests.cli.pod_defs import server

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[
        server("web", image="registry.example.com/web:1", replicas=2, sidecar="registry.example.com/envoy:1"),
        server("jobs", image="registry.example.com/jobs:1"),
    ],
)
"""


@pytest.fixture(scope="module")
def podio_ready(kube: KubeBackend) -> None:
    """The nodes' kubelet address is kwok's server: only a control plane the launcher started
    since that change has it (an older one running for the team must be restarted)."""
    nodes = kube.list("v1", "Node")
    served = any(
        (n.get("status") or {}).get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port")
        for n in nodes
    )
    if not served:
        message = "the control plane's nodes have no kubelet endpoint: restart it (tests/cluster/launcher.py)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


class Cli:
    def __init__(self, cluster: Any, tmp: Path) -> None:
        self.cluster, self.tmp = cluster, tmp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "PYVELA_APOLLO_"))}
        self.env["PYTHONPATH"] = str(ROOT)

    def argv(self, *args: str) -> list[str]:
        target = ["--kubeconfig", self.cluster.kubeconfig, "--context", self.cluster.context]
        if "--" in args:
            at = args.index("--")
            return [sys.executable, "-m", "pyvela", *args[:at], *target, *args[at:]]
        return [sys.executable, "-m", "pyvela", *args, *target]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def deployed(
    kube_cluster: Any, namespace: str, tmp_path: Path, podio_ready: None
) -> Iterator[tuple[Cli, str]]:
    name = f"pods-{uuid.uuid4().hex[:6]}"
    app = tmp_path / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace))
    cli = Cli(kube_cluster, tmp_path)
    done = cli.run("deploy", str(app), "--defs", "tests.cli.pod_defs")
    assert done.returncode == 0, done.stderr + done.stdout
    yield cli, name


def test_logs_of_every_replica_prefixed_by_pod_and_container(
    deployed: tuple[Cli, str], kube: KubeBackend
) -> None:
    cli, name = deployed
    done = cli.run("logs", name, "web")
    assert done.returncode == 0, done.stderr
    prefixes: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        prefix, _, text = line.partition("] ")
        prefixes.setdefault(prefix.lstrip("["), []).append(text)
    pods = sorted({p.split("/")[1] for p in prefixes})
    assert len(pods) == 2 and all(p.startswith("web-") for p in pods), prefixes
    assert {p.split("/")[2] for p in prefixes} == {"web", "sidecar"}
    assert all(texts == LOG_LINES for texts in prefixes.values()), prefixes

    done = cli.run("logs", name, "jobs", "-c", "jobs", "-o", "json")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in rows] == LOG_LINES and {r["component"] for r in rows} == {"jobs"}

    # --since reaches the kubelet: the file's lines are from January 2026, older than an hour.
    done = cli.run("logs", name, "--since", "1h")
    assert done.returncode == 0 and done.stdout == "", done.stdout

    done = cli.run("logs", name, "nope")
    assert done.returncode == 1 and "has no component 'nope'" in done.stderr and "web, jobs" in done.stderr


def test_logs_follow_streams_until_interrupted(deployed: tuple[Cli, str]) -> None:
    cli, name = deployed
    with cli.popen("logs", name, "jobs", "-f") as proc:
        assert proc.stdout is not None
        seen = [proc.stdout.readline().rstrip("\n") for _ in LOG_LINES]
        assert [s.partition("] ")[2] for s in seen] == LOG_LINES
        assert proc.poll() is None, "a followed log ended by itself"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 130


def test_exec_runs_the_command_and_returns_its_output(deployed: tuple[Cli, str]) -> None:
    cli, name = deployed
    done = cli.run(
        "exec", name, "web", "-c", "sidecar", "--", "sh", "-c", "echo out; echo err >&2; printenv KWOK_EXEC"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "out\n1\n" and done.stderr == "err\n"

    done = cli.run("exec", name, "web", "--", "sh", "-c", "exit 3")
    assert done.returncode == 1 and "exit status 3" in done.stderr  # kwok reports no exit code

    done = cli.run("exec", name, "web", "-c", "nope", "--", "true")
    assert done.returncode == 1 and "no container 'nope'" in done.stderr and "sidecar" in done.stderr

    # -o json: one object once the command ends, its output and exit code in it.
    done = cli.run(
        "exec", name, "web", "-c", "sidecar", "-o", "json", "--", "sh", "-c", "echo out; echo err >&2"
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["stdout"] == "out\n" and data["stderr"] == "err\n" and data["exitCode"] == 0
    assert data["container"] == "sidecar" and data["pod"].startswith("web-") and data["command"][0] == "sh"
    done = cli.run("exec", name, "nope", "-o", "json", "--", "true")
    assert done.returncode == 1 and json.loads(done.stderr)["error"] == "NotFoundError"  # as every command's
    assert "web, jobs" in json.loads(done.stderr)["expected"]


def test_port_forward_binds_loopback_and_relays_both_ways(deployed: tuple[Cli, str]) -> None:
    cli, name = deployed
    with cli.popen("port-forward", name, "web", ":80", "-o", "json") as proc:
        _forward_and_stop(proc)


def _forward_and_stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["address"] == "127.0.0.1" and ready["remote"] == 80 and ready["pod"].startswith("web-")
        for payload in (b"ping\n", b"second connection\n"):
            with socket.create_connection(("127.0.0.1", ready["local"]), timeout=20) as conn:
                conn.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = conn.recv(100)
                    assert chunk, got
                    got += chunk
                assert got == payload
        listening = [
            line.split()[1]
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
            if line.split()[1].endswith(f":{ready['local']:04X}") and line.split()[3] == "0A"
        ]
        assert listening == [f"0100007F:{ready['local']:04X}"], listening  # 127.0.0.1 only
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
