"""No planted secret leaks: every CLI command, against failing servers, greps clean.

:func:`assert_no_leak` is the reusable helper: it runs commands with planted credentials
(kubeconfig token and client key, Apollo token and access-key secret, a URL password)
and looks for each secret in stdout/stderr, in the decoded state record and in every file
under the sandbox directory.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import ROOT

APP = "apps/lixiang.py"
APP_NAME = "lixiang-app"
TOKEN = "planted-apollo-token-7f3a9c"
ACCESS_SECRET = "planted-access-secret-2b8e1d"
URL_PASSWORD = "planted-url-password-91c4"
KUBE_TOKEN = "planted-kube-token-5d6e2a"
KUBE_KEY = "planted-kube-client-key-4c1f0b"
SECRETS = (TOKEN, ACCESS_SECRET, URL_PASSWORD, KUBE_TOKEN, KUBE_KEY)

#: Every command of the CLI (``python -m pyvela --help``), as a user would type it.
SANDBOX_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("render", APP),
    ("defs",),
    ("deploy", APP),
    ("deploy", APP, "-o", "json"),
    ("status", APP),
    ("status", APP, "-o", "json"),
    ("history", APP),
    ("history", APP, "-o", "json"),
    ("ls", "-A"),
    ("ls", "-o", "json"),
    ("status", APP, "--tree", "--pods"),
    ("status", APP_NAME, "-o", "json"),
    ("workflow", "logs", APP),
    ("rollback", APP),
    ("diff", APP),
    ("config", "get", APP),
    ("config", "get", APP, "-o", "json"),
    ("workflow", "suspend", APP),
    ("workflow", "resume", APP),
    ("workflow", "restart", APP),
    ("workflow", "terminate", APP),
    ("delete", APP),
    ("delete", APP, "-o", "json"),
    ("sandbox", "reset", "--force"),
)
CLUSTER_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("deploy", APP),
    ("status", APP, "-o", "json"),
    ("history", APP),
    ("ls", "-A"),
    ("status", APP, "--tree", "-o", "json"),
    ("workflow", "logs", APP),
    ("rollback", APP),
    ("diff", APP),
    ("config", "get", APP),
    ("workflow", "resume", APP),
    ("delete", APP),
)


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Fails every request with 500 and echoes its request line and headers (the worst server)."""

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        echo = {"message": f"{self.requestline} {dict(self.headers)} {body}", "status": 500}
        data = json.dumps(echo).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _fail

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig(path: Path) -> Path:
    """A kubeconfig with a token and a client key for an API server on a closed port."""
    key = base64.b64encode(f"-----BEGIN PRIVATE KEY-----\n{KUBE_KEY}\n-----END PRIVATE KEY-----\n".encode())
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "planted",
                "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{closed_port()}"}}],
                "users": [
                    {"name": "u", "user": {"token": KUBE_TOKEN, "client-key-data": key.decode()}},
                ],
                "contexts": [{"name": "planted", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    return path


def apollo_env(url: str, *, password_in_url: bool) -> dict[str, str]:
    portal = url.replace("http://", f"http://admin:{URL_PASSWORD}@") if password_in_url else url
    return {
        "PYVELA_APOLLO_PORTAL_URL": portal,
        "PYVELA_APOLLO_CONFIG_URL": url,
        "PYVELA_APOLLO_TOKEN": TOKEN,
        "PYVELA_APOLLO_SECRET": ACCESS_SECRET,
    }


def _state_texts(sandbox: Path) -> list[str]:
    """The app's state record, decoded (its index and parts), when the sandbox holds one."""
    from pyvela._backends.sandbox import Sandbox
    from pyvela._workflow.state import StateStore

    if not (sandbox / "sandbox.db").exists():
        return []
    backend = Sandbox(sandbox)
    try:
        record = StateStore(backend, APP_NAME, "default").load()
        return [] if record is None else [json.dumps(record)]
    finally:
        backend.close()


def assert_no_leak(
    commands: Sequence[Sequence[str]],
    *,
    env: dict[str, str],
    sandbox: Path,
    extra_args: Sequence[str] = (),
    secrets: Sequence[str] = SECRETS,
    timeout: float = 180,
) -> list[subprocess.CompletedProcess[str]]:
    """Run each command; fail naming the command and place where any of ``secrets`` shows.

    Looks at stdout and stderr of every run, then at the decoded state record and the
    bytes of every file under ``sandbox`` (the database included).
    """
    runs = []
    leaks: list[str] = []
    for command in commands:
        args = [*command, *extra_args] if command[0] not in ("render", "defs", "sandbox") else list(command)
        if command[0] == "sandbox":
            args += ["--sandbox", str(sandbox)]
        done = subprocess.run(
            [sys.executable, "-m", "pyvela", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYVELA_SANDBOX": str(sandbox), **env},
        )
        runs.append(done)
        assert "Traceback" not in done.stderr, (args, done.stderr)
        for where, text in (("stdout", done.stdout), ("stderr", done.stderr)):
            leaks += [f"{' '.join(args)}: {where} holds {s!r}" for s in secrets if s in text]
        for text in _state_texts(sandbox):
            leaks += [f"{' '.join(args)}: the state record holds {s!r}" for s in secrets if s in text]
        for file in sorted(p for p in sandbox.rglob("*") if p.is_file()):
            data = file.read_bytes()
            leaks += [f"{' '.join(args)}: {file} holds {s!r}" for s in secrets if s.encode() in data]
    assert not leaks, "\n".join(leaks)
    return runs


def test_every_command_with_apollo_credentials_against_a_failing_apollo(
    echo_server: str, tmp_path: Path
) -> None:
    runs = assert_no_leak(
        SANDBOX_COMMANDS, env=apollo_env(echo_server, password_in_url=False), sandbox=tmp_path / "sb"
    )
    deploy = runs[2]
    assert deploy.returncode == 1 and "kept failing" in deploy.stdout + deploy.stderr  # the server was hit


def test_every_command_with_a_url_password(echo_server: str, tmp_path: Path) -> None:
    runs = assert_no_leak(
        SANDBOX_COMMANDS, env=apollo_env(echo_server, password_in_url=True), sandbox=tmp_path / "sb"
    )
    deploy = runs[2]
    assert deploy.returncode == 1 and "PYVELA_APOLLO_TOKEN" in deploy.stderr


def test_every_cluster_command_with_kubeconfig_credentials(echo_server: str, tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig")
    runs = assert_no_leak(
        CLUSTER_COMMANDS,
        env=apollo_env(echo_server, password_in_url=False),
        sandbox=tmp_path / "sb",
        extra_args=("--kubeconfig", str(config)),
    )
    assert all(run.returncode != 0 for run in runs)
