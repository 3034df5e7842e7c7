"""KubeVela's definitions (steps, components, traits, policies) that pyvela does not provide, and why.

The catalogue consults :func:`why` when an app names a step type it does not hold (and the YAML
loader :func:`why_component`, :func:`why_trait`, :func:`why_policy`), so a KubeVela app that uses
one of these gets "not supported, because ..." instead of "unknown type".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_TERRAFORM = (
    "it drives KubeVela's Terraform controller (Configuration and Provider objects), which pyvela "
    "does not run; apply Terraform with its own CLI in your pipeline, or keep this step in KubeVela"
)
_CLOUD = (
    "it shares or deploys cloud resources through KubeVela's Terraform-backed cloud-resource "
    "components and multi-cluster gateway, neither of which pyvela has"
)

#: Step type -> why pyvela refuses it (one sentence finishing "not supported, because ...").
UNSUPPORTED_STEPS: Mapping[str, str] = MappingProxyType(
    {
        "apply-terraform-config": _TERRAFORM,
        "apply-terraform-provider": _TERRAFORM,
        "apply-application-in-parallel": "it is KubeVela's deprecated parallel apply; use deploy",
        "apply-remaining": "it is KubeVela's deprecated step; use deploy",
        "deploy2env": (
            "it deploys with KubeVela's deprecated env-binding policy; use deploy with topology policies"
        ),
        "deploy2runtime": "it is KubeVela's deprecated multi-cluster step; use deploy with topology policies",
        "deploy-cloud-resource": _CLOUD,
        "share-cloud-resource": _CLOUD,
        "generate-jdbc-connection": (
            "it reads the connection Secret of a Terraform cloud-resource component, which pyvela "
            "does not deploy"
        ),
        "build-push-image": (
            "it runs a kaniko build inside the cluster; build and push images in your CI before "
            "`pyvela deploy` and pass the tag as a parameter"
        ),
        "check-metrics": (
            "it evaluates PromQL through KubeVela's metrics provider; query Prometheus with an "
            "HTTP step (ctx.http) of your own instead"
        ),
        "vela-cli": (
            "it runs the vela CLI in a Job inside the cluster; pyvela is the CLI, so run the "
            "command in your pipeline instead"
        ),
    }
)


#: Policy type -> why pyvela refuses it. KubeVela's multi-cluster policies (topology, override,
#: replication) are built in now; the deprecated env-binding is not a definition pyvela knows.
UNSUPPORTED_POLICIES: Mapping[str, str] = MappingProxyType(
    {
        "env-binding": "it is KubeVela's deprecated multi-environment policy; write a topology and an "
        "override policy per environment and a deploy step for each instead",
    }
)


_TERRAFORM_COMPONENT = (
    "it is a cloud resource provisioned by KubeVela's Terraform addon (a Configuration run by its "
    "Terraform controller), which pyvela does not run; provision it with Terraform in your "
    "pipeline and give its outputs (a Secret's name, an endpoint) to the components as parameters"
)
#: The prefixes of KubeVela's Terraform addons' cloud-resource component types (alibaba-rds, aws-s3,
#: azure-storage-account ...): one entry per provider rather than one per of their hundreds of types.
_CLOUD_PREFIXES = ("alibaba-", "aws-", "azure-", "tencent-", "gcp-", "baidu-", "ucloud-", "huawei-")
_FLUXCD_KUSTOMIZE = (
    "it belongs to FluxCD's kustomize controller (the fluxcd addon), which pyvela does not run; "
    "render the kustomization with `kustomize build` and give the objects to a k8s-objects component"
)

#: Component type -> why pyvela refuses it (besides the Terraform cloud resources, by prefix).
UNSUPPORTED_COMPONENTS: Mapping[str, str] = MappingProxyType(
    {
        "kustomize": _FLUXCD_KUSTOMIZE,
        "raw": "it is KubeVela's deprecated raw component; use k8s-objects",
        "config-image-registry": (
            "it is one of KubeVela's config templates (`vela config create`), kept as a Secret by "
            "VelaUX; store the registry's credentials with the create-config step instead"
        ),
    }
)

#: Trait type -> why pyvela refuses it.
UNSUPPORTED_TRAITS: Mapping[str, str] = MappingProxyType(
    {
        "kustomize-patch": _FLUXCD_KUSTOMIZE,
        "kustomize-json-patch": _FLUXCD_KUSTOMIZE,
        "kustomize-strategy-merge": _FLUXCD_KUSTOMIZE,
        "service-binding": (
            "it is KubeVela's deprecated service-binding trait; use env with valueFrom secretKeyRef"
        ),
        "ingress": "it is KubeVela's deprecated ingress trait (networking.k8s.io/v1beta1); use gateway",
        "pvc": "it is KubeVela's deprecated pvc trait; use storage",
        "volumes": "it is KubeVela's deprecated volumes trait; use storage",
        "configmap": "it is KubeVela's deprecated configmap trait; use storage",
        "node-affinity": "it is KubeVela's deprecated node-affinity trait; use affinity",
        "rollout": (
            "it drives KubeVela's kruise-rollout addon (a Rollout object run by OpenKruise), which "
            "pyvela does not run; deploy in batches with the workflow's steps instead"
        ),
    }
)


def why_component(component_type: str) -> str | None:
    """Why pyvela does not support the KubeVela component ``component_type`` (None: not one of them)."""
    if component_type.startswith(_CLOUD_PREFIXES):
        return _TERRAFORM_COMPONENT
    return UNSUPPORTED_COMPONENTS.get(component_type)


def why_trait(trait_type: str) -> str | None:
    """Why pyvela does not support the KubeVela trait ``trait_type`` (None: not one of them)."""
    return UNSUPPORTED_TRAITS.get(trait_type)


def why_policy(policy_type: str) -> str | None:
    """Why pyvela does not support the KubeVela policy ``policy_type``; None when it is not one of them."""
    return UNSUPPORTED_POLICIES.get(policy_type)


def why(step_type: str) -> str | None:
    """Why pyvela does not support the KubeVela step ``step_type``; None when it is not one of them."""
    return UNSUPPORTED_STEPS.get(step_type)
