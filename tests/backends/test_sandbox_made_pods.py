"""The Pods a workload's controller makes are admitted without a deep copy: they must still
be validated, stored whole, and independent of anything the caller does afterwards."""

from __future__ import annotations

import json
import random
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
