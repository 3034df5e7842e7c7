"""What a sandbox batch remembers of the rows it read and wrote (``RowStore._rows``): a read
after a read or a write of the same object costs no SELECT, and nothing remembered outlives a
write, a delete, a rolled-back write or the batch itself. Also what the batch's statements
are (a create reads nothing first)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._backends.sandbox.rows import Row
from pyvela._backends.sandbox.store import Store
from pyvela._core.objects import ObjectRef
from pyvela.errors import AlreadyExistsError, ClusterError, NotFoundError


def cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    }


def ref(name: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", "default", name)


@contextlib.contextmanager
def statements(box: Sandbox) -> Iterator[list[str]]:
    """The SQL statements the sandbox's connection runs inside the block."""
    seen: list[str] = []
    conn = box._store.conn
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def selects_of(seen: list[str], name: str) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and "FROM objects" in s and f"'{name}'" in s]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path)
    yield sandbox
    sandbox.close()


def test_inside_a_batch_an_object_is_selected_once_and_each_read_is_its_own_copy(box: Sandbox) -> None:
    box.apply(cm("x", a="1"))
    with statements(box) as seen, box.batch():
        first = box.get(ref("x"))
        assert first is not None
        first["data"]["a"] = "changed by the caller"
        second = box.get(ref("x"))
        applied = box.apply(cm("x", a="2"))  # the write's own read is remembered too
        third = box.get(ref("x"))
    assert len(selects_of(seen, "x")) == 1
    assert second is not None and second["data"] == {"a": "1"}
    assert third is not None and third["data"] == {"a": "2"}
    assert third["metadata"]["resourceVersion"] == applied["metadata"]["resourceVersion"]
    assert int(applied["metadata"]["resourceVersion"]) > int(second["metadata"]["resourceVersion"])


def test_a_read_after_a_write_in_the_batch_costs_no_select_and_shows_the_write(box: Sandbox) -> None:
    with statements(box) as seen, box.batch():
        assert box.get(ref("new")) is None  # remembered as absent ...
        made = box.apply(cm("new", a="1"))  # ... until written
        got = box.get(ref("new"))
    assert got == made and got["data"] == {"a": "1"}
    assert len(selects_of(seen, "new")) == 1


def test_a_delete_in_the_batch_is_seen_by_its_later_reads(box: Sandbox) -> None:
    box.apply(cm("gone"))
    with box.batch():
        assert box.get(ref("gone")) is not None
        assert box.delete(ref("gone")) is True
        assert box.get(ref("gone")) is None
        assert box.delete(ref("gone")) is False
        again = box.apply(cm("gone", a="back"))
        assert box.get(ref("gone")) == again


def test_a_write_rolled_back_inside_a_batch_leaves_nothing_remembered(box: Sandbox) -> None:
    store = box._store
    with box.batch():
        assert box.get(ref("undone")) is None
        with pytest.raises(RuntimeError), store.write() as conn:
            row = Row("", "ConfigMap", "default", "undone", uid="u", rv=Store.next_rv(conn), generation=1,
                      owners="", body=cm("undone"), status=None, prior={}, sim="{}", applied_at=0.0,
                      next_change=None)  # fmt: skip
            Store.save(conn, row)
            assert box.get(ref("undone")) is not None  # inside the write: there
            raise RuntimeError("the write fails after storing its row")
        assert box.get(ref("undone")) is None  # rolled back: the database's answer, not the memory's
        with store.write(dry_run=True) as conn:
            row.id = None
            Store.save(conn, row)
        assert box.get(ref("undone")) is None  # a dry run is rolled back as well
    assert box.get(ref("undone")) is None


def test_a_status_settled_in_the_batch_is_what_its_later_reads_see(box: Sandbox) -> None:
    pod = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": pod},
    }
    web = ObjectRef("apps/v1", "Deployment", "default", "web")
    with box.batch():
        answer = box.apply(deployment)
        seen = box.get(web)
    after = box.get(web)
    assert seen is not None and seen == after  # the remembered row is the stored one, settled
    version = int(seen["metadata"]["resourceVersion"])
    assert "status" not in answer and version > int(answer["metadata"]["resourceVersion"])


def test_nothing_remembered_outlives_the_batch(tmp_path: Path) -> None:
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)  # other: a second process's connection
    try:
        with box.batch():
            box.apply(cm("shared", a="1"))
            assert box.get(ref("shared")) is not None
        other.apply(cm("shared", a="2"))
        with box.batch():
            got = box.get(ref("shared"))
        assert got is not None and got["data"] == {"a": "2"}
    finally:
        other.close()
        box.close()


