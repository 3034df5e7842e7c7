"""Rendering the seed: the objects of its kube templates, with the env fix, labels and traits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pyvela import merge
from pyvela.errors import RenderError
from pyvela.testing import assert_golden, render
from tests.conftest import ROOT

SEED = ROOT / "tests" / "seed" / "component-definitions.yaml"  # a copy of ../shared/seed/kubevela
APPS = sorted((ROOT / "apps").glob("*.py"))


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.stem)
def test_golden_files(app: Path) -> None:
    assert_golden(app, ROOT / "tests" / "golden" / f"{app.stem}.yaml")


def _seed_templates() -> dict[str, dict]:  # type: ignore[type-arg]
    docs = yaml.safe_load_all(SEED.read_text())
    return {d["metadata"]["name"]: d["spec"]["schematic"]["kube"]["template"] for d in docs}


def _without_pyvela_labels(obj: dict) -> dict:  # type: ignore[type-arg]
    labels = obj["metadata"]["labels"]
    for key in list(labels):
        if key.startswith(("app.oam.dev/", "trait.oam.dev/", "app.kubernetes.io/")):
            del labels[key]
    obj["metadata"].pop("namespace")
    return obj


def test_workloads_are_the_seed_templates_with_parameters_set_by_name() -> None:
    seed = _seed_templates()
    objs = render("apps/lixiang.py")
    for name in ("base-service", "proxy-service"):
        kind = "Deployment" if name == "base-service" else "Rollout"
        got = _without_pyvela_labels(objs.get(kind, name))
        want = seed[name]
        # What the seed's parameters write (by position there, by name here):
        want["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.14.2"
        want["spec"]["template"]["metadata"]["labels"]["cluster"] = "default"
        assert got == want


def test_cluster_lands_in_runtime_cluster_for_both_services_not_env_5() -> None:
    from platform_defs import base_service, proxy_service
    from pyvela import Application

    app = Application(
        "t",
        components=[
            base_service("base-service", image="i", cluster="prod-sh"),
            proxy_service("proxy-service", image="i", cluster="prod-sh"),
        ],
    )
    from pyvela._app.render import render_app

    for rc in render_app(app):
        env = rc.workload["spec"]["template"]["spec"]["containers"][0]["env"]
        by_name = {e["name"]: e.get("value") for e in env}
        assert by_name["RUNTIME_CLUSTER"] == "prod-sh"
        assert env[5]["name"] == "LOG_BASE" and env[5]["value"] != "prod-sh"  # the seed's env[5] bug
        assert rc.workload["spec"]["template"]["metadata"]["labels"]["cluster"] == "prod-sh"


def test_ingress_trait_objects_labels_and_context() -> None:
    objs = render("apps/lixiang.py", component="base-service")
    svc = objs.get("Service", "base-service")
    ing = objs.get("Ingress", "base-service-ingress")
    assert svc["spec"] == {
        "selector": {"app": "base-service"},
        "ports": [{"protocol": "TCP", "port": 11001, "targetPort": 11001}],
    }
    rule = ing["spec"]["rules"][0]
    assert rule["host"] == "base-service.dev.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": "base-service",
        "port": {"number": 11001},
    }
    for obj in objs:
        labels = obj["metadata"]["labels"]
        assert (
            labels["app.oam.dev/name"] == "lixiang-app" and labels["app.oam.dev/component"] == "base-service"
        )
        assert labels["app.kubernetes.io/managed-by"] == "pyvela"
        assert obj["metadata"]["namespace"] == "default"
    assert svc["metadata"]["labels"]["trait.oam.dev/type"] == "ingress"
    assert svc["metadata"]["labels"]["trait.oam.dev/resource"] == "service"
    # The seed routes to ports no container exposes: said, not silently accepted.
    assert any("targets port 11001" in w for w in objs.warnings)


def test_helm_component_describes_a_release() -> None:
    release = render("apps/lixiang.py", component="redis").get("HelmRelease", "redis")
    assert release["apiVersion"] == "pyvela.dev/v1alpha1"
    assert release["spec"]["chart"] == {
        "name": "redis-cluster",
        "version": "6.2.7",
        "repoURL": "https://charts.bitnami.com/bitnami",
        "repoType": "helm",
    }


def test_merge_by_key() -> None:
    base = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "image": "x",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        },
                        {"name": "b", "image": "y"},
                    ]
                }
            }
        }
    }
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]},
                    ]
                }
            }
        }
    }
    out = merge(base, patch)
    a, b = out["spec"]["template"]["spec"]["containers"]
    assert a["image"] == "x" and a["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C", "value": "4"},
    ]
    assert b == {"name": "b", "image": "y"}
    assert base["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] == "2"  # not modified
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}
    with pytest.raises(RenderError, match="every item must have 'name'"):
        merge(base, {"spec": {"template": {"spec": {"containers": [{"image": "z"}]}}}})


def test_render_errors_name_the_component_and_definition_line() -> None:
    import attrs

    import pyvela
    from pyvela._app.render import render_component

    @attrs.frozen(kw_only=True)
    class P:
        n: int

    @pyvela.component(name="buggy", params=P, workload=pyvela.WorkloadType(api_version="v1", kind="Pod"))
    def buggy(p: P, ctx: pyvela.ComponentContext) -> pyvela.Obj:
        return {"kind": "Pod"}["missing"]  # type: ignore[return-value]

    app = pyvela.Application("x", components=[buggy("c", n=1)])
    with pytest.raises(RenderError) as info:
        render_component(app, app.components[0])
    assert info.value.context["component"] == "c" and info.value.context["definition"] == "buggy"
    assert info.value.where is not None and info.value.where.file == __file__
