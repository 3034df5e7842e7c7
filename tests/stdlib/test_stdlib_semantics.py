"""KubeVela semantics the golden files do not show: patch strategies, defaults, errors."""

from __future__ import annotations

from typing import Any

import pytest
from stdlib_support import render_components, workload

from pyvela import errors
from pyvela import stdlib as s


def pod(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def main(obj: dict[str, Any], index: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = pod(obj)["containers"][index]
    return found


def test_add_revision_label_labels_the_pods_with_the_app_revision() -> None:
    labels = workload(s.webservice("w", image="i", add_revision_label=True))["spec"]["template"]["metadata"][
        "labels"
    ]
    assert labels["app.oam.dev/revision"].startswith("t-")
    assert labels["app.oam.dev/component"] == "w" and labels["app.oam.dev/name"] == "t"


def test_no_exposed_port_no_service_and_empty_volume_mounts_render_empty_lists() -> None:
    objs = render_components(
        s.webservice("w", image="i", ports=(s.Port(port=80),), volume_mounts=s.VolumeMounts())
    )
    assert [o["kind"] for o in objs] == ["Deployment"]
    assert main(objs.objects[0])["volumeMounts"] == [] and pod(objs.objects[0])["volumes"] == []


def test_volume_mounts_win_over_the_deprecated_volumes() -> None:
    w = workload(
        s.webservice(
            "w",
            image="i",
            volumes=(s.Volume(name="old", mount_path="/old"),),
            volume_mounts=s.VolumeMounts(empty_dir=(s.EmptyDirMount(name="new", mount_path="/new"),)),
        )
    )
    assert [v["name"] for v in pod(w)["volumes"]] == ["new"]


def test_webservice_node_port_only_with_node_port_type() -> None:
    objs = render_components(
        s.webservice("w", image="i", ports=(s.Port(port=80, expose=True, node_port=30080),))
    )
    assert "nodePort" not in objs.get("Service", "w")["spec"]["ports"][0]


def test_a_trait_naming_a_missing_container_fails_like_kubevela() -> None:
    with pytest.raises(errors.RenderError, match="container nope not found"):
        render_components(
            s.webservice("w", image="i").with_traits(s.env(container_name="nope", env={"A": "1"}))
        )


def test_env_replace_drops_the_old_variables_and_unset_removes_new_ones() -> None:
    base = s.webservice("w", image="i", env=(s.EnvVar(name="A", value="1"), s.EnvVar(name="B", value="2")))
    w = workload(base.with_traits(s.env(replace=True, env={"B": "20", "C": "3"}, unset=("C",))))
    assert main(w)["env"] == [{"name": "B", "value": "20"}]
    w = workload(s.webservice("w", image="i").with_traits(s.env(env={"X": "1"}, unset=("X",))))
    assert main(w)["env"] == []


def test_command_args_replace_and_an_untouched_container_gets_empty_args() -> None:
    base = s.webservice("w", image="i", cmd=("run",), args=("--a",))
    w = workload(base.with_traits(s.command(args=("--b",))))
    assert (main(w)["command"], main(w)["args"]) == (["run"], ["--b"])
    w = workload(s.webservice("w", image="i").with_traits(s.command(command=("sh",))))
    assert (main(w)["command"], main(w)["args"]) == (["sh"], [])


def test_container_ports_keeps_the_base_ports_fields_it_knows_and_adds_new_ones() -> None:
    w = workload(
        s.webservice("w", image="i", port=8080).with_traits(
            s.container_ports(ports=(s.ContainerPort(container_port=8080, host_ip="0.0.0.0", host_port=80),))
        )
    )
    assert main(w)["ports"] == [{"containerPort": 8080, "hostPort": 80, "hostIP": "0.0.0.0"}]


def test_resource_requests_replace_the_containers_requests_and_keep_its_limits() -> None:
    base = s.webservice("w", image="i", cpu="1", memory="1Gi")
    w = workload(base.with_traits(s.resource(requests=s.ResourceAmounts(cpu="250m", memory="64Mi"))))
    assert main(w)["resources"] == {
        "requests": {"cpu": "250m", "memory": "64Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_resource_lands_on_the_first_container() -> None:
    base = s.webservice("w", image="i").with_traits(
        s.sidecar(name="first", image="x"),
        s.resource(cpu=2, memory="1Gi"),
    )
    w = workload(base)
    assert "resources" in main(w, 0) and "resources" not in main(w, 1)


def test_resource_with_only_cpu_sets_only_cpu() -> None:
    w = workload(s.webservice("w", image="i", memory="1Gi").with_traits(s.resource(cpu="500m")))
    assert main(w)["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "500m", "memory": "1Gi"},
    }


def test_labels_none_removes_a_label_and_never_writes_a_null() -> None:
    w = workload(
        s.webservice("w", image="i", labels={"gone": "x"}).with_traits(s.labels(labels={"gone": None}))
    )
    assert "gone" not in w["spec"]["template"]["metadata"]["labels"]
    assert None not in w["metadata"]["labels"].values()


def test_annotations_reach_a_jobs_pod_template() -> None:
    w = workload(s.task("t", image="i").with_traits(s.annotations(annotations={"a": "1"})))
    assert w["metadata"]["annotations"] == {"a": "1"}
    assert w["spec"]["template"]["metadata"]["annotations"] == {"a": "1"}


def test_update_strategy_retains_only_its_keys_and_skips_what_the_kind_lacks() -> None:
    rolling = s.k8s_update_strategy()
    recreate = s.k8s_update_strategy(strategy=s.UpdateStrategy(type="Recreate"))
    w = workload(s.webservice("w", image="i").with_traits(rolling, recreate))
    assert w["spec"]["strategy"] == {"type": "Recreate"}
    on_delete = s.k8s_update_strategy(strategy=s.UpdateStrategy(type="OnDelete"))
    assert "strategy" not in workload(s.webservice("w", image="i").with_traits(on_delete))["spec"]
    stateful = s.k8s_update_strategy(target_kind="StatefulSet", strategy=s.UpdateStrategy(type="Recreate"))
    assert "updateStrategy" not in workload(s.webservice("w", image="i").with_traits(stateful))["spec"]


def test_gateway_with_an_existing_service_creates_none() -> None:
    objs = render_components(
        s.webservice("w", image="i").with_traits(s.gateway(http={"/": 80}, existing_service_name="x"))
    )
    assert [o["kind"] for o in objs] == ["Deployment", "Ingress"]
    backend = objs.get("Ingress", "w")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "x", "port": {"number": 80}}}


def test_a_sidecar_of_an_existing_name_merges_into_that_container() -> None:
    w = workload(s.webservice("w", image="i", cmd=("serve",)).with_traits(s.sidecar(name="w", image="j")))
    assert len(pod(w)["containers"]) == 1
    assert (main(w)["image"], main(w)["command"]) == ("j", ["serve"])


def test_scaler_refuses_a_daemonset_as_kubevela_declares() -> None:
    with pytest.raises(errors.PyvelaError, match="cannot be attached to a DaemonSet"):
        render_components(s.daemon("d", image="i").with_traits(s.scaler(replicas=2)))


def test_service_account_without_privileges_only_sets_the_account() -> None:
    objs = render_components(s.worker("w", image="i").with_traits(s.service_account(name="existing")))
    assert [o["kind"] for o in objs] == ["Deployment"]
    assert pod(objs.objects[0])["serviceAccountName"] == "existing"


def test_cluster_scoped_rbac_objects_get_no_namespace() -> None:
    privilege = s.Privilege(verbs=("get",), resources=("nodes",), scope="cluster")
    objs = render_components(
        s.worker("w", image="i").with_traits(s.service_account(name="sa", privileges=(privilege,))),
        namespace="ops",
    )
    role = objs.get("ClusterRole", "ops:sa")
    assert "namespace" not in role["metadata"]
    assert objs.get("ClusterRoleBinding", "ops:sa")["subjects"][0]["namespace"] == "ops"
