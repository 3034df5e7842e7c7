"""The sandbox's API-server semantics: storage, identity, versions, validation, kinds, namespaces."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import SCHEMA_VERSION, Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef
from pyvela.errors import (
    AlreadyExistsError,
    ClusterError,
    ConflictError,
    NotFoundError,
    StateError,
    UnknownKindError,
)

FAST = SandboxSettings(ready_delay=0.0)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=FAST) as sb:
        yield sb


def cm(name: str = "cfg", ns: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}, **extra}


def deployment(name: str = "web", replicas: int = 1, image: str = "nginx:1", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, **meta},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def service(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}], **spec},
    }


def ref(obj: dict[str, Any]) -> ObjectRef:
    return ObjectRef.of(obj)


# ----------------------------------------------------------------------------- storage
def test_description_and_default_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_SANDBOX", str(tmp_path / "env-root"))
    with Sandbox(settings=FAST) as sb:
        assert sb.description == f"sandbox ({tmp_path / 'env-root'})"
        assert (tmp_path / "env-root" / "sandbox.db").is_file()
    monkeypatch.delenv("PYVELA_SANDBOX")
    monkeypatch.chdir(tmp_path)
    with Sandbox(settings=FAST) as sb:
        assert sb.root == tmp_path / ".pyvela"


def test_persistence_across_instances(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sb", settings=FAST) as first:
        created = first.apply(cm())
    with Sandbox(tmp_path / "sb", settings=FAST) as second:
        again = second.get(ref(created))
    assert again == created


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sb", settings=FAST):
        pass
    with sqlite3.connect(tmp_path / "sb" / "sandbox.db") as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    conn.close()
    with pytest.raises(StateError, match="schema version"):
        Sandbox(tmp_path / "sb", settings=FAST)


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sb").mkdir()
    (tmp_path / "sb" / "sandbox.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError):
        Sandbox(tmp_path / "sb", settings=FAST)


def test_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StateError, match="cannot create the sandbox directory"):
        Sandbox(tmp_path / "file", settings=FAST)


def test_system_namespaces_and_rollout_crd_exist(sandbox: Sandbox) -> None:
    names = [ns["metadata"]["name"] for ns in sandbox.list("v1", "Namespace")]
    assert {"default", "kube-system"} <= set(names)
    crd = sandbox.get(
        ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "rollouts.argoproj.io")
    )
    assert crd is not None and crd["status"]["conditions"][-1]["type"] == "Established"


def test_reset_wipes(sandbox: Sandbox) -> None:
    sandbox.apply(cm())
    sandbox.reset()
    assert sandbox.list("v1", "ConfigMap") == []
    assert sandbox.get(ObjectRef("v1", "Namespace", "", "default")) is not None


# ----------------------------------------------------------------------------- identity / versions
def test_uid_resource_version_and_generation(sandbox: Sandbox) -> None:
    first = sandbox.apply(deployment())
    meta = first["metadata"]
    assert meta["namespace"] == "default" and meta["generation"] == 1 and len(meta["uid"]) == 36
    assert meta["creationTimestamp"].endswith("Z")
    second = sandbox.apply(deployment(labels={"tier": "web"}))  # metadata only
    assert second["metadata"]["generation"] == 1
    assert int(second["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    third = sandbox.apply(deployment(replicas=3, labels={"tier": "web"}))  # spec
    assert third["metadata"]["generation"] == 2 and third["metadata"]["uid"] == meta["uid"]
    assert third["metadata"]["creationTimestamp"] == meta["creationTimestamp"]


def test_identical_apply_is_a_no_op(sandbox: Sandbox) -> None:
    first = sandbox.apply(cm())
    assert sandbox.apply(cm()) == first


def test_status_write_bumps_resource_version(sandbox: Sandbox) -> None:
    applied = sandbox.apply(deployment())
    live = sandbox.get(ref(applied))
    assert live is not None and "status" in live and "status" not in applied
    assert int(live["metadata"]["resourceVersion"]) > int(applied["metadata"]["resourceVersion"])


def test_status_is_ignored_on_apply_create_and_replace(sandbox: Sandbox) -> None:
    fake = {"phase": "Bogus"}
    created = sandbox.create({**cm(), "status": fake})
    assert "status" not in created
    replaced = sandbox.replace({**created, "status": fake})
    assert "status" not in replaced
    applied = sandbox.apply({**cm("other"), "status": fake})
    assert "status" not in applied
    deploy = sandbox.apply({**deployment(), "status": {"readyReplicas": 99}})
    live = sandbox.get(ref(deploy))
    assert live is not None and live["status"].get("readyReplicas") != 99


def test_server_fields_in_input_are_ignored(sandbox: Sandbox) -> None:
    created = sandbox.apply(cm())
    forged = cm()
    forged["metadata"].update(generation=42, creationTimestamp="1970-01-01T00:00:00Z")
    again = sandbox.apply(forged)
    assert again["metadata"]["uid"] == created["metadata"]["uid"] and again["metadata"]["generation"] == 1
    # The uid is the one server field an update may not name differently (metadata.uid is immutable).
    forged["metadata"]["uid"] = "forged"
    with pytest.raises(ClusterError, match=r'metadata.uid: Invalid value: "forged": field is immutable'):
        sandbox.apply(forged)


def test_returned_objects_are_private_copies(sandbox: Sandbox) -> None:
    source = cm()
    applied = sandbox.apply(source)
    applied["data"]["a"] = "changed"
    source["data"]["a"] = "changed too"
    live = sandbox.get(ref(applied))
    assert live is not None and live["data"] == {"a": "1"}


# ----------------------------------------------------------------------------- create / replace / delete
def test_create_conflicts(sandbox: Sandbox) -> None:
    sandbox.create(cm())
    with pytest.raises(AlreadyExistsError, match='configmaps "cfg" already exists'):
        sandbox.create(cm())


def test_create_generate_name(sandbox: Sandbox) -> None:
    made = sandbox.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-"}})
    assert made["metadata"]["name"].startswith("job-") and len(made["metadata"]["name"]) == 9


def test_replace_needs_current_resource_version(sandbox: Sandbox) -> None:
    created = sandbox.create(cm())
    updated = sandbox.replace({**created, "data": {"a": "2"}})
    assert updated["data"] == {"a": "2"}
    with pytest.raises(ConflictError, match="the object has been modified"):
        sandbox.replace({**created, "data": {"a": "3"}})  # stale resourceVersion
    with pytest.raises(NotFoundError):
        sandbox.replace(cm("missing"))


def test_replace_without_resource_version_is_unconditional(sandbox: Sandbox) -> None:
    sandbox.create(cm())
    assert sandbox.replace(cm(data={"a": "9"}))["data"] == {"a": "9"}


def test_apply_with_stale_resource_version_conflicts(sandbox: Sandbox) -> None:
    created = sandbox.create(cm())
    sandbox.apply(cm(data={"b": "2"}))
    with pytest.raises(ConflictError):
        sandbox.apply(created)


def test_delete(sandbox: Sandbox) -> None:
    created = sandbox.apply(cm())
    assert sandbox.delete(ref(created)) is True
    assert sandbox.get(ref(created)) is None
    assert sandbox.delete(ref(created)) is False


def test_delete_collects_owned_objects(sandbox: Sandbox) -> None:
    owner = sandbox.apply(cm("owner"))
    owned = cm("owned")
    owned["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    ]
    sandbox.apply(owned)
    sandbox.delete(ref(owner))
    assert sandbox.get(ObjectRef("v1", "ConfigMap", "default", "owned")) is None


def test_dry_run_stores_nothing(sandbox: Sandbox) -> None:
    preview = sandbox.apply(service(), dry_run=True)
    assert preview["spec"]["clusterIP"].startswith("10.96.") and "resourceVersion" not in preview["metadata"]
    assert sandbox.get(ref(preview)) is None
    real = sandbox.apply(service())
    assert real["spec"]["clusterIP"] == preview["spec"]["clusterIP"]  # the dry run reserved nothing
    changed = sandbox.apply({**service(), "metadata": {"name": "web", "labels": {"x": "y"}}}, dry_run=True)
    assert changed["metadata"]["labels"] == {"x": "y"}
    live = sandbox.get(ref(real))
    assert live is not None and "labels" not in live["metadata"]


# ----------------------------------------------------------------------------- list
def test_list_by_namespace_and_labels(sandbox: Sandbox) -> None:
    sandbox.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    sandbox.apply(cm("a", labels=None) | {"metadata": {"name": "a", "labels": {"app": "x", "tier": "1"}}})
    sandbox.apply(cm() | {"metadata": {"name": "b", "labels": {"app": "y"}}})
    sandbox.apply(cm() | {"metadata": {"name": "c", "namespace": "other", "labels": {"app": "x"}}})
    names = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in sandbox.list("v1", "ConfigMap")]
    assert names == [("default", "a"), ("default", "b"), ("other", "c")]
    assert [o["metadata"]["name"] for o in sandbox.list("v1", "ConfigMap", labels={"app": "x"})] == ["a", "c"]
    assert [o["metadata"]["name"] for o in sandbox.list("v1", "ConfigMap", "other")] == ["c"]
    assert sandbox.list("v1", "ConfigMap", labels={"app": "x", "tier": "2"}) == []


# ----------------------------------------------------------------------------- namespaces
def test_missing_namespace(sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError, match='namespaces "nowhere" not found'):
        sandbox.apply(cm(ns="nowhere"))


def test_deleting_a_namespace_deletes_its_objects(sandbox: Sandbox) -> None:
    ns = sandbox.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    sandbox.apply(cm(ns="team"))
    svc = sandbox.apply({**service(), "metadata": {"name": "web", "namespace": "team"}})
    assert sandbox.delete(ref(ns))
    assert sandbox.get(ObjectRef("v1", "ConfigMap", "team", "cfg")) is None
    assert sandbox.list("v1", "Service", "team") == []
    again = sandbox.apply(service())  # its IP was released
    assert again["spec"]["clusterIP"] == svc["spec"]["clusterIP"]


def test_system_namespace_cannot_be_deleted(sandbox: Sandbox) -> None:
    with pytest.raises(ClusterError, match="may not be deleted"):
        sandbox.delete(ObjectRef("v1", "Namespace", "", "default"))


def test_cluster_scoped_objects_ignore_namespace(sandbox: Sandbox) -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:reader", "namespace": "x"},
        "rules": [],
    }
    stored = sandbox.apply(role)
    assert "namespace" not in stored["metadata"]
    assert (
        sandbox.get(ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:reader")) is not None
    )


# ----------------------------------------------------------------------------- Services
def test_cluster_ip_allocated_once_and_kept(sandbox: Sandbox) -> None:
    first = sandbox.apply(service())
    ip = first["spec"]["clusterIP"]
    assert ip.startswith("10.96.") and ip not in ("10.96.0.0", "10.96.0.1")
    assert first["spec"]["clusterIPs"] == [ip] and first["spec"]["ports"][0]["targetPort"] == 80
    again = sandbox.apply(service(ports=[{"port": 8080}]))
    assert again["spec"]["clusterIP"] == ip
    replaced = sandbox.replace({**again, "spec": {"ports": [{"port": 81}]}})
    assert replaced["spec"]["clusterIP"] == ip


def test_cluster_ips_are_unique(sandbox: Sandbox) -> None:
    ips = {sandbox.apply(service(f"svc-{i}"))["spec"]["clusterIP"] for i in range(20)}
    assert len(ips) == 20


def test_cluster_ip_is_immutable(sandbox: Sandbox) -> None:
    first = sandbox.apply(service())
    other = "10.96.200.200" if first["spec"]["clusterIP"] != "10.96.200.200" else "10.96.200.201"
    with pytest.raises(ClusterError, match="immutable"):
        sandbox.apply(service(clusterIP=other))
    assert (
        sandbox.apply(service(clusterIP=first["spec"]["clusterIP"]))["spec"]["clusterIP"]
        == first["spec"]["clusterIP"]
    )


def test_requested_cluster_ip(sandbox: Sandbox) -> None:
    assert sandbox.apply(service("a", clusterIP="10.96.7.7"))["spec"]["clusterIP"] == "10.96.7.7"
    with pytest.raises(ClusterError, match="already allocated"):
        sandbox.apply(service("b", clusterIP="10.96.7.7"))
    with pytest.raises(ClusterError, match="valid range"):
        sandbox.apply(service("c", clusterIP="192.168.1.1"))
    headless = sandbox.apply(service("d", clusterIP="None"))
    assert headless["spec"]["clusterIP"] == "None"


def test_node_ports(sandbox: Sandbox) -> None:
    first = sandbox.apply(service(type="NodePort"))
    port = first["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    assert (
        sandbox.apply(service(type="NodePort", selector={"a": "b"}))["spec"]["ports"][0]["nodePort"] == port
    )
    assert sandbox.apply(service("other", type="NodePort"))["spec"]["ports"][0]["nodePort"] != port


# ----------------------------------------------------------------------------- validation
def test_secret_string_data_is_encoded(sandbox: Sandbox) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    stored = sandbox.apply(secret)
    assert stored["data"] == {"k": "dg=="} and "stringData" not in stored and stored["type"] == "Opaque"
    with pytest.raises(ClusterError, match="base64"):
        sandbox.apply({**secret, "stringData": None, "data": {"k": "not base64!"}})


def test_oversized_secret_is_refused(sandbox: Sandbox) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"k": "x" * (1 << 20 + 1)},
    }
    with pytest.raises(ClusterError, match="Too long"):
        sandbox.apply(secret)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"metadata": {"name": "Bad_Name"}}, "RFC 1123"),
        ({"metadata": {}}, "name or generateName is required"),
        ({"metadata": {"name": "ok", "labels": {"app": "has space"}}}, "label value"),
        ({"metadata": {"name": "ok", "labels": {"bad key!": "x"}}}, "metadata.labels"),
        ({"metadata": {"name": "ok", "annotations": {"a": 1}}}, "must be a string"),
        ({"metadata": "x"}, "metadata"),
        ({"metadata": {"name": "ok", "namespace": {"x": 1}}}, "must be strings"),
        ({"metadata": {"name": 7}}, "must be strings"),
    ],
)
def test_invalid_objects(sandbox: Sandbox, change: dict[str, Any], match: str) -> None:
    with pytest.raises(ClusterError, match=match):
        sandbox.apply({**cm(), **change})


def test_bad_simulation_annotations(sandbox: Sandbox) -> None:
    with pytest.raises(ClusterError, match="ready-after"):
        sandbox.apply(deployment(annotations={"sandbox.pyvela.dev/ready-after": "soon"}))
    with pytest.raises(ClusterError, match=r"sandbox\.pyvela\.dev/fail"):
        sandbox.apply(deployment(annotations={"sandbox.pyvela.dev/fail": "Meteor"}))


# ----------------------------------------------------------------------------- kinds
def test_unknown_kind(sandbox: Sandbox) -> None:
    foo = {"apiVersion": "x.io/v1", "kind": "Foo", "metadata": {"name": "f"}}
    with pytest.raises(UnknownKindError) as caught:
        sandbox.apply(foo)
    assert str(caught.value.message).startswith(
        'no kind "Foo" in group "x.io/v1" on the sandbox: '
        "is its CustomResourceDefinition installed? apply it first"
    )
    assert "the group has no known kinds" in caught.value.message
    with pytest.raises(
        UnknownKindError, match=r"known kinds in that group: Rollout \(argoproj.io/v1alpha1\)"
    ):
        sandbox.get(ObjectRef("argoproj.io/v1alpha1", "AnalysisRun", "default", "x"))
    with pytest.raises(UnknownKindError, match=r"Deployment \(apps/v1\)"):
        sandbox.list("apps/v1beta1", "Deployment")


def crd(
    group: str = "x.io", kind: str = "Foo", plural: str = "foos", scope: str = "Namespaced"
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": kind, "plural": plural},
            "scope": scope,
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }


def test_applying_a_crd_makes_its_kind_known(sandbox: Sandbox) -> None:
    installed = sandbox.apply(crd())
    live = sandbox.get(ref(installed))
    assert (
        live is not None
        and {"type": "Established", "status": "True"}.items() <= live["status"]["conditions"][-1].items()
    )
    foo = sandbox.apply({"apiVersion": "x.io/v1", "kind": "Foo", "metadata": {"name": "f"}, "spec": {"a": 1}})
    assert foo["metadata"]["namespace"] == "default" and foo["metadata"]["generation"] == 1
    with pytest.raises(UnknownKindError):
        sandbox.apply({"apiVersion": "x.io/v2", "kind": "Foo", "metadata": {"name": "f"}})
    sandbox.delete(ref(installed))
    with pytest.raises(UnknownKindError):
        sandbox.get(ref(foo))
    sandbox.apply(crd())
    assert sandbox.get(ref(foo)) is None  # its objects went with the CRD


def test_crd_visible_to_another_instance(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sb", settings=FAST) as one, Sandbox(tmp_path / "sb", settings=FAST) as two:
        one.apply(crd(scope="Cluster"))
        made = two.apply(
            {"apiVersion": "x.io/v1", "kind": "Foo", "metadata": {"name": "f", "namespace": "zz"}}
        )
        assert "namespace" not in made["metadata"]


def test_invalid_crd(sandbox: Sandbox) -> None:
    bad = crd()
    bad["metadata"]["name"] = "wrong"
    with pytest.raises(ClusterError, match=r"metadata\.name must be"):
        sandbox.apply(bad)
    with pytest.raises(ClusterError, match=r"spec\.scope"):
        sandbox.apply(crd(scope="Galaxy"))


def test_helm_release_is_a_known_kind(sandbox: Sandbox) -> None:
    helm = {
        "apiVersion": "pyvela.dev/v1alpha1",
        "kind": "HelmRelease",
        "metadata": {"name": "redis"},
        "spec": {"chart": "redis-cluster", "version": "6.2.7"},
    }
    stored = sandbox.apply(helm)
    assert stored["metadata"]["generation"] == 1
    assert sandbox.delete(ref(stored))


# ----------------------------------------------------------------------------- settings
def test_settings_from_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "sb"
    root.mkdir()
    (root / "sandbox.yaml").write_text(
        "ready_delay: 2.5\nfail_images: ['*:broken']\nnodes: 3\nhonour_pauses: true\n"
    )
    monkeypatch.delenv("PYVELA_SANDBOX_DELAY", raising=False)
    assert SandboxSettings.load(root) == SandboxSettings(
        ready_delay=2.5, fail_images=("*:broken",), nodes=3, honour_pauses=True
    )
    monkeypatch.setenv("PYVELA_SANDBOX_DELAY", "0.25")
    with Sandbox(root) as sb:
        assert sb.settings.ready_delay == 0.25 and sb.settings.nodes == 3
    assert SandboxSettings.load(tmp_path / "elsewhere", environ={}) == SandboxSettings()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("ready_delay: soon\n", "ready_delay"),
        ("colour: red\n", "unknown sandbox setting"),
        ("- 1\n", "mapping"),
    ],
)
def test_bad_settings_file(tmp_path: Path, text: str, match: str) -> None:
    (tmp_path / "sandbox.yaml").write_text(text)
    with pytest.raises(ClusterError, match=match):
        SandboxSettings.load(tmp_path, environ={})


def test_bad_delay_in_environment(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="PYVELA_SANDBOX_DELAY"):
        SandboxSettings.load(tmp_path, environ={"PYVELA_SANDBOX_DELAY": "-1"})
