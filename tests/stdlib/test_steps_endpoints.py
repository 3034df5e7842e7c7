"""collect-service-endpoints: the endpoints of an app's Services and Ingresses, by KubeVela v1.10.1's
rules (vela-templates/definitions/internal/workflowstep/collect-service-endpoints.cue and
pkg/workflow/providers/query/endpoint.go), on the sandbox through the real runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela import stdlib as s
from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.events import Recorder
from pyvela.errors import ParameterError
from pyvela.stdlib.steps_endpoints import gateway_ip, ingress_endpoints, service_endpoints
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
APP = """
from pyvela import Application
from pyvela.stdlib import Port, apply_component, collect_service_endpoints, gateway, webservice

app = Application(
    "shop",
    namespace="shop",
    components=[
        webservice("api", image="registry.example.com/api:1",
                   ports=(Port(port=8080, expose=True, name="web"),
                          Port(port=9090, expose=True, name="metrics"))),
        webservice("front", image="registry.example.com/front:1",
                   ports=(Port(port=80, expose=True),)).with_traits(
            gateway(domain="shop.example.com", http={"/": 80})
        ),
    ],
    workflow=[
        apply_component("api", component="api"),
        apply_component("front", component="front"),
        collect_service_endpoints("all"),
        collect_service_endpoints("api-metrics", components=("api",), port_name="metrics"),
        collect_service_endpoints("outside", outer=True, protocal="https"),
        collect_service_endpoints("none", port=1234).when("always"),
    ],
)
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def test_endpoints_of_an_apps_services_and_ingresses(write_app: WriteApp, box: Sandbox) -> None:
    result = ops_for(write_app(APP), box).deploy()
    steps = result.steps
    assert steps["all"]["phase"] == "succeeded", result.to_dict()
    everything = steps["all"]["outputs"]
    hosts = [(e["component"], e["endpoint"]["host"], e["endpoint"]["port"]) for e in everything["endpoints"]]
    assert hosts == [
        ("api", "api.shop", 8080),
        ("api", "api.shop", 9090),
        ("front", "front.shop", 80),
        ("front", "shop.example.com", 80),
    ]
    assert everything["url"] == "http://api.shop:8080"
    assert everything["endpoint"] == {
        "protocol": "TCP",
        "appProtocol": "http",
        "host": "api.shop",
        "port": 8080,
        "portName": "web",
        "inner": True,
    }
    assert everything["endpoints"][0]["ref"]["kind"] == "Service"
    assert steps["api-metrics"]["outputs"]["url"] == "http://api.shop:9090"
    outside = steps["outside"]["outputs"]
    assert outside["url"] == "https://shop.example.com:80"
    assert outside["endpoint"] == {
        "protocol": "TCP",
        "appProtocol": "http",
        "host": "shop.example.com",
        "port": 80,
        "path": "/",
    }
    assert steps["none"]["phase"] == "failed"
    assert "app shop/shop has no endpoint matching port 1234" in steps["none"]["message"]
    assert "found 2 Service(s) and 1 Ingress(es)" in steps["none"]["message"]


def service(kind: str, ports: list[dict[str, Any]], **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db", "namespace": "data", "labels": {"app.oam.dev/component": "db"}},
        "spec": {"type": kind, "ports": ports},
        "status": status,
    }


def test_service_types_give_kubevelas_endpoints() -> None:
    lb = service(
        "LoadBalancer",
        [{"port": 443}],
        loadBalancer={"ingress": [{"ip": "203.0.113.5"}, {"hostname": "lb.example.com"}]},
    )
    assert [e["endpoint"] for e in service_endpoints(lb, "")] == [
        {"protocol": "TCP", "appProtocol": "https", "host": "203.0.113.5", "port": 443},
        {"protocol": "TCP", "appProtocol": "https", "host": "lb.example.com", "port": 443},
    ]
    node = service("NodePort", [{"port": 3306, "nodePort": 30306, "name": "sql"}])
    assert [e["endpoint"] for e in service_endpoints(node, "192.0.2.1")] == [
        {"protocol": "TCP", "appProtocol": "mysql", "host": "192.0.2.1", "port": 30306, "portName": "sql"}
    ]
    odd = service("ClusterIP", [{"port": 5432, "protocol": "UDP"}])
    assert service_endpoints(odd, "")[0]["endpoint"] == {
        "protocol": "UDP",
        "appProtocol": "",
        "host": "db.data",
        "port": 5432,
        "inner": True,
    }
    assert service_endpoints(odd, "")[0]["component"] == "db"


