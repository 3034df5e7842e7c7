"""KubeVela YAML apps with KubeVela's own multi-cluster shapes: topology, override (camelCase
properties converted per component class, traits changed and disabled), replication, the
deploy step's ``policies``, and the generated deploy-per-topology workflow; run on named
sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvela import ComponentPatch, load_app
from pyvela._core.placement import override_components
from pyvela.errors import DanglingReferenceError, ParameterError, UnknownDefinitionError
from tests.app.kubevela.conftest import DEFS, WriteYaml, line_of
from tests.multicluster_world import World
from tests.runner_helpers import ops_for

APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: shop}
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1
        ports: [{port: 80, expose: true}]
      traits:
        - type: scaler
          properties: {replicas: 1}
        - type: labels
          properties: {tier: front}
    - name: jobs
      type: worker
      properties: {image: busybox:1}
  policies:
    - name: prod
      type: topology
      properties:
        clusterLabelSelector: {env: prod}
    - name: beijing
      type: topology
      properties:
        clusters: ["sandbox:bj"]
        namespace: north
    - name: ha
      type: override
      properties:
        components:
          - name: web
            properties:
              image: nginx:2
              imagePullPolicy: Always
              ports: [{port: 8080, expose: true}]
            traits:
              - type: scaler
                properties: {replicas: 3}
              - type: labels
                disable: true
          - type: worker
            properties: {image: busybox:2}
  workflow:
    steps:
      - name: everywhere
        type: deploy
        properties: {policies: [prod], parallelism: 2}
      - name: north
        type: deploy
        properties:
          policies: [beijing, ha]
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def test_an_override_policy_is_converted_against_each_component_class(write_yaml: WriteYaml) -> None:
    loaded = load_app(write_yaml(APP), defs=DEFS)
    ha = next(p for p in loaded.app.policies if p.name == "ha")
    web_patch, jobs_patch = ha.params.components
    assert isinstance(web_patch, ComponentPatch) and web_patch.name == "web"
    assert web_patch.properties["image_pull_policy"] == "Always"
    assert web_patch.properties["ports"][0].port == 8080  # a Port, as the webservice takes it
    assert [(t.type, t.disable) for t in web_patch.traits] == [("scaler", False), ("labels", True)]
    assert jobs_patch.type == "worker" and jobs_patch.properties == {"image": "busybox:2"}
    web, jobs = override_components(loaded.app.components, [ha], loaded.catalogue.get)
    assert web.params.image == "nginx:2" and web.params.ports[0].port == 8080
    assert [t.definition.name for t in web.traits] == ["scaler"]
    assert web.traits[0].params.replicas == 3
    assert jobs.params.image == "busybox:2"


def test_the_deploy_steps_deploy_per_cluster(write_yaml: WriteYaml, world: World) -> None:
    path = write_yaml(APP)
    result = ops_for(path, world.fleet(), defs=DEFS).deploy()
    assert result.ok, result.steps
    sh = world.deployment("sandbox:sh", "web")
    north = world.deployment("sandbox:bj", "web", namespace="north")
    assert sh is not None and north is not None
    assert sh["spec"]["replicas"] == 1 and north["spec"]["replicas"] == 3
    container = north["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:2" and container["imagePullPolicy"] == "Always"
    assert "tier" not in (north["metadata"].get("labels") or {})  # the labels trait disabled there
    assert (sh["metadata"].get("labels") or {}).get("tier") == "front"
    worker = world.deployment("sandbox:bj", "jobs", namespace="north")
    assert worker is not None and worker["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"


def test_without_a_workflow_each_topology_gets_a_deploy_step_with_the_overrides(
    write_yaml: WriteYaml, world: World
) -> None:
    text = APP[: APP.index("  workflow:")]
    loaded = load_app(write_yaml(text), defs=DEFS)
    assert loaded.plan.order == ("deploy-prod", "deploy-beijing")
    assert loaded.plan.steps["deploy-beijing"].use.params.policies == ("ha", "beijing")
    result = ops_for(write_yaml(text), world.fleet(), defs=DEFS).deploy()
    assert result.ok, result.steps
    # The override applies to every topology's deploy when KubeVela generates them.
    live = world.deployment("sandbox:sh", "web")
    assert live is not None and live["spec"]["replicas"] == 3


def test_replication_in_yaml(write_yaml: WriteYaml, world: World) -> None:
    path = write_yaml(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: shop, namespace: shop}
        spec:
          components:
            - {name: api, type: regional, properties: {image: "api:1"}}
          policies:
            - {name: there, type: topology, properties: {clusters: ["sandbox:gz"]}}
            - {name: zones, type: replication, properties: {keys: [x, y], selector: [api]}}
          workflow:
            steps:
              - {name: ship, type: deploy, properties: {policies: [there, zones]}}
        """
    )
    result = ops_for(path, world.fleet(), defs=[*DEFS, "tests.multicluster_defs"]).deploy()
    assert result.ok, result.steps
    assert world.deployment("sandbox:gz", "api-x") is not None
    assert world.deployment("sandbox:gz", "api-y") is not None


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (
            ("- name: web\n            properties:", "- name: wbe\n            properties:"),
            DanglingReferenceError,
            "matches no",
        ),
        (("imagePullPolicy: Always", "imagePullPolicyy: Always"), ParameterError, "unknown property"),
        (
            (
                "- type: labels\n                disable: true",
                "- type: lables\n                disable: true",
            ),
            UnknownDefinitionError,
            "lables",
        ),
        (
            ("policies: [prod], parallelism", "policies: [prd], parallelism"),
            DanglingReferenceError,
            "policy 'prd'",
        ),
        (("policies: [prod], parallelism", "policies: [ha2], parallelism"), DanglingReferenceError, "'ha2'"),
    ],
)
def test_mistakes_are_reported_with_their_line(
    write_yaml: WriteYaml, change: tuple[str, str], error: type[Exception], words: str
) -> None:
    assert change[0] in APP
    path = write_yaml(APP.replace(*change))
    with pytest.raises(error, match=words) as info:
        load_app(path, defs=DEFS)
    assert f"{path}:" in str(info.value)
    if error is ParameterError:
        assert f"{path}:{line_of(path, 'imagePullPolicyy')}" in str(info.value)


def test_a_multi_cluster_app_converts_to_python_with_the_same_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyvela._cli.main import main

    src = tmp_path / "shop.yaml"
    src.write_text(APP)
    assert main(["convert", str(src), "-o", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    text = (tmp_path / "out" / "shop.py").read_text()
    assert "ComponentPatch(" in text and "TraitPatch(" in text and "topology(" in text
    from_python, from_yaml = load_app(tmp_path / "out" / "shop.py"), load_app(src)
    assert from_python.spec == from_yaml.spec and from_python.revision == from_yaml.revision
