"""The seed's steps, trait and helm component without its two services: the catalogue for the
seed's app when base-service and proxy-service come from the kube ComponentDefinitions."""

from platform_defs.components import helm
from platform_defs.steps import apply_base, apply_helm, apply_proxy
from platform_defs.traits import ingress

__all__ = ["apply_base", "apply_helm", "apply_proxy", "helm", "ingress"]
