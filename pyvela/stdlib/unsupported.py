"""KubeVela's built-in workflow steps that pyvela does not provide, and why.

The catalogue consults :func:`why` when an app names a step type it does not hold, so a KubeVela
app that uses one of these gets "not supported, because ..." instead of "unknown step".
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


def why_policy(policy_type: str) -> str | None:
    """Why pyvela does not support the KubeVela policy ``policy_type``; None when it is not one of them."""
    return UNSUPPORTED_POLICIES.get(policy_type)


def why(step_type: str) -> str | None:
    """Why pyvela does not support the KubeVela step ``step_type``; None when it is not one of them."""
    return UNSUPPORTED_STEPS.get(step_type)
