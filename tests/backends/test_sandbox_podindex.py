"""Pods listed by label selector through the sandbox's label index (``podindex``): only the
candidates are read (a workload's wait lists its Pods on every pass), and the answer is always
what filtering every Pod of the namespace gives, whatever wrote, relabelled, deleted or rolled
back Pods before (this process, a batch, another connection)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyvela._backends.readiness import rule_for
from pyvela._backends.sandbox import Sandbox
from pyvela._backends.sandbox.settings import SandboxSettings
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError


def pod(name: str, labels: dict[str, str], ns: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }


def names(box: Sandbox, labels: dict[str, str], ns: str = "default") -> list[str]:
    return [p["metadata"]["name"] for p in box.list("v1", "Pod", ns, labels)]


def by_filter(box: Sandbox, labels: dict[str, str], ns: str = "default") -> list[str]:
    every = box.list("v1", "Pod", ns)
    return [
        p["metadata"]["name"]
        for p in every
        if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
    ]


@contextlib.contextmanager
def statements(box: Sandbox) -> Iterator[list[str]]:
    seen: list[str] = []
    box._store.conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        box._store.conn.set_trace_callback(None)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path, settings=SandboxSettings(ready_delay=0))
    yield sandbox
    sandbox.close()


def test_a_list_by_labels_reads_the_matching_pods_alone(box: Sandbox) -> None:
    for i in range(40):
        box.apply(pod(f"p{i}", {"app": f"a{i % 10}", "tier": "web" if i % 2 else "db"}))
    assert names(box, {"app": "a3"}) == by_filter(box, {"app": "a3"})  # builds the index
    with statements(box) as seen:
        got = names(box, {"app": "a3", "tier": "web"})
    assert got == ["p13", "p23", "p3", "p33"]
    pods_read = [s for s in seen if "FROM objects" in s]
    assert len(pods_read) == 4 and all("name='p" in s for s in pods_read), seen  # no scan
    assert names(box, {"app": "nothing"}) == [] and names(box, {"app": "a3", "tier": "none"}) == []


def test_the_index_follows_relabels_deletes_and_other_connections(tmp_path: Path) -> None:
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)
    try:
        box.apply(pod("a", {"app": "x"}))
        assert names(box, {"app": "x"}) == ["a"]
        box.apply(pod("a", {"app": "y"}))  # relabelled here
        assert names(box, {"app": "x"}) == [] and names(box, {"app": "y"}) == ["a"]
        other.apply(pod("b", {"app": "y"}))  # written by another connection: the index is rebuilt
        assert names(box, {"app": "y"}) == ["a", "b"]
        other.delete(ObjectRef("v1", "Pod", "default", "a"))
        assert names(box, {"app": "y"}) == ["b"]
        box.delete(ObjectRef("v1", "Pod", "default", "b"))
        assert names(box, {"app": "y"}) == []
    finally:
        other.close()
        box.close()


def test_a_rolled_back_relabel_and_a_batch_read_answer_as_the_database(box: Sandbox) -> None:
    box.apply(pod("a", {"app": "x"}))
    assert names(box, {"app": "x"}) == ["a"]
    with box.batch():
        box.apply(pod("a", {"app": "y"}))
        with pytest.raises(ClusterError):
            box.apply(pod("bad", {"app": "x", "bad key!": "v"}))  # refused: undone alone
        assert names(box, {"app": "y"}) == ["a"] and names(box, {"app": "x"}) == []
        box.delete(ObjectRef("v1", "Pod", "default", "a"))
        assert names(box, {"app": "y"}) == []
    assert names(box, {"app": "y"}) == [] and names(box, {"app": "x"}) == []


def test_a_wait_on_a_slow_workload_reads_its_own_pods_not_every_pod(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, settings=SandboxSettings(ready_delay=0.3))
    try:
        for i in range(30):
            labels = {"app": f"w{i}"}
            template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
            spec = {"replicas": 2, "selector": {"matchLabels": labels}, "template": template}
            box.apply(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": f"w{i}", "namespace": "default"},
                    "spec": spec,
                }
            )
        assert len(box.list("v1", "Pod", "default", {"app": "w0"})) == 2  # the index is built once
        with statements(box) as seen:
            box.wait(
                ObjectRef("apps/v1", "Deployment", "default", "w7"),
                rule_for("apps/v1", "Deployment"),
                timeout=30,
            )
        pods_read = [s for s in seen if "kind='Pod'" in s and "SELECT" in s]
        assert pods_read and all("name='w7-" in s for s in pods_read), pods_read
    finally:
        box.close()


LABELS = [{"app": "x"}, {"app": "y"}, {"app": "x", "tier": "web"}, {"tier": "web"}, {}]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["apply", "other", "delete", "batch"]), st.integers(0, 5),
                          st.integers(0, len(LABELS) - 1)), max_size=25))  # fmt: skip
def test_a_list_by_labels_is_always_the_filter_of_every_pod(tmp_path_factory: Any, ops: list[Any]) -> None:
    root = tmp_path_factory.mktemp("sb")
    box, other = Sandbox(root), Sandbox(root)
    rng = random.Random(len(ops))
    try:
        for op, n, which in ops:
            labels, ref = LABELS[which], ObjectRef("v1", "Pod", "default", f"p{n}")
            if op == "apply":
                box.apply(pod(f"p{n}", labels))
            elif op == "other":
                other.apply(pod(f"p{n}", labels))
            elif op == "delete":
                box.delete(ref)
            else:
                with box.batch():
                    box.apply(pod(f"p{n}", labels))
                    with contextlib.suppress(ClusterError):
                        box.apply(pod(f"p{rng.randint(0, 5)}", {"bad key!": "v"}))
            for selector in LABELS[:4]:
                assert names(box, selector) == by_filter(box, selector)
    finally:
        other.close()
        box.close()


def test_a_list_inside_a_batch_before_any_index_reads_the_database(box: Sandbox) -> None:
    box.apply(pod("kept", {"app": "x"}))
    with box.batch():  # no index yet, and one is never built inside a transaction
        box.delete(ObjectRef("v1", "Pod", "default", "kept"))
        box.apply(pod("new", {"app": "x"}))
        assert names(box, {"app": "x"}) == ["new"]
    assert names(box, {"app": "x"}) == ["new"]
