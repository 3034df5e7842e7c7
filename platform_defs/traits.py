"""The seed's trait: ingress (a Service plus an Ingress)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pyvela import TraitContext, TraitResult, trait


@attrs.frozen(kw_only=True)
class IngressParams:
    """Expose a component over HTTP.

    Attributes:
        domain: The host name the Ingress answers for.
        http: URL path prefix -> service port (also the target port on the pods).
    """

    domain: str
    http: Mapping[str, int]


@trait(name="ingress", params=IngressParams, applies_to=("Deployment", "Rollout", "StatefulSet"))
def ingress(p: IngressParams, ctx: TraitContext) -> TraitResult:
    """A Service selecting the component's pods, and an Ingress routing ``domain`` to it."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ctx.name, "namespace": ctx.namespace},
        "spec": {
            "selector": {"app": ctx.name},
            "ports": [{"protocol": "TCP", "port": port, "targetPort": port} for port in p.http.values()],
        },
    }
    route = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": f"{ctx.name}-ingress", "namespace": ctx.namespace},
        "spec": {
            "rules": [
                {
                    "host": p.domain,
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": "Prefix",
                                "backend": {"service": {"name": ctx.name, "port": {"number": port}}},
                            }
                            for path, port in p.http.items()
                        ]
                    },
                }
            ]
        },
    }
    return TraitResult(outputs={"service": service, "ingress": route})
