"""Parameter validation of every standard definition: wrong types, nested values, cross-field rules."""

from __future__ import annotations

import re
from typing import Any

import attrs
import pytest

from pyvela import ComponentDefinition, TraitDefinition
from pyvela import stdlib as s
from pyvela.errors import ParameterError

#: The fewest parameters each definition needs.
REQUIRED: dict[str, dict[str, Any]] = {
    "webservice": {"image": "i"},
    "worker": {"image": "i"},
    "statefulset": {"image": "i"},
    "helm": {"chart": "c", "url": "https://charts.example.com"},
    "helmchart": {"chart": s.ChartSource(source="c", repo_url="https://charts.example.com")},
    "ref-objects": {"objects": (s.ObjectSelector(resource="secret"),)},
    "daemon": {"image": "i"},
    "task": {"image": "i"},
    "cron-task": {"image": "i", "schedule": "* * * * *"},
    "gateway": {"http": {"/": 80}},
    "labels": {"labels": {"a": "b"}},
    "annotations": {"annotations": {"a": "b"}},
    "container-image": {"image": "i"},
    "pure-ingress": {"domain": "d", "http": {"/": 80}},
    "ingress-1-20": {"domain": "d", "http": {"/": 80}},
    "sidecar": {"name": "n", "image": "i"},
    "init-container": {"name": "n", "image": "i", "app_mount_path": "/a", "init_mount_path": "/b"},
    "hostalias": {"host_aliases": ()},
    "service-account": {"name": "sa"},
    "topologyspreadconstraints": {"constraints": ()},
    "nocalhost": {"port": 8080, "image": "go"},
    "json-merge-patch": {"patch": {}},
    "json-patch": {"operations": ()},
    "k8s-objects": {"objects": ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},)},
}

DEFINITIONS: list[Any] = [
    v for v in (getattr(s, n) for n in s.__all__) if isinstance(v, ComponentDefinition | TraitDefinition)
]
CASES = [(d, f.alias or f.name) for d in DEFINITIONS for f in attrs.fields(d.params)]


class Wrong:
    """A value of no parameter's type."""

    def __repr__(self) -> str:
        return "Wrong()"


def call(definition: Any, **params: Any) -> Any:
    given = {**REQUIRED.get(definition.name, {}), **params}
    if isinstance(definition, ComponentDefinition):
        return definition("c", **given)
    return definition(**given)


def test_every_definition_is_covered() -> None:
    names = sorted(d.name for d in DEFINITIONS)
    assert len(names) == 39
    assert "webservice" in names and "gateway" in names


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_minimal_parameters_are_accepted(definition: Any) -> None:
    assert call(definition).params is not None


