"""KubeVela's deprecated traits that v1.10.1 still installs and its own examples use:
``ingress-1-20`` (a Service and a networking.k8s.io/v1 Ingress)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pyvela import Obj, TraitContext, TraitResult, trait

from ._pod import LABEL_COMPONENT
from ._types import Params
from .traits_network import SERVED


@attrs.frozen(kw_only=True)
class Ingress120Params(Params):
    """Parameters of ``ingress-1-20`` (deprecated: prefer ``gateway``).

    Attributes:
        domain: The host name the Ingress answers for.
        http: URL path -> port of the component (a Service port and its target port).
        class_: The ingress class (default ``nginx``), as the ``kubernetes.io/ingress.class``
            annotation; ``class`` in KubeVela's YAML.
    """

    domain: str
    http: Mapping[str, int]
    class_: str = "nginx"


@trait(name="ingress-1-20", params=Ingress120Params, applies_to=SERVED)
def ingress_1_20(p: Ingress120Params, ctx: TraitContext) -> TraitResult:
    """Route public HTTP traffic for ``domain`` to the component: a Service named after it and
    a networking.k8s.io/v1 Ingress.

    Follows KubeVela v1.10.1 vela-templates/definitions/deprecated/ingress-1-20.cue. KubeVela's
    Service ports have no names, which the API server refuses for two ports: with more than one
    distinct port they are named ``port-<n>``, and a port two paths share is listed once.
    """
    ports = list(dict.fromkeys(p.http.values()))
    named = len(ports) > 1
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ctx.name},
        "spec": {
            "selector": {LABEL_COMPONENT: ctx.name},
            "ports": [
                {**({"name": f"port-{v}"} if named else {}), "port": v, "targetPort": v} for v in ports
            ],
        },
    }
    ingress: Obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": ctx.name, "annotations": {"kubernetes.io/ingress.class": p.class_}},
        "spec": {
            "rules": [
                {
                    "host": p.domain,
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": ctx.name, "port": {"number": port}}},
                            }
                            for path, port in p.http.items()
                        ]
                    },
                }
            ]
        },
    }
    return TraitResult(outputs={"service": service, "ingress": ingress})
