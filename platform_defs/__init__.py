"""The platform's definitions for the Li Auto case: what application developers may use.

``pyvela`` builds its catalogue from this package (``--defs`` picks others).
"""

from .components import HelmParams, ServiceParams, base_service, helm, proxy_service
from .steps import ApplyParams, BaseOutputs, ProxyOutputs, ProxyParams, apply_base, apply_helm, apply_proxy
from .traits import IngressParams, ingress

__all__ = [
    "ApplyParams",
    "BaseOutputs",
    "HelmParams",
    "IngressParams",
    "ProxyOutputs",
    "ProxyParams",
    "ServiceParams",
    "apply_base",
    "apply_helm",
    "apply_proxy",
    "base_service",
    "helm",
    "ingress",
    "proxy_service",
]
