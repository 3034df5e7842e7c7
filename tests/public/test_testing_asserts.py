"""pyvela.testing's assertions: a failure names the object and each differing field by its path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyvela.testing import assert_fields, assert_golden, assert_object, differences

DEPLOY: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {"name": "sidecar", "image": "envoy:1.30", "args": ["-c", "/etc/envoy.yaml"]},
                    {"name": "web", "image": "nginx:1.27", "resources": {"limits": {"cpu": "500m"}}},
                ]
            }
        },
    },
}


def message(call: Any, *args: Any) -> str:
    with pytest.raises(AssertionError) as info:
        call(*args)
    return str(info.value)


def test_assert_fields_checks_only_what_it_names_and_finds_containers_by_name() -> None:
    assert_fields(DEPLOY, {"spec": {"replicas": 2}})
    assert_fields(
        DEPLOY, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}
    )
    text = message(
        assert_fields,
        DEPLOY,
        {
            "spec": {
                "replicas": 3,
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:latest"}]}},
            }
        },
    )
    assert text.splitlines() == [
        "Deployment shop/web: 2 field(s) differ",
        "  spec.replicas: expected 3, got 2",
        "  spec.template.spec.containers[name=web].image: expected 'nginx:latest', got 'nginx:1.27'",
    ]


def test_a_missing_field_or_item_says_what_was_expected() -> None:
    text = message(
        assert_fields,
        DEPLOY,
        {
            "metadata": {"labels": {"team": "payments"}},
            "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}},
        },
    )
    assert "  metadata.labels.team: missing (expected 'payments')" in text
    assert (
        "  spec.template.spec.containers[name=db]: missing (expected {'name': 'db', 'image': 'postgres:16'})"
        in text
    )


def test_assert_object_names_unexpected_fields_too() -> None:
    actual = copy.deepcopy(DEPLOY)
    actual["metadata"]["labels"]["app.kubernetes.io/name"] = "shop"
    actual["spec"]["template"]["spec"]["containers"][0]["args"].append("--log-level=debug")
    actual["spec"]["paused"] = True
    assert_object(DEPLOY, copy.deepcopy(DEPLOY))
    lines = message(assert_object, actual, DEPLOY).splitlines()
    assert lines[0] == "Deployment shop/web: 3 field(s) differ"
    assert set(lines[1:]) == {
        "  metadata.labels[app.kubernetes.io/name]: expected 'web', got 'shop'",
        "  spec.template.spec.containers[name=sidecar].args[2]: unexpected '--log-level=debug'",
        "  spec.paused: unexpected True",
    }


def test_values_compare_as_the_api_server_would() -> None:
    assert differences({"a": 1}, {"a": 1.0}) == []
    assert [str(d) for d in differences({"a": True}, {"a": 1})] == ["a: expected True, got 1"]
    assert [str(d) for d in differences({"a": "1"}, {"a": 1})] == ["a: expected '1', got 1"]
    # Unnamed items compare by position.
    assert [d.path for d in differences({"args": ["a", "b"]}, {"args": ["b", "a"]})] == ["args[0]", "args[1]"]


def test_a_golden_mismatch_names_objects_and_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    golden = tmp_path / "g.yaml"
    app = "apps/lixiang.py"
    monkeypatch.setenv("PYVELA_UPDATE_GOLDEN", "1")
    monkeypatch.delenv("CI", raising=False)
    assert_golden(app, golden)
    monkeypatch.delenv("PYVELA_UPDATE_GOLDEN")
    text = golden.read_text()
    edited = text.replace("replicas: 2", "replicas: 4", 1).replace(
        "name: proxy-service-ingress", "name: old-ingress"
    )
    golden.write_text(edited)
    lines = message(assert_golden, app, golden).splitlines()
    assert lines[0].startswith(f"rendered objects differ from {golden} (pytest --pyvela-update-golden")
    assert "missing: Ingress default/old-ingress (in the golden file, not rendered)" in lines
    assert "unexpected: Ingress default/proxy-service-ingress (rendered, not in the golden file)" in lines
    assert "  spec.replicas: expected 4, got 2" in lines


def test_an_application_built_in_the_test_renders_and_deploys_as_its_file_would(tmp_path: Path) -> None:
    from platform_defs import base_service
    from pyvela import Application
    from pyvela.testing import render, sandbox_cluster

    app = Application("inline", components=[base_service("web", image="nginx:1.27", cluster="default")])
    objs = render(app, defs=["platform_defs"])
    assert_fields(objs.get("Deployment", "web"), {"metadata": {"labels": {"app.oam.dev/name": "inline"}}})
    cluster = sandbox_cluster(tmp_path / "sandbox")
    try:
        deployed = cluster.deploy(app, defs=["platform_defs"])
        assert deployed.ok, deployed
        assert cluster.get("Deployment", "web")["status"]["readyReplicas"] == 2
    finally:
        cluster.close()


def test_guardrails_report_and_assert_as_pyvela_check_does() -> None:
    from pyvela.testing import assert_guardrails_pass, guardrails

    defs = ["platform_defs", "pyvela.stdlib.guardrails"]
    report = guardrails("apps/lixiang.py", defs=defs)
    assert not report.ok and {v.check for v in report.errors} >= {"image-pinned"}
    assert_guardrails_pass("apps/lixiang.py", defs=["platform_defs"])  # no checks on: passes
    with pytest.raises(AssertionError) as info:
        assert_guardrails_pass("apps/lixiang.py", defs=defs)
    lines = str(info.value).splitlines()
    assert lines[0] == f"app 'lixiang-app' fails {len(report.errors)} guardrail(s):"
    assert any("image-pinned: container 'sidecar-sre': image 'busybox' has no tag" in line for line in lines)


def test_findings_calls_a_check_as_the_runner_does() -> None:
    from pyvela import CheckedObject
    from pyvela.errors import DefinitionError
    from pyvela.stdlib.guardrails import image_pinned
    from pyvela.testing import findings

    def pod(image: str) -> CheckedObject:
        spec = {"containers": [{"name": "web", "image": image}]}
        manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
        return CheckedObject(object=manifest, component="web", definition="webservice")

    assert findings(image_pinned, pod("nginx:1.27")) == []
    [finding] = findings(image_pinned, pod("nginx:latest"))
    assert "latest" in finding.message
    with pytest.raises(DefinitionError, match="check 'image-pinned' raised"):
        findings(
            image_pinned,
            CheckedObject(object={"kind": "Pod", "spec": {"containers": 5}}, component="w", definition="x"),
        )


def test_a_step_trace_golden_names_what_the_step_did_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from platform_defs import ServiceParams, apply_helm
    from pyvela import AppliedComponent, ApplyComponent, WaitReady
    from pyvela.testing import assert_trace_golden, run_step

    workload = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "r", "namespace": "x"}}
    applied = AppliedComponent(component="redis", workload=workload, outputs={})
    trace = run_step(
        apply_helm("s", component="redis"),
        results={ApplyComponent: applied, WaitReady: {}},
        components={"redis": ServiceParams(image="x", cluster="default")},
    )
    golden = tmp_path / "trace.yaml"
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PYVELA_UPDATE_GOLDEN", "1")
    assert_trace_golden(trace, golden)
    monkeypatch.delenv("PYVELA_UPDATE_GOLDEN")
    assert yaml.safe_load(golden.read_text()) == {
        "actions": ["apply component redis", "wait for Deployment x/r"],
        "outputs": None,
        "suspended": False,
        "error": None,
    }
    assert_trace_golden(trace, golden)
    golden.write_text(golden.read_text().replace("wait for Deployment x/r", "wait for Deployment x/q"))
    text = message(assert_trace_golden, trace, golden)
    assert f"the step did not do what {golden} says" in text
    assert "  actions[1]: expected 'wait for Deployment x/q', got 'wait for Deployment x/r'" in text
