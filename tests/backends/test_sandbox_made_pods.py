"""The Pods a workload's controller makes are admitted without a deep copy: they must still
be validated, stored whole, and independent of anything the caller does afterwards."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._backends.sandbox.rows import SharedPart, dumps, dumps_body
from pyvela._backends.sandbox.settings import SandboxSettings
from pyvela.errors import ClusterError

ENV = {"name": "A", "value": "1"}


def deployment(name: str, *, replicas: int = 2, label: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": label}},
            "template": {
                "metadata": {"labels": {"app": label}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1", "env": [ENV]}]},
            },
        },
    }


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path, settings=SandboxSettings(ready_delay=0.0))


def pods(box: Sandbox) -> list[dict[str, Any]]:
    return box.list("v1", "Pod", "default", {"app": "web"})


def test_the_pods_are_stored_whole_and_do_not_follow_later_changes_to_the_answer(box: Sandbox) -> None:
    applied = box.apply(deployment("web"))
    made = pods(box)
    assert len(made) == 2
    for pod in made:
        assert pod["spec"]["containers"] == [
            {"name": "c", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]}
        ]
        assert pod["spec"]["nodeName"] == "sandbox-node"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == applied["metadata"]["uid"]
        assert pod["status"]["phase"] == "Running"
    # The caller owns the answer: changing it changes no stored object.
    applied["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    applied["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "B", "value": "2"})
    assert pods(box) == made
    assert (
        box.list("apps/v1", "Deployment", "default")[0]["spec"]["template"]["spec"]["containers"][0]["image"]
        == "nginx:1"
    )
    # Each Pod read is its own: changing one changes neither the other nor what is stored.
    made[0]["spec"]["containers"][0]["image"] = "mine"
    assert made[1]["spec"]["containers"][0]["image"] == "nginx:1"
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1" for p in pods(box))


def test_a_made_pod_is_still_validated(box: Sandbox) -> None:
    bad = deployment("web", label="web")
    bad["spec"]["template"]["metadata"]["labels"]["bad label"] = "x"
    with pytest.raises(ClusterError, match=r"metadata\.labels"):
        box.apply(bad)


def test_keys_found_valid_once_do_not_let_an_invalid_one_through(box: Sandbox) -> None:
    for i in range(3):
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}", "labels": {"app": "x"}}}
        box.apply(cm)
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c9", "labels": {"app/": "x"}}}
    with pytest.raises(ClusterError, match=r"metadata\.labels"):
        box.apply(bad)


@pytest.mark.parametrize(
    "body",
    [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "ü": "✓"}, "spec": {"a": [1, 2.5]}},
        {"spec": {"nodeName": "n"}},
        {"kind": "Pod", "spec": {}, "metadata": {"name": "spec not last"}},
    ],
)
def test_a_shared_spec_encoded_once_is_stored_as_the_same_text(body: dict[str, Any]) -> None:
    # The Pods made together share one spec whose text is encoded once: every body must be
    # stored exactly as if it had been encoded whole.
    shared = {**body, "spec": SharedPart(body["spec"])}
    assert dumps_body(shared) == dumps(body)
    assert dumps_body(shared) == dumps(body)  # the second, from the text kept
    assert json.loads(dumps_body(shared)) == body


def test_the_pods_of_one_template_share_their_spec_text(box: Sandbox) -> None:
    box.apply(deployment("web", replicas=3))
    made = pods(box)
    assert len(made) == 3 and len({json.dumps(p["spec"], sort_keys=True) for p in made}) == 1
    assert len({p["metadata"]["name"] for p in made}) == 3


def test_a_pod_name_already_taken_is_drawn_again(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # The write of a made Pod is a create: a random name some Pod has is refused, and drawn again.
    drawn = iter(["bbbbb", "bbbbb", "ccccc", "ddddd"])
    monkeypatch.setattr(random, "choices", lambda *a, **k: list(next(drawn)))
    box.apply(deployment("web", replicas=2))
    names = sorted(p["metadata"]["name"].rsplit("-", 1)[1] for p in pods(box))
    assert names == ["bbbbb", "ccccc"]


def untimed(value: Any) -> Any:
    """``value`` with its timestamps blanked (two sandboxes made a second apart differ there)."""
    return json.loads(re.sub(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', '"T"', json.dumps(value)))


def _server_set(pod: dict[str, Any]) -> dict[str, Any]:
    """A Pod without what the API server generates for each one (and the status it gives it)."""
    meta = {
        k: v
        for k, v in pod["metadata"].items()
        if k not in ("name", "uid", "resourceVersion", "creationTimestamp")
    }
    return {**{k: v for k, v in pod.items() if k != "status"}, "metadata": meta}


@pytest.mark.parametrize(
    "workload",
    [
        deployment("web", replicas=4),
        {
            **deployment("web", replicas=3),
            "metadata": {
                "name": "web",
                "namespace": "default",
                "annotations": {"sandbox.pyvela.dev/ready-after": "30", "other": "x"},
            },
        },
        {**deployment("web", replicas=3), "kind": "ReplicaSet"},
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "parallelism": 3,
                "completions": 3,
                "template": {
                    "metadata": {"labels": {"app": "web"}, "annotations": {"note": "n"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        },
    ],
    ids=["deployment", "delayed", "replicaset", "job"],
)
def test_the_replicas_of_a_template_are_stored_as_the_whole_write_path_stores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workload: dict[str, Any]
) -> None:
    # The first Pod of a template is admitted by the whole write path, the others are stored
    # from its row: every Pod must be what the whole path gives (bar the generated fields), with
    # its own name, uid and Pod IP, and a status of its own controller's.
    from pyvela._backends.sandbox import children, replicas

    def made(root: Path) -> list[dict[str, Any]]:
        box = Sandbox(root, settings=SandboxSettings(ready_delay=0.0))
        owner = box.apply(workload)["metadata"]["uid"]  # the same in both, for comparing them
        return [json.loads(json.dumps(p).replace(owner, "owner")) for p in pods(box)]

    calls: list[str] = []
    real = replicas.replicate

    def counted(conn: Any, first: Any, name: str, spec: SharedPart) -> bool:
        calls.append(name)
        return real(conn, first, name, spec)

    monkeypatch.setattr(children, "replicate", counted)
    fast = made(tmp_path / "fast")
    assert len(calls) == len(fast) - 1  # the first through the whole path, the others replicated
    monkeypatch.setattr(children, "first_of", lambda *_: None)  # every Pod through the whole path
    whole = made(tmp_path / "whole")
    assert len(fast) == len(whole) >= 3
    assert [_server_set(p) for p in fast] == [_server_set(p) for p in whole]
    assert len({p["metadata"]["uid"] for p in fast}) == len(fast)
    assert len({p["metadata"]["name"] for p in fast}) == len(fast)
    assert all(len(p["metadata"]["creationTimestamp"]) == 20 for p in fast)
    for pod, reference in zip(fast, whole, strict=True):
        ip = pod["status"]["podIP"]
        assert pod["status"]["podIPs"] == [{"ip": ip}]
        other = {**reference["status"], "podIP": ip, "podIPs": [{"ip": ip}]}
        assert untimed(pod["status"]) == untimed(other)
    assert len({p["metadata"]["resourceVersion"] for p in fast}) == len(fast)


def test_a_replica_name_is_still_validated(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvela._backends.sandbox import replicas

    first = replicas.first_of
    box.apply(deployment("web", replicas=1))
    row = first(box._store.conn, "default", pods(box)[0]["metadata"]["name"])
    assert row is not None
    with box._store.write() as conn, pytest.raises(ClusterError, match=r"metadata\.name"):
        replicas.replicate(conn, row, "Not_A_Name", SharedPart(row.body["spec"]))


@pytest.mark.parametrize("delay", [0.0, 30.0])
def test_each_replica_has_the_status_its_own_controller_gives_it(tmp_path: Path, delay: float) -> None:
    # Replicas take the first Pod's status with their own Pod IP, not a controller run each:
    # what is stored must be what the Pod controller computes for each stored row.
    import time

    from pyvela._backends.sandbox.controllers import pod
    from pyvela._backends.sandbox.store import Store

    box = Sandbox(tmp_path, settings=SandboxSettings(ready_delay=delay))
    box.apply(deployment("web", replicas=4))
    made = pods(box)
    assert len(made) == 4
    rows = [Store.load(box._store.conn, "", "Pod", "default", p["metadata"]["name"]) for p in made]
    now = time.time()
    for row in rows:
        assert row is not None
        status, next_change = pod(row.body, {}, row.applied_at, now, row.sim)
        assert row.status == status
        assert row.next_change == next_change
    assert len({r.status["podIP"] for r in rows if r is not None and r.status}) >= 2
    box.close()
