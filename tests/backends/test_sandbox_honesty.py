"""The sandbox cannot lie: a run whose cluster was removed, replaced or reset fails; a
reset refuses while a run holds an app's Lease; corrupt, truncated and read-only databases
give one error naming the file and what is wrong with it; reset recovers a corrupt one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends import readiness as rules
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from pyvela._workflow.state import AppLock
from pyvela.errors import ClusterError, LockedError, NotFoundError, StateError

FAST = SandboxSettings(ready_delay=0.0)
SLOW = SandboxSettings(ready_delay=600.0)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "sb"


@pytest.fixture
def sandbox(root: Path) -> Iterator[Sandbox]:
    with Sandbox(root, settings=FAST) as sb:
        yield sb


def cm(name: str = "cfg") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}}


def deployment(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
            },
        },
    }


# ----------------------------------------------------------------------------- a cluster that is gone
def test_a_removed_database_fails_the_next_write(root: Path, sandbox: Sandbox) -> None:
    sandbox.apply(cm())
    shutil.rmtree(root)
    with pytest.raises(StateError, match="missing: it was removed") as err:
        sandbox.apply(cm("other"))
    assert err.value.context["problem"] == "missing" and str(root / "sandbox.db") in str(err.value)


def test_a_replaced_database_fails_the_next_write(root: Path, sandbox: Sandbox) -> None:
    sandbox.apply(cm())
    with Sandbox(root.parent / "other", settings=FAST):
        pass
    os.replace(root.parent / "other" / "sandbox.db", root / "sandbox.db")
    with pytest.raises(StateError, match="replaced by another file") as err:
        sandbox.apply(cm("other"))
    assert err.value.context["problem"] == "replaced"


def test_a_reset_by_another_process_fails_the_next_write(root: Path, sandbox: Sandbox) -> None:
    sandbox.apply(cm())
    with Sandbox(root, settings=FAST) as other:
        other.reset()
    with pytest.raises(StateError, match="was reset while this process used it") as err:
        sandbox.apply(cm("other"))
    assert err.value.context["problem"] == "reset"


def test_a_reset_in_this_process_keeps_the_sandbox_usable(sandbox: Sandbox) -> None:
    sandbox.apply(cm())
    sandbox.reset()
    sandbox.apply(cm("after"))
    assert sandbox.get(ObjectRef("v1", "ConfigMap", "default", "cfg")) is None


def _wait_in_thread(sandbox: Sandbox, ref: ObjectRef) -> tuple[threading.Thread, list[BaseException]]:
    """A 600 s wait, started and past its first look at the object when this returns."""
    errors: list[BaseException] = []
    looked = threading.Event()

    def run() -> None:
        try:
            sandbox.wait(ref, rules.deployment, timeout=600, on_progress=lambda _: looked.set())
        except BaseException as exc:
            errors.append(exc)
        finally:
            looked.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert looked.wait(60)
    return thread, errors


def test_a_wait_fails_at_once_when_its_object_is_deleted(root: Path) -> None:
    with Sandbox(root, settings=SLOW) as sandbox, Sandbox(root, settings=SLOW) as other:
        ref = ObjectRef.of(sandbox.apply(deployment()))
        thread, errors = _wait_in_thread(sandbox, ref)
        other.delete(ref)  # another process, as `kubectl delete` would
        thread.join(timeout=60)
        assert not thread.is_alive(), "the wait went on for an object that is gone"
        assert len(errors) == 1 and isinstance(errors[0], NotFoundError)
        assert "was deleted while waiting" in str(errors[0]) and str(ref) in str(errors[0])


def test_a_wait_fails_at_once_when_the_sandbox_is_reset_under_it(root: Path) -> None:
    with Sandbox(root, settings=SLOW) as sandbox, Sandbox(root, settings=SLOW) as other:
        ref = ObjectRef.of(sandbox.apply(deployment()))
        thread, errors = _wait_in_thread(sandbox, ref)
        other.reset()
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], StateError | NotFoundError)


def test_a_wait_for_a_deletion_still_succeeds(sandbox: Sandbox) -> None:
    ref = ObjectRef.of(sandbox.apply(cm()))
    sandbox.delete(ref)
    gone = sandbox.wait(ref, lambda obj: rules.Readiness(obj is None, "gone"), timeout=30)
    assert gone == {}


# ----------------------------------------------------------------------------- reset and leases
def test_reset_refuses_while_a_run_holds_an_apps_lease(root: Path, sandbox: Sandbox) -> None:
    lock = AppLock(sandbox, "shop", "default")
    lock.acquire()
    try:
        with pytest.raises(LockedError, match="refusing to reset") as err:
            sandbox.reset()
        assert "default/shop" in str(err.value) and "--force" in str(err.value)
        sandbox.reset(force=True)
    finally:
        lock.release()
    assert sandbox.list("coordination.k8s.io/v1", "Lease") == []


def test_reset_ignores_a_lease_whose_holder_is_gone(sandbox: Sandbox) -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "pyvela-lock.shop"},
        "spec": {
            "holderIdentity": "some-host:1:abc",
            "leaseDurationSeconds": 30,
            "renewTime": "2020-01-01T00:00:00.000000Z",
        },
    }
    sandbox.apply(lease)
    sandbox.reset()


def test_cli_reset_refuses_during_a_run_and_force_overrides(
    root: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = AppLock(sandbox, "shop", "default")
    lock.acquire()
    try:
        assert main(["sandbox", "reset", "--sandbox", str(root)]) == 1
        assert "refusing to reset" in capsys.readouterr().err
        assert main(["sandbox", "reset", "--sandbox", str(root), "--force"]) == 0
    finally:
        lock.release()


# ----------------------------------------------------------------------------- damaged databases
def _damaged(root: Path, how: str) -> Path:
    with Sandbox(root, settings=FAST) as sb:
        for i in range(200):
            sb.apply(cm(f"cfg-{i}"))
    db = root / "sandbox.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3] if how == "truncated" else b"this is not a database" * 100)
    return db


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_a_damaged_database_names_the_file_and_says_corrupt(root: Path, how: str) -> None:
    db = _damaged(root, how)
    with pytest.raises(StateError) as err:
        Sandbox(root, settings=FAST)
    assert err.value.context["problem"] == "corrupt"
    assert str(db) in str(err.value) and "corrupt" in str(err.value) and "sandbox reset" in str(err.value)


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_reset_recovers_a_damaged_database_and_keeps_the_old_one(
    root: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _damaged(root, how)
    damaged = db.read_bytes()
    assert main(["sandbox", "reset", "--sandbox", str(root)]) == 0
    out = capsys.readouterr().out
    aside = [p for p in root.iterdir() if p.name.startswith("sandbox.db.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged and str(aside[0]) in out
    with Sandbox(root, settings=FAST) as sb:
        assert sb.get(ObjectRef("v1", "Namespace", None, "default")) is not None
        assert sb.get(ObjectRef("v1", "ConfigMap", "default", "cfg-1")) is None


def test_reset_works_with_broken_sandbox_settings(root: Path) -> None:
    with Sandbox(root, settings=FAST):
        pass
    (root / "sandbox.yaml").write_text("ready_delay: [1\n", encoding="utf-8")
    assert main(["sandbox", "reset", "--sandbox", str(root)]) == 0


# ----------------------------------------------------------------------------- read-only sandboxes
def test_a_read_only_sandbox_serves_reads_and_names_the_file_on_writes(root: Path) -> None:
    with Sandbox(root, settings=SandboxSettings(ready_delay=0.05)) as sb:
        ref = ObjectRef.of(sb.apply(deployment()))
        sb.apply(cm())
    with Sandbox(root, settings=SandboxSettings(ready_delay=0.05), read_only=True) as ro:
        assert ro.read_only
        # Its status is brought up to date in memory (a read-only sandbox stores nothing).
        live = ro.wait(ref, rules.deployment, timeout=60)
        assert live["status"]["readyReplicas"] == 1
        assert [o["metadata"]["name"] for o in ro.list("v1", "ConfigMap", "default")] == ["cfg"]
        with pytest.raises(StateError, match="read-only") as err:
            ro.apply(cm("new"))
        assert err.value.context["problem"] == "read-only" and str(root / "sandbox.db") in str(err.value)


def test_a_read_only_sandbox_that_does_not_exist_says_missing(root: Path) -> None:
    with pytest.raises(StateError, match="missing") as err:
        Sandbox(root, settings=FAST, read_only=True)
    assert err.value.context["problem"] == "missing"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file modes")
def test_a_sandbox_without_write_permission_opens_read_only(root: Path) -> None:
    with Sandbox(root, settings=FAST) as sb:
        sb.apply(cm())
    os.chmod(root / "sandbox.db", 0o444)
    os.chmod(root, 0o555)
    try:
        with Sandbox(root, settings=FAST) as ro:
            assert ro.read_only and ro.get(ObjectRef("v1", "ConfigMap", "default", "cfg")) is not None
    finally:
        os.chmod(root, 0o755)
        os.chmod(root / "sandbox.db", 0o644)


# ----------------------------------------------------------------------------- settings
def test_settings_parse_errors_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "sandbox.yaml").write_text("ready_delay: 1\nfail_images: [a\nnodes: 2\n", encoding="utf-8")
    with pytest.raises(ClusterError) as err:
        SandboxSettings.load(tmp_path, environ={})
    assert err.value.where is not None
    assert err.value.where.file == str(tmp_path / "sandbox.yaml") and err.value.where.line == 3
    assert "<unicode string>" not in str(err.value)


def test_a_read_only_sandbox_answers_dry_runs_on_a_copy(root: Path) -> None:
    with Sandbox(root, settings=FAST) as sb:
        sb.apply(cm())
    with Sandbox(root, settings=FAST, read_only=True) as ro:
        preview = ro.apply({**cm(), "data": {"a": "2"}}, dry_run=True)
        assert preview["data"] == {"a": "2"}
        svc = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}]},
        }
        assert ro.apply(svc, dry_run=True)["spec"]["clusterIP"].startswith("10.96.")
        live = ro.get(ObjectRef("v1", "ConfigMap", "default", "cfg"))
        assert live is not None and live["data"] == {"a": "1"}
        assert ro.get(ObjectRef("v1", "Service", "default", "web")) is None


# ----------------------------------------------------------------------------- a deploy under it
ROOT = Path(__file__).resolve().parents[2]


def _deploy_until_it_waits(root: Path) -> subprocess.Popen[str]:
    """`pyvela deploy` of the seed app with a 600 s ready delay, once it holds its Lease and waits."""
    env = {**os.environ, "PYVELA_SANDBOX": str(root), "PYVELA_SANDBOX_DELAY": "600"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyvela", "deploy", "apps/lixiang.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the progress output says when it starts waiting
        if "waiting for" in line:
            return proc
    code = proc.wait()
    proc.stdout.close()
    raise AssertionError(f"the deploy ended before it waited (exit {code})")


@pytest.mark.parametrize("how", ["rm -rf", "reset --force"])
def test_a_deploy_whose_sandbox_goes_away_fails_and_says_why(tmp_path: Path, how: str) -> None:
    root = tmp_path / "sb"
    proc = _deploy_until_it_waits(root)
    try:
        if how == "rm -rf":
            shutil.rmtree(root)
        else:
            refused = subprocess.run(
                [sys.executable, "-m", "pyvela", "sandbox", "reset", "--sandbox", str(root)],
                cwd=ROOT, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert refused.returncode == 1 and "refusing to reset" in refused.stderr
            forced = subprocess.run(
                [sys.executable, "-m", "pyvela", "sandbox", "reset", "--sandbox", str(root), "--force"],
                cwd=ROOT, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert forced.returncode == 0, forced.stderr
        assert proc.stdout is not None
        rest = proc.stdout.read()
        code = proc.wait(timeout=300)  # a lying wait would sit out its 600 s
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 1, rest
    assert "succeeded" not in rest.splitlines()[-1]
    assert ("was removed while this process used it" if how == "rm -rf" else "was reset") in rest
