"""`pyvela status` for on-call: interrupted runs, step messages, and the steps' kept log lines."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main
from tests.conftest import ROOT

WriteApp = Callable[..., Path]
DEFS = ["--defs", "tests.cli.status_defs"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _kill_when(path: Path, line_contains: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyvela", "deploy", str(path), *DEFS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # the progress line is printed after the state was saved
        seen.append(line)
        if line_contains in line:
            break
    else:
        raise AssertionError(
            "the run ended before " + line_contains + ": " + "".join(seen) + proc.stderr.read()
        )  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def test_a_killed_run_is_interrupted_with_what_it_applied_and_how_to_resume(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app("""
from tests.cli.status_defs import apply_log_wait
from pyvela import Application
app = Application("kill-status", components=[], workflow=[apply_log_wait("hang", name="made")])
""")
    _kill_when(path, "now waiting for go")
    code, out, err = run(capsys, "status", str(path), *DEFS, "-o", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["phase"] == "interrupted"
    assert data["interrupted"]["steps"] == ["hang"] and data["interrupted"]["since"]
    assert "is gone" in data["message"] and "pyvela deploy" in data["message"]
    assert data["steps"]["hang"]["applied"] == ["ConfigMap default/made"]
    assert [e["message"] for e in data["steps"]["hang"]["logs"]] == ["applied made", "now waiting for go"]
    code, text, _err = run(capsys, "status", str(path), *DEFS)
    assert "interrupted" in text and "applied before the interruption: ConfigMap default/made" in text
    assert "now waiting for go" in text

    # Resume: the replayed step's old lines are not printed again, the new one is, and all are kept.
    from pyvela._backends.sandbox import Sandbox

    box = Sandbox(sandbox_dir)
    try:
        box.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}}
        )
    finally:
        box.close()
    code, out, err = run(capsys, "deploy", str(path), *DEFS)
    assert code == 0, err
    assert "go is there" in out
    assert "applied made" not in out and "now waiting for go" not in out
    data = json.loads(run(capsys, "status", str(path), *DEFS, "-o", "json")[1])
    assert data["phase"] == "succeeded" and data["interrupted"] is None
    assert [e["message"] for e in data["steps"]["hang"]["logs"]] == [
        "applied made",
        "now waiting for go",
        "go is there",
    ]


def test_logs_are_kept_bounded_per_step(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app("""
from tests.cli.status_defs import chatty
from pyvela import Application
app = Application("chatty", components=[], workflow=[chatty("talk")])
""")
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    data = json.loads(run(capsys, "status", str(path), *DEFS, "-o", "json")[1])
    logs = [e["message"] for e in data["steps"]["talk"]["logs"]]
    assert logs == [f"line {i}" for i in range(10, 60)]
    text = run(capsys, "status", str(path), *DEFS)[1]
    assert "log (last 10 of 50):" in text and "line 59" in text and "line 49" not in text


def test_the_text_view_shows_why_a_step_failed(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app("""
from tests.cli.status_defs import fail_slowly
from pyvela import Application
app = Application("fails", components=[], workflow=[fail_slowly("migrate")])
""")
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 1
    code, text, _err = run(capsys, "status", str(path), *DEFS)
    assert code == 0
    assert "permission denied for schema app" in text


class _Posts(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Posts.count += 1
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_a_log_before_a_journaled_post_does_not_make_the_resume_repeat_it(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    _Posts.count = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Posts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = write_app(f"""
from tests.cli.status_defs import log_post_wait
from pyvela import Application
app = Application("post-once", components=[],
                  workflow=[log_post_wait("s", url="http://127.0.0.1:{server.server_address[1]}/x")])
""")
        _kill_when(path, "posted")
        assert _Posts.count == 1
        from pyvela._backends.sandbox import Sandbox

        box = Sandbox(sandbox_dir)
        try:
            box.apply(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}}
            )
        finally:
            box.close()
        code, out, err = run(capsys, "deploy", str(path), *DEFS)
        assert code == 0, err
        assert _Posts.count == 1  # the journal entry of the POST was found although a log came first
        assert "before the post" not in out and "posted" not in out
    finally:
        server.shutdown()
        server.server_close()
