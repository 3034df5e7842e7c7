"""Traits' health and status (KubeVela's customStatus/healthPolicy of gateway, expose and
pure-ingress, vela-templates/definitions/internal/trait/*.cue): shown by ``status`` for the
object each rule reads, used by waits; the trait's other objects keep their kind's rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyvela import TraitObservation
from pyvela._workflow.health import rule_of
from pyvela.stdlib import expose, gateway
from pyvela.stdlib.health import expose_status, gateway_status, trait_health_of
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]

APP = """
from pyvela import Application
from pyvela.stdlib import ExposePort, Port, expose, gateway, pure_ingress, webservice

web = webservice("web", image="nginx:1.27", ports=(Port(port=80),)).with_traits(
    gateway(name="shop", domain="shop.example.com", http={"/": 80}),
    expose(ports=(ExposePort(port=80),)),
    pure_ingress(domain="admin.example.com", http={"/admin": 80}),
)
app = Application("traitstatus", components=[web])
"""


def by_output(status: dict[str, Any]) -> dict[tuple[str | None, str], dict[str, Any]]:
    return {(o["trait"], o["object"]["kind"]): o for o in status["objects"]}


def test_status_shows_each_traits_own_message(write_app: WriteApp, tmp_path: Path) -> None:
    ops = ops_for(write_app(APP), sandbox(tmp_path / "sb"))
    assert ops.deploy().ok
    objects = by_output(ops.status())
    ingress = objects[("gateway", "Ingress")]
    assert ingress["ready"] and ingress["message"].startswith("Visiting URL: shop.example.com"), ingress
    service = objects[("expose", "Service")]
    assert service["ready"] and service["message"].startswith("ClusterIP: "), service
    assert service["message"] != "ClusterIP: None"
    admin = objects[("pure-ingress", "Ingress")]
    assert admin["ready"] and ("admin.example.com" in admin["message"] or "port-forward" in admin["message"])
    # gateway's Service is judged by the Service rule, not by the gateway's Ingress rule
    gateway_service = objects[("gateway", "Service")]
    assert gateway_service["ready"] and "Visiting" not in gateway_service["message"]


def _seen(live: dict[str, Any] | None, output: str, params: Any) -> TraitObservation:
    return TraitObservation(output=output, live=live, params=params, component="web", app="shop")


def test_the_rule_judges_only_the_kind_it_reads() -> None:
    judge = trait_health_of(gateway_status, "Ingress")
    params = gateway(http={"/": 80}).params
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
    assert judge(_seen(service, "service", params)) is None
    assert judge(_seen(None, "ingress", params)) is None  # not there yet: the kind's rule
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"host": "a.example.com"}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}},
    }
    verdict = judge(_seen(ingress, "ingress", params))
    assert verdict is not None and verdict.ready
    assert verdict.message == "Visiting URL: a.example.com, IP: 192.0.2.7"


def test_a_pending_load_balancer_is_not_ready_and_waits_say_why() -> None:
    judge = trait_health_of(expose_status, "Service")
    params = expose(port=(80,), type="LoadBalancer").params
    live = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer"},
    }
    verdict = judge(_seen(live, "service", params))
    assert verdict is not None and (verdict.ready, verdict.message) == (False, "ExternalIP: Pending")


def test_rule_of_uses_the_traits_rule_for_its_object(write_app: WriteApp) -> None:
    from pyvela import load_app
    from pyvela._core.objects import ObjectRef

    loaded = load_app(write_app(APP))
    ref = ObjectRef("networking.k8s.io/v1", "Ingress", "default", "web-shop")
    entry = {
        "component": "web",
        "trait": "gateway",
        "manifest": {"metadata": {"labels": {"trait.oam.dev/resource": "ingress-shop"}}},
    }
    live = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web-shop"},
        "spec": {},
    }
    verdict = rule_of(loaded.app, ref, entry)(live)
    assert verdict.ready and verdict.message.startswith("Host not specified")
