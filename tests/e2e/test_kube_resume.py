"""Interrupted and concurrent deploys of the seed app on the real control plane.

A deploy is held in the middle (the loopback Apollo stalls its first Open API request,
after base-service is applied and ready); meanwhile it is SIGKILLed and re-run (it
resumes the same revision), a second deploy is started (refused: the app is locked), or
the API server is stopped and started again (the deploy rides it out and succeeds).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support
from test_kube_support import Seed, control_plane

from pyvela._backends import readiness as rules
from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef

seed, kube, namespace = support.seed, support.kube, support.namespace  # fixtures
HOLD = "/openapi/v1/"  # the registration's first request to Apollo's portal


@contextlib.contextmanager
def running(proc: Any) -> Iterator[Any]:
    """A deploy process, killed and reaped whatever happens in the block."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def finish(proc: Any, timeout: float = 180) -> tuple[int, Any, str]:
    stdout, stderr = proc.communicate(timeout=timeout)
    try:
        data = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        data = None
    return proc.returncode, data, stderr


def test_sigkill_in_the_middle_then_rerun_resumes(seed: Seed, kube: KubeBackend, namespace: str) -> None:
    app = seed.write_app(namespace)
    reached, release = seed.apollo.hold(HOLD)
    try:
        with running(seed.popen("deploy", app)) as proc:
            assert reached.wait(90), "the deploy never reached the registration"
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
    finally:
        release.set()
    assert proc.returncode == -signal.SIGKILL
    deployment = kube.get(ObjectRef("apps/v1", "Deployment", namespace, "base-service"))
    assert deployment is not None and rules.deployment(deployment).ready
    code, state, err = seed.cli("status", app)
    assert code == 0, err
    # Its Lease holder is gone: the run is interrupted, not running (and status says how to resume).
    assert (state["revision"], state["phase"]) == (1, "interrupted"), state
    assert state["steps"]["apply-base-service"]["phase"] != "succeeded"

    code, out, err = seed.cli("deploy", app)  # takes over the dead process's lease
    assert code == 0, err
    assert (out["revision"], out["phase"]) == (1, "succeeded"), out
    assert any(e["kind"] == "resumed" for e in out["events"])
    again = kube.get(ObjectRef.of(deployment))
    assert again is not None and again["metadata"]["uid"] == deployment["metadata"]["uid"]
    assert again["metadata"]["generation"] == deployment["metadata"]["generation"]
    assert seed.apollo.items(support.APP_ID)["base-service.namespace"] == namespace


def test_second_deploy_at_once_is_refused(seed: Seed, namespace: str) -> None:
    app = seed.write_app(namespace)
    reached, release = seed.apollo.hold(HOLD)
    with running(seed.popen("deploy", app)) as first:
        try:
            assert reached.wait(90), "the first deploy never reached the registration"
            code, out, err = seed.cli("deploy", app)
            assert code == 1, (out, err)
            error = json.loads(err[err.index("{") :])
            assert error["error"] == "LockedError" and "another pyvela run" in error["message"], error
        finally:
            release.set()
        code, out, err = finish(first)
    assert code == 0, err
    assert (out["revision"], out["phase"]) == (1, "succeeded")


def test_api_server_restart_during_a_deploy(seed: Seed, kube: KubeBackend, namespace: str) -> None:
    cp = control_plane(seed.cluster)
    if cp is None:
        pytest.skip("the control plane was not started by this test session (external cluster)")
    app = seed.write_app(namespace)
    reached, release = seed.apollo.hold(HOLD)
    downtime: list[float] = []
    with running(seed.popen("deploy", app)) as proc:
        try:
            assert reached.wait(90), "the deploy never reached the registration"
            old = cp.process("kube-apiserver")

            def release_once_down() -> None:  # the deploy goes on while the API server is down
                while old.popen.poll() is None:
                    time.sleep(0.01)
                release.set()

            threading.Thread(target=release_once_down, daemon=True).start()
            # A crash (SIGKILL): connections are reset, not drained. restart() runs on this
            # thread: the launcher's children die with the thread that spawned them.
            downtime.append(cp.restart("kube-apiserver", down=2.0))
        finally:
            release.set()
        code, out, err = finish(proc)
    assert code == 0, err
    assert (out["revision"], out["phase"]) == (1, "succeeded"), out
    assert downtime and downtime[0] > 2.0
    seed.cluster.check()
    # the controllers reconnected: a new Deployment still becomes ready
    meta = {"name": "probe", "namespace": namespace}
    probe = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "probe"}},
            "template": {
                "metadata": {"labels": {"app": "probe"}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }
    kube.wait(ObjectRef.of(kube.apply(probe)), rules.deployment, timeout=60)