def test_ingress_tls_and_controller_annotations() -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "namespace": "data",
            "annotations": {
                "ingress.controller/https-port": "8443",
                "ingress.controller/host": "gw.example.com",
            },
        },
        "spec": {
            "tls": [{"hosts": ["secure.example.com"]}],
            "rules": [
                {"host": "secure.example.com", "http": {"paths": [{"path": "/a"}, {"path": "/b"}]}},
                {"http": {"paths": [{"path": "/"}]}},
            ],
        },
    }
    found = [e["endpoint"] for e in ingress_endpoints(ingress)]
    assert [(e["appProtocol"], e["host"], e["port"], e["path"]) for e in found] == [
        ("https", "secure.example.com", 8443, "/a"),
        ("https", "secure.example.com", 8443, "/b"),
        ("http", "gw.example.com", 80, "/"),
    ]


def node(name: str, labels: dict[str, str], **addresses: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"addresses": [{"type": t, "address": a} for t, a in addresses.items()]},
    }


def test_the_gateway_node_is_chosen_as_kubevela_chooses_it() -> None:
    plain = node("a", {}, InternalIP="10.0.0.1")
    worker = node("w", {"node-role.kubernetes.io/worker": ""}, InternalIP="10.0.0.2")
    gateway = node(
        "g", {"node-role.kubernetes.io/gateway": ""}, InternalIP="10.0.0.3", ExternalIP="198.51.100.3"
    )
    assert gateway_ip([plain, worker, gateway]) == "198.51.100.3"
    assert gateway_ip([plain, worker]) == "10.0.0.2"
    assert gateway_ip([plain]) == "10.0.0.1"
    assert gateway_ip([]) == ""


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.collect_service_endpoints("c", port=0), "port 0 is not a port"),
        (lambda: s.collect_service_endpoints("c", protocal="ftp"), "protocal"),  # type: ignore[arg-type]
        (lambda: s.collect_service_endpoints("c", components="api"), "components"),  # type: ignore[arg-type]
        (lambda: s.collect_service_endpoints("c", outer="yes"), "outer"),  # type: ignore[arg-type]
        (lambda: s.collect_service_endpoints("c", port_name=8080), "port_name"),  # type: ignore[arg-type]
        (lambda: s.collect_service_endpoints("c", name=1), "name"),  # type: ignore[arg-type]
    ],
)
def test_parameters_are_checked_at_the_call_site(make: Callable[[], Any], words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)


LB_APP = """
from pyvela import Application
from pyvela.stdlib import apply_object, collect_service_endpoints

app = Application("lb", namespace="lb", components=[], workflow=[
    apply_object("svc", value={"apiVersion": "v1", "kind": "Service",
                               "metadata": {"name": "edge", "labels": {"app.oam.dev/component": "edge"}},
                               "spec": {"type": "LoadBalancer", "selector": {"app": "edge"},
                                        "ports": [{"port": 443, "targetPort": 8443}]}}),
    collect_service_endpoints("outside", outer=True, protocal="https"),
])
"""


def test_a_load_balancer_without_an_address_yet_is_waited_for(write_app: WriteApp, tmp_path: Path) -> None:
    # The sandbox's service controller assigns the address a second after the Service exists.
    slow = sandbox(tmp_path / "slow", delay=1.0)
    events = Recorder()
    try:
        result = ops_for(write_app(LB_APP), slow, events=events).deploy()
    finally:
        slow.close()
    assert result.ok, result.steps["outside"]["message"]
    assert result.steps["outside"]["outputs"]["url"] == "https://127.0.0.1:443"
    waits = [e for e in events.of("waiting") if e.step == "outside"]
    assert waits and "Service lb/edge" in waits[0].message
