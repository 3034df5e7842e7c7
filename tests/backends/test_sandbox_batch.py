"""A batch of sandbox writes (one transaction for a component's objects): all or nothing on a
kill, each request kept or refused on its own otherwise, committed before a wait."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.readiness import rule_for
from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from pyvela.errors import NotFoundError

ROOT = Path(__file__).resolve().parent.parent.parent


def cm(name: str, ns: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}}


def ref(name: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", "default", name)


def test_a_process_killed_inside_a_batch_keeps_none_of_its_writes(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from pyvela._backends.sandbox import Sandbox
        box = Sandbox(Path({str(tmp_path)!r}))
        box.apply({cm("before")!r})
        with box.batch():
            box.apply({cm("first")!r})
            box.apply({cm("second")!r})
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == -9, proc.stderr
    box = Sandbox(tmp_path)
    try:
        assert box.get(ref("before")) is not None
        assert box.get(ref("first")) is None and box.get(ref("second")) is None
    finally:
        box.close()


def test_inside_a_batch_a_refused_write_is_undone_alone_and_the_rest_is_kept(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    other = Sandbox(tmp_path)  # another connection: sees only what is committed
    try:
        with pytest.raises(RuntimeError), box.batch():
            box.apply(cm("first"))
            assert box.get(ref("first")) is not None  # the batch reads its own writes
            with pytest.raises(NotFoundError):
                box.apply(cm("lost", ns="nowhere"))
            box.apply(cm("second"))
            assert other.get(ref("first")) is None  # not committed yet
            raise RuntimeError("the step fails after applying two objects")
        # As a real API server keeps every request it answered, whatever the client did next.
        assert other.get(ref("first")) is not None and other.get(ref("second")) is not None
    finally:
        other.close()
        box.close()


def test_a_wait_inside_a_batch_commits_it_first(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    other = Sandbox(tmp_path)
    try:
        with box.batch():
            box.apply(cm("waited"))
            box.wait(ref("waited"), rule_for("v1", "ConfigMap"), timeout=30)
            assert other.get(ref("waited")) is not None
            box.apply(cm("after"))  # a write of its own now
            assert other.get(ref("after")) is not None
    finally:
        other.close()
        box.close()


def test_resource_versions_grow_across_batches_and_processes(tmp_path: Path) -> None:
    # Inside a batch the counter is kept in memory and stored at the commit: a write after
    # it, a refused write inside it, and another connection must never see a version again.
    box = Sandbox(tmp_path)
    other = Sandbox(tmp_path)
    try:
        seen = [int(box.apply(cm("before"))["metadata"]["resourceVersion"])]
        with pytest.raises(RuntimeError), box.batch():
            seen.append(int(box.apply(cm("first"))["metadata"]["resourceVersion"]))
            with pytest.raises(NotFoundError):
                box.apply(cm("refused", ns="absent"))
            seen.append(int(box.apply({**cm("first"), "data": {"a": "1"}})["metadata"]["resourceVersion"]))
            raise RuntimeError("the batch ends early")
        seen.append(int(other.apply(cm("other"))["metadata"]["resourceVersion"]))
        with box.batch():
            seen.append(int(box.apply(cm("second"))["metadata"]["resourceVersion"]))
        seen.append(int(box.apply(cm("after"))["metadata"]["resourceVersion"]))
        assert seen == sorted(set(seen)), seen
        live = other.get(ref("first"))
        assert live is not None and int(live["metadata"]["resourceVersion"]) == seen[2]
    finally:
        box.close()
        other.close()


def test_a_namespace_deleted_inside_a_batch_refuses_the_writes_into_it_after(tmp_path: Path) -> None:
    # A batch remembers the namespaces it found, so a component's objects ask once: a
    # deletion in the same batch must make it ask again, as each request on its own would.
    with Sandbox(tmp_path) as box, box.batch():
        box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}})
        box.apply(cm("a", "gone"))
        box.delete(ObjectRef("v1", "Namespace", "", "gone"), wait=False)
        with pytest.raises(NotFoundError, match='namespaces "gone" not found'):
            box.apply(cm("b", "gone"))
        box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}})
        assert box.apply(cm("c", "gone"))["metadata"]["name"] == "c"


def test_an_apply_answers_as_written_and_stores_its_settled_status_once(tmp_path: Path) -> None:
    # The controller acts in the write's transaction and the row is stored once, settled:
    # the answer is still the object as written (no status yet, its own version), the
    # status a later version, and the Pods the controller made are there.
    from pyvela._backends.sandbox import SandboxSettings

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    with Sandbox(tmp_path, settings=SandboxSettings(ready_delay=0.0)) as box:
        answer = box.apply(deployment)
        assert "status" not in answer
        live = box.get(ObjectRef("apps/v1", "Deployment", "default", "web"))
        assert live is not None
        assert int(live["metadata"]["resourceVersion"]) > int(answer["metadata"]["resourceVersion"])
        assert live["status"]["readyReplicas"] == 2
        assert len(box.list("v1", "Pod", "default", {"app": "web"})) == 2
        again = box.apply(deployment)  # unchanged: the live object, as it is
        assert again["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
        rule = rule_for("apps/v1", "Deployment")
        assert (
            box.wait(ObjectRef("apps/v1", "Deployment", "default", "web"), rule, timeout=5)["status"]
            == live["status"]
        )
