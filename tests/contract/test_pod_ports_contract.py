"""Container ports a real API server refuses in a workload's pod template (out of range, an
unknown protocol, a name that is no IANA service name, a name used twice) are refused by
every backend, with the field's path; valid ones are stored."""

from __future__ import annotations

from typing import Any

import pytest

from pyvela._backends.protocol import Backend
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError


def _deployment(ns: str, ports: list[dict[str, Any]]) -> dict[str, Any]:
    labels = {"app": "ports"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ports", "namespace": ns},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": ports}]},
            },
        },
    }


@pytest.mark.parametrize(
    ("port", "field"),
    [
        ({"containerPort": 70000}, "containerPort"),
        ({"containerPort": 0}, "containerPort"),
        ({"containerPort": 80, "hostPort": 70000}, "hostPort"),
        ({"containerPort": 80, "protocol": "HTTP"}, "protocol"),
        ({"containerPort": 80, "name": "http_port"}, "name"),
        ({"containerPort": 80, "name": "a-very-long-port-name"}, "name"),
        ({"containerPort": 80, "name": "8080"}, "name"),
    ],
)
def test_a_port_the_api_server_refuses_is_refused(
    backend: Backend, namespace: str, port: dict[str, Any], field: str
) -> None:
    with pytest.raises(ClusterError) as caught:
        backend.apply(_deployment(namespace, [port]))
    assert f"spec.template.spec.containers[0].ports[0].{field}" in str(caught.value)
    assert backend.get(ObjectRef("apps/v1", "Deployment", namespace, "ports")) is None


def test_a_port_name_used_twice_is_refused(backend: Backend, namespace: str) -> None:
    ports = [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}]
    with pytest.raises(ClusterError) as caught:
        backend.apply(_deployment(namespace, ports))
    assert "spec.template.spec.containers[0].ports[1].name" in str(caught.value)


def test_valid_ports_are_stored(backend: Backend, namespace: str) -> None:
    ports = [
        {"containerPort": 65535, "name": "metrics", "protocol": "TCP"},
        {"containerPort": 53, "name": "dns-udp", "protocol": "UDP", "hostPort": 0},
        {"containerPort": 1},
    ]
    backend.apply(_deployment(namespace, ports))
    stored = backend.get(ObjectRef("apps/v1", "Deployment", namespace, "ports"))
    assert stored is not None
    got = stored["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["containerPort"] for p in got] == [65535, 53, 1]
