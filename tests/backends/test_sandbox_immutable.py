"""Sandbox fidelity where it changes the verdict: immutable fields refused as the API server
refuses them, integer fields type-checked as its decoder does, workloads create Pods,
StatefulSets create their PVCs, a HelmRelease of a missing local chart fails."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends import readiness as rules
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError, ImmutableFieldError

FAST = SandboxSettings(ready_delay=0.0)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=FAST) as sb:
        yield sb


def pod_template(app: str, image: str = "nginx:1") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": image}]}}


def workload(kind: str, name: str = "w", **spec: Any) -> dict[str, Any]:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    body: dict[str, Any] = {"template": pod_template(name)}
    if kind != "Job":
        body["selector"] = {"matchLabels": {"app": name}}
    if kind == "StatefulSet":
        body["serviceName"] = name
    body.update(spec)
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": body}


def changed(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    *parents, last = path.split(".")
    cur = out
    for key in parents:
        cur = cur.setdefault(key, {})
    cur[last] = value
    return out


def pvc(name: str = "data", storage: str = "1Gi", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}, **spec},
    }


# ----------------------------------------------------------------------------- immutable fields
def test_a_job_template_change_is_refused_and_the_job_is_not_rerun(sandbox: Sandbox) -> None:
    job = workload("Job", "migrate")
    done = sandbox.apply(job)
    sandbox.wait(ObjectRef.of(done), rules.job, timeout=30)
    new_image = changed(job, "spec.template.spec.containers", [{"name": "c", "image": "nginx:2"}])
    with pytest.raises(ClusterError, match=r'Job "migrate" is invalid: spec.template: .*field is immutable'):
        sandbox.apply(new_image)
    live = sandbox.get(ObjectRef.of(done))
    assert live is not None and live["metadata"]["generation"] == 1
    assert live["spec"]["template"] == job["spec"]["template"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("spec.selector", {"matchLabels": {"app": "other"}}), ("spec.completions", 3)],
)
def test_job_selector_and_completions_are_immutable(sandbox: Sandbox, field: str, value: Any) -> None:
    job = workload("Job", "migrate", selector={"matchLabels": {"app": "migrate"}}, completions=1)
    sandbox.apply(job)
    with pytest.raises(ClusterError, match=f"{field}: .*field is immutable"):
        sandbox.apply(changed(job, field, value))


def test_a_job_may_still_change_its_mutable_fields(sandbox: Sandbox) -> None:
    job = workload("Job", "migrate")
    sandbox.apply(job)
    sandbox.apply(changed(job, "spec.activeDeadlineSeconds", 600))
    sandbox.apply(changed(job, "metadata.labels", {"team": "a"}))


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_workload_selectors_are_immutable(sandbox: Sandbox, kind: str) -> None:
    obj = workload(kind)
    sandbox.apply(obj)
    moved = changed(obj, "spec.selector", {"matchLabels": {"app": "w", "tier": "x"}})
    moved["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    with pytest.raises(ClusterError, match=f'{kind} "w" is invalid: spec.selector: .*field is immutable'):
        sandbox.apply(moved)
    sandbox.apply(changed(obj, "spec.template.spec.containers", [{"name": "c", "image": "nginx:2"}]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spec.volumeClaimTemplates", [{"metadata": {"name": "data"}, "spec": pvc()["spec"]}]),
        ("spec.serviceName", "other"),
        ("spec.podManagementPolicy", "Parallel"),
    ],
)
def test_statefulset_spec_beyond_the_mutable_fields_is_forbidden(
    sandbox: Sandbox, field: str, value: Any
) -> None:
    sts = workload("StatefulSet", "db")
    sandbox.apply(sts)
    with pytest.raises(
        ClusterError, match="spec: Forbidden: updates to statefulset spec for fields other than"
    ):
        sandbox.apply(changed(sts, field, value))
    sandbox.apply(changed(sts, "spec.replicas", 3))
    sandbox.apply(changed(sts, "spec.updateStrategy", {"type": "OnDelete"}))


def test_a_service_cluster_ip_cannot_change_once_set(sandbox: Sandbox) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80}]},
    }
    ip = sandbox.apply(svc)["spec"]["clusterIP"]
    other = "10.96.7.7" if ip != "10.96.7.7" else "10.96.7.8"
    with pytest.raises(ClusterError, match="may not change once set"):
        sandbox.apply(changed(svc, "spec.clusterIP", other))
    assert sandbox.apply(svc)["spec"]["clusterIP"] == ip  # omitting it keeps it


def test_a_pvc_spec_is_immutable_but_its_storage_may_grow(sandbox: Sandbox) -> None:
    sandbox.apply(pvc(storage="1Gi"))
    sandbox.apply(pvc(storage="2Gi"))
    with pytest.raises(
        ClusterError, match=r"spec.resources.requests.storage: Forbidden: field can not be less"
    ):
        sandbox.apply(pvc(storage="1024Mi"))
    with pytest.raises(ClusterError, match="spec: Forbidden: spec is immutable after creation"):
        sandbox.apply(pvc(storage="2Gi", accessModes=["ReadWriteMany"]))
    with pytest.raises(ClusterError, match="spec: Forbidden"):
        sandbox.apply(pvc(storage="2Gi", storageClassName="fast"))


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
def test_immutable_config_maps_and_secrets_keep_their_data(sandbox: Sandbox, kind: str) -> None:
    data = {"a": "MQ=="}
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "cfg"}, "data": data, "immutable": True}
    sandbox.apply(obj)
    with pytest.raises(ClusterError, match="data: Forbidden: field is immutable when `immutable` is set"):
        sandbox.apply({**obj, "data": {"a": "Mg=="}})
    with pytest.raises(ClusterError, match="immutable: Forbidden"):
        sandbox.apply({**obj, "immutable": False})
    sandbox.apply({**obj, "metadata": {"name": "cfg", "labels": {"x": "y"}}})  # metadata may change
    mutable = {**obj, "metadata": {"name": "free"}, "immutable": False}
    sandbox.apply(mutable)
    sandbox.apply({**mutable, "data": {"a": "Mg=="}})


def test_metadata_uid_is_immutable(sandbox: Sandbox) -> None:
    live = sandbox.apply(workload("Deployment"))
    same = changed(workload("Deployment"), "metadata.uid", live["metadata"]["uid"])
    sandbox.apply(same)
    with pytest.raises(ClusterError, match=r"metadata.uid: .*field is immutable"):
        sandbox.apply(changed(workload("Deployment"), "metadata.uid", "0000"))


# ----------------------------------------------------------------------------- integer fields
@pytest.mark.parametrize(
    ("kind", "field", "value", "got"),
    [
        ("Deployment", "replicas", "three", "string into Go struct field DeploymentSpec.spec.replicas"),
        ("StatefulSet", "replicas", True, "bool into Go struct field StatefulSetSpec.spec.replicas"),
        ("ReplicaSet", "replicas", 1.5, "number 1.5 into Go struct field ReplicaSetSpec.spec.replicas"),
        ("Job", "backoffLimit", "6", "string into Go struct field JobSpec.spec.backoffLimit"),
        ("Deployment", "progressDeadlineSeconds", [1], "array into Go struct field DeploymentSpec"),
    ],
)
def test_integer_fields_of_the_wrong_type_are_refused_as_the_decoder_does(
    sandbox: Sandbox, kind: str, field: str, value: Any, got: str
) -> None:
    with pytest.raises(ClusterError, match=f"cannot be handled as a {kind}: json: cannot unmarshal {got}"):
        sandbox.apply(workload(kind, **{field: value}))
    assert sandbox.list("apps/v1" if kind != "Job" else "batch/v1", kind) == []


def test_negative_replicas_are_invalid_and_whole_floats_are_integers(sandbox: Sandbox) -> None:
    with pytest.raises(
        ClusterError, match=r"spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    ):
        sandbox.apply(workload("Deployment", replicas=-1))
    assert sandbox.apply(workload("Deployment", replicas=2.0))["spec"]["replicas"] == 2


# ----------------------------------------------------------------------------- Pods and PVCs
def pods(sandbox: Sandbox, **labels: str) -> list[dict[str, Any]]:
    return sandbox.list("v1", "Pod", "default", labels or None)


def test_a_deployment_creates_owned_pods_labelled_like_its_template(sandbox: Sandbox) -> None:
    live = sandbox.apply(workload("Deployment", "web", replicas=3))
    found = pods(sandbox, app="web")
    assert len(found) == 3
    for pod in found:
        owner = pod["metadata"]["ownerReferences"][0]
        assert (
            owner["uid"] == live["metadata"]["uid"] and owner["kind"] == "Deployment" and owner["controller"]
        )
        assert pod["metadata"]["name"].startswith(f"web-{pod['metadata']['labels']['pod-template-hash']}-")
        assert pod["spec"]["containers"][0]["image"] == "nginx:1"
        assert pod["status"]["phase"] == "Running"


def test_a_template_change_replaces_the_pods_and_scaling_changes_their_number(sandbox: Sandbox) -> None:
    obj = workload("Deployment", "web", replicas=2)
    sandbox.apply(obj)
    before = {p["metadata"]["name"] for p in pods(sandbox)}
    sandbox.apply(changed(obj, "spec.template.spec.containers", [{"name": "c", "image": "nginx:2"}]))
    after = pods(sandbox)
    assert len(after) == 2 and not before & {p["metadata"]["name"] for p in after}
    assert {p["spec"]["containers"][0]["image"] for p in after} == {"nginx:2"}
    sandbox.apply(
        changed(
            changed(obj, "spec.template.spec.containers", [{"name": "c", "image": "nginx:2"}]),
            "spec.replicas",
            0,
        )
    )
    assert pods(sandbox) == []


def test_deleting_a_workload_deletes_its_pods(sandbox: Sandbox) -> None:
    live = sandbox.apply(workload("DaemonSet", "agent"))
    assert len(pods(sandbox)) == 1  # one per (fake) node
    sandbox.delete(ObjectRef.of(live))
    assert pods(sandbox) == []


def test_a_job_creates_its_pods_and_a_failing_image_shows_on_them(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=0.0, fail_images=("*bad*",))) as sb:
        sb.apply(workload("Job", "migrate"))
        (pod,) = sb.list("v1", "Pod", "default", {"job-name": "migrate"})
        assert pod["status"]["phase"] == "Succeeded"
        assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
        sb.apply(workload("Deployment", "broken", template=pod_template("broken", "bad:1")))
        (stuck,) = sb.list("v1", "Pod", "default", {"app": "broken"})
        waiting = stuck["status"]["containerStatuses"][0]["state"]["waiting"]
        assert waiting["reason"] == "ImagePullBackOff"


def test_a_statefulset_creates_ordinal_pods_and_a_pvc_per_template_and_ordinal(sandbox: Sandbox) -> None:
    claim = {"metadata": {"name": "data"}, "spec": pvc()["spec"]}
    logs = {"metadata": {"name": "logs"}, "spec": pvc(storage="5Gi")["spec"]}
    sts = workload("StatefulSet", "db", replicas=2, volumeClaimTemplates=[claim, logs])
    live = sandbox.apply(sts)
    assert sorted(p["metadata"]["name"] for p in pods(sandbox)) == ["db-0", "db-1"]
    claims = {c["metadata"]["name"]: c for c in sandbox.list("v1", "PersistentVolumeClaim", "default")}
    assert sorted(claims) == ["data-db-0", "data-db-1", "logs-db-0", "logs-db-1"]
    assert claims["logs-db-1"]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert claims["data-db-0"]["metadata"]["labels"] == {"app": "db"}
    assert claims["data-db-0"]["status"]["phase"] == "Bound"
    sandbox.apply(changed(sts, "spec.replicas", 3))
    assert "data-db-2" in {
        c["metadata"]["name"] for c in sandbox.list("v1", "PersistentVolumeClaim", "default")
    }
    sandbox.apply(changed(sts, "spec.replicas", 1))
    assert [p["metadata"]["name"] for p in pods(sandbox)] == ["db-0"]
    sandbox.delete(ObjectRef.of(live))
    # The default retention policy keeps the claims (their data) when the set goes.
    assert len(sandbox.list("v1", "PersistentVolumeClaim", "default")) == 6


# ----------------------------------------------------------------------------- HelmRelease
def helm(chart: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "apiVersion": "pyvela.dev/v1alpha1",
        "kind": "HelmRelease",
        "metadata": {"name": "cache"},
        "spec": {"chart": chart},
    }


def test_a_helm_release_of_a_missing_local_chart_fails(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ClusterError, match=r"local chart './charts/cache' does not exist") as err:
        sandbox.apply(helm({"name": "./charts/cache"}))
    assert str(tmp_path / "charts" / "cache") in str(err.value)
    with pytest.raises(ClusterError, match="does not exist"):
        sandbox.apply(helm({"name": "cache", "repoType": "local", "repoURL": str(tmp_path / "charts")}))
    (tmp_path / "charts" / "cache").mkdir(parents=True)
    sandbox.apply(helm({"name": "./charts/cache"}))
    sandbox.apply(helm({"name": "cache", "repoType": "local", "repoURL": str(tmp_path / "charts")}))


def test_a_helm_release_from_a_repository_is_not_checked_locally(sandbox: Sandbox) -> None:
    sandbox.apply(helm({"name": "redis", "repoURL": "https://charts.example.com"}))
    sandbox.apply(helm("redis-cluster"))


def test_objects_owned_by_a_replaced_pod_are_collected(sandbox: Sandbox) -> None:
    obj = workload("Deployment", "web")
    sandbox.apply(obj)
    (pod,) = pods(sandbox)
    owner = {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": pod["metadata"]["name"],
        "uid": pod["metadata"]["uid"],
    }
    sandbox.apply({**cm_owned_by(owner)})
    sandbox.apply(changed(obj, "spec.template.spec.containers", [{"name": "c", "image": "nginx:2"}]))
    assert sandbox.get(ObjectRef("v1", "ConfigMap", "default", "pod-cfg")) is None


def cm_owned_by(owner: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": "pod-cfg", "ownerReferences": [owner]}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}}


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_a_workload_needs_a_selector_that_matches_its_template(sandbox: Sandbox, kind: str) -> None:
    missing = workload(kind)
    del missing["spec"]["selector"]
    with pytest.raises(ClusterError, match=r"spec.selector: Required value"):
        sandbox.apply(missing)
    other = changed(workload(kind), "spec.selector", {"matchLabels": {"app": "other"}})
    with pytest.raises(ClusterError, match="`selector` does not match template `labels`"):
        sandbox.apply(other)
    expr = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["w", "x"]}]}
    sandbox.apply(changed(workload(kind), "spec.selector", expr))


def test_a_pod_may_change_only_its_images_and_a_few_fields(sandbox: Sandbox) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": pod_template("p")["spec"]}
    sandbox.apply(pod)
    sandbox.apply(changed(pod, "spec.containers", [{"name": "c", "image": "nginx:2"}]))
    sandbox.apply(
        changed(
            changed(pod, "spec.containers", [{"name": "c", "image": "nginx:2"}]),
            "spec.activeDeadlineSeconds",
            60,
        )
    )
    with pytest.raises(ClusterError, match="spec: Forbidden: pod updates may not change fields other than"):
        sandbox.apply(changed(pod, "spec.containers", [{"name": "c", "image": "nginx:2", "args": ["-x"]}]))


def test_update_refusals_are_immutable_field_errors_as_on_a_real_cluster(sandbox: Sandbox) -> None:
    sts = workload("StatefulSet", "db")
    sandbox.apply(sts)
    with pytest.raises(ImmutableFieldError):
        sandbox.apply(changed(sts, "spec.serviceName", "other"))
    sandbox.apply(pvc(storage="1Gi"))
    with pytest.raises(ImmutableFieldError):
        sandbox.apply(pvc(storage="1Gi", storageClassName="fast"))
    job = workload("Job", "migrate")
    sandbox.apply(job)
    with pytest.raises(ImmutableFieldError):
        sandbox.apply(changed(job, "spec.template.spec.containers", [{"name": "c", "image": "nginx:2"}]))
