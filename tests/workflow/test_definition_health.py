"""A component definition's own health rule judges its workload: in waits and in ``status``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.events import Recorder
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
APP = """
from pyvela import Application
from pyvela.stdlib import scaler, webservice

web = webservice("web", image="nginx:1.27").with_traits(scaler(replicas=2))
app = Application("health", components=[web])
"""


def test_a_standard_webservice_is_judged_by_its_own_rule(write_app: WriteApp, tmp_path: Path) -> None:
    box: Sandbox = sandbox(tmp_path / "sb")
    seen = Recorder()
    ops = ops_for(write_app(APP), box, events=seen)
    assert ops.deploy().ok
    progress = [e.message for e in seen.of("waiting")]
    assert any("Ready:2/2" in m for m in progress), progress  # KubeVela's message, while waiting
    [deployment] = [o for o in ops.status()["objects"] if o["object"]["kind"] == "Deployment"]
    assert deployment["ready"] and deployment["message"] == "Ready:2/2"


def test_objects_without_a_rule_keep_the_kinds(write_app: WriteApp, tmp_path: Path) -> None:
    box: Sandbox = sandbox(tmp_path / "sb")
    ops = ops_for(write_app('from tests.job_defs import job, apply_only\nfrom pyvela import Application\n'
                            'app = Application("plain", components=[job("j", image="busybox:1")])\n'),
                  box, defs=["tests.job_defs"])  # fmt: skip
    assert ops.deploy().ok
    [job] = ops.status()["objects"]
    assert "Ready:" not in job["message"]