def test_a_create_reads_nothing_first_and_a_taken_name_is_already_exists(box: Sandbox) -> None:
    box.create(cm("once"))
    with statements(box) as seen:
        with pytest.raises(AlreadyExistsError, match='configmaps "once" already exists'):
            box.create(cm("once", a="again"))
        made = box.create(cm("fresh"))
    assert selects_of(seen, "once") == [] and selects_of(seen, "fresh") == []
    got = box.get(ref("once"))
    assert got is not None and got["data"] == {}  # the refused create changed nothing
    assert int(made["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])
    with box.batch():  # inside a batch: refused alone, the batch goes on
        with pytest.raises(AlreadyExistsError):
            box.create(cm("fresh"))
        box.create(cm("later"))
    assert box.get(ref("later")) is not None


def test_versions_grow_across_batches_with_refused_writes_in_them(tmp_path: Path) -> None:
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)
    versions: list[int] = []
    try:
        for i in range(3):
            with box.batch():
                versions.append(int(box.apply(cm(f"a{i}"))["metadata"]["resourceVersion"]))
                with pytest.raises(ClusterError):
                    box.apply({**cm(f"bad{i}"), "data": {"k": 1}})  # refused: not a string
                versions.append(int(box.apply(cm(f"b{i}"))["metadata"]["resourceVersion"]))
            versions.append(int(other.apply(cm(f"c{i}"))["metadata"]["resourceVersion"]))
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
    finally:
        other.close()
        box.close()


def test_a_batch_of_many_writes_keeps_each_and_undoes_a_refused_one_alone(tmp_path: Path) -> None:
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)
    try:
        with box.batch():
            for i in range(80):
                box.apply(cm(f"m{i}"))
                if i % 20 == 7:
                    with pytest.raises(ClusterError):
                        box.apply({**cm(f"m{i}"), "data": {"k": 1}})
        for i in range(80):
            got = other.get(ref(f"m{i}"))
            assert got is not None and got["data"] == {}
    finally:
        other.close()
        box.close()


def test_an_object_of_two_owners_goes_with_the_last_of_them(box: Sandbox) -> None:
    # The lookup of the other owners by uid scans (objects are no longer indexed by uid).
    owners = [box.apply(cm(f"owner{i}")) for i in range(2)]
    owned = cm("owned")
    owned["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]}
        for o in owners
    ]
    box.apply(owned)
    box.delete(ref("owner0"))
    assert box.get(ref("owned")) is not None
    box.delete(ref("owner1"))
    assert box.get(ref("owned")) is None


def test_a_database_with_the_old_indexes_loses_them_and_keeps_its_objects(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    box.apply({**cm("kept"), "metadata": {"name": "kept", "namespace": "team"}})
    box._store.conn.execute("CREATE INDEX objects_ns ON objects (ns)")
    box._store.conn.execute("CREATE INDEX objects_uid ON objects (uid)")
    box.close()
    again = Sandbox(tmp_path)
    try:
        names = {r[0] for r in again._store.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert not names & {"objects_ns", "objects_uid"}
        kept = ObjectRef("v1", "ConfigMap", "team", "kept")
        assert again.get(kept) is not None
        again.delete(ObjectRef("v1", "Namespace", "", "team"))  # a namespace's objects: found by a scan
        assert again.get(kept) is None
    finally:
        again.close()


@pytest.mark.parametrize("deleter", ["this process", "another connection"])
def test_a_namespace_known_from_batch_to_batch_is_forgotten_when_deleted(
    tmp_path: Path, deleter: str
) -> None:
    box, other = Sandbox(tmp_path), Sandbox(tmp_path)
    team = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    in_team = {**cm("x"), "metadata": {"name": "x", "namespace": "team"}}
    try:
        box.apply(team)
        for _ in range(2):
            with statements(box) as seen, box.batch():
                box.apply(in_team)
        asked = [s for s in seen if "kind='Namespace'" in s]
        assert asked == []  # the second batch knew it from the first
        (box if deleter == "this process" else other).delete(ObjectRef("v1", "Namespace", "", "team"))
        with box.batch(), pytest.raises(NotFoundError, match='namespaces "team" not found'):
            box.apply(in_team)
    finally:
        other.close()
        box.close()
