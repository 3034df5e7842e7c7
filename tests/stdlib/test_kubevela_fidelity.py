"""Where pyvela's standard library must render what KubeVela's renderer renders for its own
published examples (our own apps of the same shapes)."""

from __future__ import annotations

from stdlib_support import render_components

from pyvela import stdlib as s


def test_expose_and_gateway_serve_a_daemonset_as_kubevelas_renderer_allows() -> None:
    # KubeVela declares both for Deployments and StatefulSets but never checks it, and its own
    # daemon example exposes a DaemonSet: the Service selects the DaemonSet's pods.
    objs = render_components(
        s.daemon("agent", image="exporter:1").with_traits(
            s.expose(port=(9100,), annotations={"prometheus.io/scrape": "true"}),
            s.gateway(http={"/metrics": 9100}, domain="agent.example.com", name="public"),
        )
    )
    assert [o["kind"] for o in objs] == ["DaemonSet", "Service", "Service", "Ingress"]
    expose = objs.get("Service", "agent")
    assert expose["spec"] == {
        "selector": {"app.oam.dev/component": "agent"},
        "ports": [{"name": "port-9100", "port": 9100, "targetPort": 9100}],
        "type": "ClusterIP",
    }
    assert expose["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    assert objs.get("Service", "agent-public")["spec"]["selector"] == {"app.oam.dev/component": "agent"}
    daemon_pods = objs.objects[0]["spec"]["template"]["metadata"]["labels"]
    assert daemon_pods["app.oam.dev/component"] == "agent"


def test_a_components_extra_outputs_are_labelled_auxiliary_workloads() -> None:
    objs = render_components(
        s.webservice("web", image="nginx", ports=(s.Port(port=80, expose=True),)).with_traits(
            s.scaler(replicas=2)
        ),
        s.k8s_objects(
            "raw",
            objects=(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second"}},
            ),
        ),
    )
    service = objs.get("Service", "web")["metadata"]["labels"]
    assert service["trait.oam.dev/type"] == "AuxiliaryWorkload"
    assert service["trait.oam.dev/resource"] == "webserviceExpose"
    second = objs.get("ConfigMap", "second")["metadata"]["labels"]
    assert (second["trait.oam.dev/type"], second["trait.oam.dev/resource"]) == (
        "AuxiliaryWorkload",
        "objects-1",
    )
    for workload in (objs.get("Deployment", "web"), objs.get("ConfigMap", "first")):
        assert "trait.oam.dev/type" not in workload["metadata"]["labels"]  # the workloads themselves: none


def test_the_deprecated_ingress_1_20_renders_kubevelas_service_and_ingress() -> None:
    # Follows KubeVela v1.10.1 vela-templates/definitions/deprecated/ingress-1-20.cue.
    objs = render_components(
        s.webservice("shop", image="shop:1", port=8080).with_traits(
            s.ingress_1_20(domain="shop.example.com", http={"/": 8080, "/api": 8080})
        )
    )
    assert [o["kind"] for o in objs] == ["Deployment", "Service", "Ingress"]
    service, ingress = objs.get("Service", "shop"), objs.get("Ingress", "shop")
    assert service["spec"] == {
        "selector": {"app.oam.dev/component": "shop"},
        "ports": [{"port": 8080, "targetPort": 8080}],
    }
    assert ingress["metadata"]["annotations"] == {"kubernetes.io/ingress.class": "nginx"}
    backend = {"service": {"name": "shop", "port": {"number": 8080}}}
    assert ingress["spec"] == {
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {"path": "/", "pathType": "ImplementationSpecific", "backend": backend},
                        {"path": "/api", "pathType": "ImplementationSpecific", "backend": backend},
                    ]
                },
            }
        ]
    }
    assert ingress["metadata"]["labels"]["trait.oam.dev/type"] == "ingress-1-20"
    two = render_components(
        s.worker("w", image="i").with_traits(s.ingress_1_20(domain="d", http={"/": 80, "/b": 81}))
    )
    ports = two.get("Service", "w")["spec"]["ports"]
    assert ports == [
        {"name": "port-80", "port": 80, "targetPort": 80},
        {"name": "port-81", "port": 81, "targetPort": 81},
    ]
