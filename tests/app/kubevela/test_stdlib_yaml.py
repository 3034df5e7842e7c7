"""A KubeVela app of standard definitions and a policy, in YAML and in Python: the same app
(spec, revision) and the same objects; camelCase names at every depth, ``class`` for ``class_``."""

from __future__ import annotations

from pathlib import Path

from pyvela import load_app
from pyvela._app.render import render_component
from tests.app.kubevela.conftest import WriteYaml
from tests.runner_helpers import ops_for, sandbox

YAML = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: shop-ns}
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.27
        exposeType: NodePort
        ports:
          - port: 80
            expose: true
        env:
          - name: TOKEN
            valueFrom:
              secretKeyRef: {name: creds, key: token}
        labels: {camelCaseLabel: kept-as-written}
      traits:
        - type: scaler
          properties: {replicas: 3}
        - type: gateway
          properties:
            domain: shop.example.com
            class: traefik
            http: {"/": 80}
  policies:
    - name: keep-web
      type: garbage-collect
      properties:
        keepLegacyResource: true
        rules:
          - selector: {componentNames: [web]}
            strategy: never
"""

PYTHON = """
from pyvela import Application, GarbageCollectRule, RuleSelector, garbage_collect
from pyvela.stdlib import EnvValueFrom, EnvVar, KeyRef, Port, gateway, scaler, webservice

web = webservice(
    "web",
    image="nginx:1.27",
    expose_type="NodePort",
    ports=(Port(port=80, expose=True),),
    env=(EnvVar(name="TOKEN", value_from=EnvValueFrom(secret_key_ref=KeyRef(name="creds", key="token"))),),
    labels={"camelCaseLabel": "kept-as-written"},
).with_traits(scaler(replicas=3), gateway(domain="shop.example.com", class_="traefik", http={"/": 80}))
keep = garbage_collect(
    "keep-web",
    keep_legacy_resource=True,
    rules=(GarbageCollectRule(selector=RuleSelector(component_names=("web",)), strategy="never"),),
)
app = Application("shop", components=[web], policies=[keep], namespace="shop-ns")
"""


def _objects(path: Path) -> list[dict[str, object]]:
    loaded = load_app(path, defs=["platform_defs"])
    return [
        o.object
        for use in loaded.app.components
        for o in render_component(loaded.app, use, revision=loaded.revision).objects
    ]


def test_yaml_and_python_are_the_same_app(write_yaml: WriteYaml, tmp_path: Path) -> None:
    from_yaml = write_yaml(YAML)
    from_python = tmp_path / "shop.py"
    from_python.write_text(PYTHON)
    y, p = load_app(from_yaml, defs=["platform_defs"]), load_app(from_python, defs=["platform_defs"])
    assert y.spec == p.spec and y.revision == p.revision
    assert _objects(from_yaml) == _objects(from_python)
    assert {str(o["kind"]) for o in _objects(from_yaml)} == {"Deployment", "Ingress", "Service"}


def test_it_deploys_on_the_sandbox(write_yaml: WriteYaml, tmp_path: Path) -> None:
    result = ops_for(write_yaml(YAML), sandbox(tmp_path / "sb"), defs=["platform_defs"]).deploy()
    assert result.ok, result.to_dict()


def test_labels_and_annotations_take_the_whole_properties(write_yaml: WriteYaml) -> None:
    path = write_yaml("""
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: tagged}
        spec:
          components:
            - name: web
              type: webservice
              properties: {image: nginx:1.27}
              traits:
                - type: labels
                  properties: {team: shop, tier: front}
                - type: annotations
                  properties:
                    annotations: {owner: ops}
                - type: json-merge-patch
                  properties:
                    spec: {replicas: 4}
    """)
    loaded = load_app(path, defs=["platform_defs"])
    labels, annotations, patch = (t.params for t in loaded.app.components[0].traits)
    assert dict(labels.labels) == {"team": "shop", "tier": "front"}
    assert dict(annotations.annotations) == {"owner": "ops"}  # written as the parameter: kept
    assert dict(patch.patch) == {"spec": {"replicas": 4}}
    [deployment] = [o for o in _objects(path) if o["kind"] == "Deployment"]
    assert deployment["metadata"]["labels"]["team"] == "shop" and deployment["spec"]["replicas"] == 4
