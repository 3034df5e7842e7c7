"""A canary step's AnalysisRun that fails, with the real Argo Rollouts controller.

The AnalysisTemplate's ``web`` metric asks a loopback server (the controller runs on this
machine) that answers ``{"ok": false}``: the AnalysisRun fails, the controller aborts the
update, and the deploy waiting on the Rollout fails at once (not at its timeout) with
``RolloutAborted`` and the analysis' message; ``status`` shows the Warning Event.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_rollout_ops import Cli

from pyvela._backends.kube.backend import KubeBackend

kube, namespace = support.kube, support.namespace  # fixtures
APP = """
import os
from pyvela import Application
from tests.cli.pod_defs import canary

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[canary("front", image=os.environ.get("IMG", "registry.example.com/front:1"),
                       analysis="always-fails")],
)
"""


class _Answer(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"ok": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def metric_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()
    server.server_close()


def test_a_failed_analysis_fails_the_waiting_deploy_with_its_message(
    kube_cluster: Any, kube: KubeBackend, namespace: str, tmp_path: Path, metric_url: str
) -> None:
    kube.apply(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisTemplate",
            "metadata": {"name": "always-fails", "namespace": namespace},
            "spec": {
                "metrics": [
                    {
                        "name": "health",
                        "count": 1,
                        "failureLimit": 0,
                        "successCondition": "result.ok == true",
                        "provider": {"web": {"url": metric_url, "jsonPath": "{$}"}},
                    }
                ]
            },
        }
    )
    # The Rollouts controller validates a Rollout's analysis templates against its informer's
    # cache: a Rollout made before the cache holds the template is InvalidSpec ("AnalysisTemplate
    # 'always-fails' not found"), which a loaded CI machine showed once, 0.1 s after the apply.
    time.sleep(3)
    name = f"analysed-{uuid.uuid4().hex[:6]}"
    app = tmp_path / f"{name}.py"
    app.write_text(APP.format(name=name, namespace=namespace))
    cli = Cli(kube_cluster)
    done = cli.run("deploy", str(app), "--defs", "tests.cli.pod_defs")
    assert done.returncode == 0, done.stderr + done.stdout

    started = time.monotonic()
    with cli.deploy(app, "registry.example.com/front:2") as proc:
        try:
            stdout, stderr = proc.communicate(timeout=240)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1, stdout + stderr
    assert time.monotonic() - started < 200  # failed when the analysis did, not at the step's timeout
    result = json.loads(stdout)
    failed = json.dumps(result)
    assert "RolloutAborted" in failed, failed
    assert "health" in failed and "assessed Failed" in failed, failed  # the AnalysisRun's message
    waits = [e["message"] for e in result["events"] if "analysis" in (e["message"] or "")]
    assert waits, result["events"]  # the wait said which analysis it was on

    status = cli.run("status", name, "-o", "json")
    problems = [p for p in json.loads(status.stdout)["problems"] if p["object"]["kind"] == "Rollout"]
    assert problems, status.stdout
    reasons = {(e["type"], e["reason"]) for e in problems[0]["events"]}
    assert ("Warning", "RolloutAborted") in reasons, problems[0]["events"]
