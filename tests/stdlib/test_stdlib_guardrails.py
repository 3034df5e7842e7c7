"""The standard guardrails (pyvela.stdlib.guardrails): each with an object that passes and
one that fails, and the message, field and fix of the failure."""

from __future__ import annotations

from typing import Any

import pytest

from pyvela import CheckDefinition, CheckedApp, CheckedObject, Finding
from pyvela.stdlib import guardrails as g


def container(**fields: Any) -> dict[str, Any]:
    good: dict[str, Any] = {
        "name": "web",
        "image": "nginx:1.27",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
        "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
    }
    return {k: v for k, v in {**good, **fields}.items() if v is not None}


def deployment(*containers: dict[str, Any], kind: str = "Deployment", labels: Any = None) -> CheckedObject:
    pod = {"metadata": {"labels": labels or {"app": "web"}}, "spec": {"containers": list(containers)}}
    spec: dict[str, Any] = {"template": pod}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": pod}}}
    obj = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
    }
    return CheckedObject(object=obj, component="web", definition="webservice")


def run(definition: CheckDefinition, subject: Any) -> list[Finding]:
    result = definition.fn(subject)
    return [result] if isinstance(result, Finding) else list(result or ())


def test_every_standard_guardrail_is_a_check_and_none_is_on_by_itself() -> None:
    assert {c.name for c in g.CHECKS} == {
        "resources-set",
        "image-pinned",
        "probes-set",
        "no-privileged",
        "service-selects-workload",
        "ingress-backends-exist",
    }
    assert all(c.severity == "error" and c.description for c in g.CHECKS)


def test_resources_set() -> None:
    assert run(g.resources_set, deployment(container())) == []
    bad = run(g.resources_set, deployment(container(resources={"requests": {"cpu": "1"}})))
    assert [f.message for f in bad] == ["container 'web' sets no requests.memory, limits.memory"]
    assert bad[0].field == "spec.template.spec.containers[web].resources"
    init = deployment(container())
    init.object["spec"]["template"]["spec"]["initContainers"] = [container(name="migrate", resources=None)]
    assert [f.field for f in run(g.resources_set, init)] == [
        "spec.template.spec.initContainers[migrate].resources"
    ]


@pytest.mark.parametrize(
    ("image", "passes"),
    [
        ("nginx:1.27", True),
        ("registry.example.com:5000/team/app:2.0.1", True),
        ("nginx@sha256:" + "a" * 64, True),
        ("nginx:latest@sha256:" + "a" * 64, True),  # the digest pins it
        ("nginx", False),
        ("nginx:latest", False),
        ("registry.example.com:5000/team/app", False),  # a port is not a tag
    ],
)
def test_image_pinned(image: str, passes: bool) -> None:
    found = run(g.image_pinned, deployment(container(image=image)))
    assert (found == []) is passes, found
    if not passes:
        assert found[0].field == "spec.template.spec.containers[web].image"
        assert found[0].fix is not None and "@sha256:" in found[0].fix


def test_image_pinned_reads_a_cronjobs_containers() -> None:
    found = run(g.image_pinned, deployment(container(image="busybox"), kind="CronJob"))
    assert [f.field for f in found] == ["spec.jobTemplate.spec.template.spec.containers[web].image"]


def test_probes_set_readiness_is_an_error_liveness_a_warning() -> None:
    assert run(g.probes_set, deployment(container())) == []
    found = run(g.probes_set, deployment(container(readinessProbe=None, livenessProbe=None)))
    assert [(f.message, f.severity) for f in found] == [
        ("container 'web' has no readinessProbe", None),  # the check's: error
        ("container 'web' has no livenessProbe", "warning"),
    ]
    assert g.probes_set.kinds and "Job" not in g.probes_set.kinds  # a Job's pods finish


def test_no_privileged() -> None:
    assert run(g.no_privileged, deployment(container(securityContext={"privileged": False}))) == []
    found = run(g.no_privileged, deployment(container(securityContext={"privileged": True})))
    assert [f.field for f in found] == ["spec.template.spec.containers[web].securityContext.privileged"]


def service(name: str, selector: dict[str, str] | None, **spec: Any) -> CheckedObject:
    obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            **({"selector": selector} if selector is not None else {}),
            "ports": [{"port": 80, "name": "http"}],
        }
        | spec,
    }
    return CheckedObject(object=obj, component="web", definition="webservice", output="service")


def app_of(*objects: CheckedObject, kind: str) -> CheckedApp:
    return CheckedApp(
        name="shop", namespace="shop", objects=objects, subjects=tuple(o for o in objects if o.kind == kind)
    )


def test_service_selects_workload() -> None:
    workload = deployment(container(), labels={"app": "web", "tier": "front"})
    good = service("web", {"app": "web"})
    assert run(g.service_selects_workload, app_of(workload, good, kind="Service")) == []
    manual = service("legacy", None)  # endpoints managed by hand: nothing to select
    assert run(g.service_selects_workload, app_of(workload, manual, kind="Service")) == []
    typo = service("web", {"app": "wbe"})
    found = run(g.service_selects_workload, app_of(workload, typo, kind="Service"))
    assert len(found) == 1 and found[0].subject is typo
    assert "app=wbe matches the pods of no workload" in found[0].message


def ingress(backend: dict[str, Any]) -> CheckedObject:
    obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]},
    }
    return CheckedObject(
        object=obj, component="web", definition="webservice", trait="gateway", output="ingress"
    )


@pytest.mark.parametrize(
    ("backend", "error"),
    [
        ({"service": {"name": "web", "port": {"number": 80}}}, None),
        ({"service": {"name": "web", "port": {"name": "http"}}}, None),
        ({"serviceName": "web", "servicePort": 80}, None),  # networking.k8s.io/v1beta1
        ({"resource": {"kind": "StorageBucket", "name": "static"}}, None),
        (
            {"service": {"name": "api", "port": {"number": 80}}},
            "routes to Service 'api', which the app does not render",
        ),
        ({"service": {"name": "web", "port": {"number": 8080}}}, "routes to port 8080 of Service 'web'"),
    ],
)
def test_ingress_backends_exist(backend: dict[str, Any], error: str | None) -> None:
    route = ingress(backend)
    found = run(g.ingress_backends_exist, app_of(service("web", {"app": "web"}), route, kind="Ingress"))
    if error is None:
        assert found == []
    else:
        assert len(found) == 1 and error in found[0].message and found[0].subject is route
        assert found[0].field == "spec.rules[0].http.paths[0].backend"


def test_app_checks_stay_linear_on_a_large_app() -> None:
    """2,000 Services and workloads: an index, not a scan per Service (the check would take
    seconds otherwise); each still finds its own workload."""
    objects: list[CheckedObject] = []
    for i in range(2000):
        objects.append(deployment(container(), labels={"app": f"web-{i}"}))
        objects.append(service(f"web-{i}", {"app": f"web-{i}" if i % 1000 else "typo"}))
    found = run(g.service_selects_workload, app_of(*objects, kind="Service"))
    assert [str(f.subject) for f in found] == ["Service shop/web-0", "Service shop/web-1000"]
    assert "… (1995 more)" in found[0].message  # the message stays one line