@pytest.mark.parametrize(("definition", "param"), CASES, ids=[f"{d.name}.{p}" for d, p in CASES])
def test_a_wrong_type_is_a_parameter_error(definition: Any, param: str) -> None:
    with pytest.raises(ParameterError) as err:
        call(definition, **{param: Wrong()})
    assert err.value.context.get("parameter") == param or param in str(err.value)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_an_unknown_parameter_is_refused(definition: Any) -> None:
    with pytest.raises(ParameterError, match="unknown parameter"):
        call(definition, no_such_parameter=1)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.webservice("c", image="i", env=(s.EnvVar(name=3),)), "env[0].name"),  # type: ignore[arg-type]
        (lambda: s.webservice("c", image="i", ports=(s.Port(port="80"),)), "ports[0].port"),  # type: ignore[arg-type]
        (
            lambda: s.webservice(
                "c",
                image="i",
                volume_mounts=s.VolumeMounts(pvc=(s.PvcMount(name="a", mount_path="/a", claim_name=1),)),  # type: ignore[arg-type]
            ),
            "volume_mounts.pvc[0].claim_name",
        ),
        (lambda: s.worker("c", image="i", cmd=("a", 2)), "cmd"),  # type: ignore[arg-type]
        (lambda: s.webservice("c", image="i", expose_type="Ingress"), "expose_type"),  # type: ignore[arg-type]
        (lambda: s.gateway(http={"/": "80"}), "http"),  # type: ignore[dict-item]
        (lambda: s.hpa(cpu=s.ResourceTarget(type="Percent")), "cpu.type"),  # type: ignore[arg-type]
        (
            lambda: s.task(
                "c", image="i", liveness_probe=s.HealthProbe(http_get=s.HttpGetAction(path="/", port="x"))
            ),  # type: ignore[arg-type]
            "liveness_probe.http_get.port",
        ),
    ],
)
def test_nested_values_are_checked_at_the_call_site(make: Any, words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)
    assert "test_stdlib_params.py" in str(err.value.where)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda: s.webservice("c", image="i", volumes=(s.Volume(name="v", mount_path="/v", type="pvc"),)),
            "claim_name",
        ),
        (
            lambda: s.webservice("c", image="i", volumes=(s.Volume(name="v", mount_path="/v", cm_name="x"),)),
            "only for type 'configMap'",
        ),
        (lambda: s.command(args=("a",), add_args=("b",)), "cannot set add_args/del_args and args"),
        (lambda: s.env(env={"A": "1"}, containers=(s.EnvPatch(container_name="x"),)), "cannot be combined"),
        (lambda: s.container_image(), "either image"),
        (lambda: s.container_image(image="i", containers=()), "either image"),
        (lambda: s.resource(memory="lots"), "not a quantity"),
        (lambda: s.resource(requests=s.ResourceAmounts(memory="2GB")), "not a quantity"),
        (lambda: s.gateway(http={"/": 80}, secret_name="tls"), "needs a domain"),
        (lambda: s.podsecuritycontext(seccomp_profile=s.Profile(type="Localhost")), "localhost_profile"),
        (
            lambda: s.podsecuritycontext(
                seccomp_profile=s.Profile(type="RuntimeDefault", localhost_profile="p")
            ),
            "localhost_profile",
        ),
        (
            lambda: s.lifecycle(post_start=s.LifecycleHandler(tcp_socket=s.LifecycleTcpSocket(port=70000))),
            "1-65535",
        ),
        (
            lambda: s.affinity(
                node_affinity=s.NodeAffinity(
                    preferred=(s.PreferredNode(weight=0, preference=s.NodeSelectorTerm()),)
                )
            ),
            "not in 1-100",
        ),
        (
            lambda: s.storage(
                pvc=(
                    s.StoragePvc(
                        name="p",
                        mount_path="/p",
                        resources=s.PvcResources(requests=s.StorageAmount(storage="big")),
                    ),
                )
            ),
            "not a quantity",
        ),
        (lambda: s.startup_probe(period_seconds=3, probes=()), "cannot be combined with probes"),
    ],
)
def test_cross_field_rules(make: Any, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        make()


def test_defaults_are_kubevelas() -> None:
    ws = s.webservice("c", image="i").params
    assert (ws.expose_type, ws.add_revision_label) == ("ClusterIP", False)
    cron = s.cron_task("c", image="i", schedule="@daily").params
    assert (cron.concurrency_policy, cron.successful_jobs_history_limit, cron.failed_jobs_history_limit) == (
        "Allow",
        3,
        1,
    )
    assert (cron.backoff_limit, cron.restart, cron.count, cron.suspend) == (6, "Never", 1, False)
    assert s.HealthProbe().period_seconds == 10 and s.HealthProbe().failure_threshold == 3
    assert s.ConfigMapMount(name="a", mount_path="/a", cm_name="c").default_mode == 420
    assert s.KeyToPath(key="k", path="p").mode == 511
    assert s.scaler().params.replicas == 1
    g = s.gateway(http={"/": 80}).params
    assert (g.class_, g.class_in_spec, g.path_type) == ("nginx", False, "ImplementationSpecific")
    h = s.hpa().params
    assert (h.min, h.max, h.cpu.type, h.cpu.value, h.target_kind) == (1, 10, "Utilization", 50, "Deployment")
    assert s.cpuscaler().params.cpu_util == 50
    assert s.init_container(**REQUIRED["init-container"]).params.mount_name == "workdir"
    assert s.ResourceAmounts() == s.ResourceAmounts(cpu=1, memory="2048Mi")


def test_every_parameter_is_documented() -> None:
    for definition in DEFINITIONS:
        for name, entry in definition.schema().items():
            assert entry.get("description"), f"{definition.name}.{name} has no description"
        # v1.10.1's templates; statefulset and helmchart are from KubeVela's main branch, helm
        # from the FluxCD addon (kubevela/catalog): each docstring names its file.
        assert re.search(
            r"Follows (KubeVela v1\.10\.1 vela-templates/definitions/(internal|deprecated)/|vela-templates/"
            r"definitions/internal/component/\S+ of KubeVela's main|kubevela/catalog addons/fluxcd/)",
            " ".join(definition.description.split()),
        ), definition.name
