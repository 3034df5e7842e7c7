"""Small definitions for the benchmarks: a Deployment component and two traits."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pyvela import ComponentContext, Obj, TraitContext, TraitResult, WorkloadType, component, trait


@attrs.frozen(kw_only=True)
class WebParams:
    image: str
    replicas: int = 2


@component(
    name="bench-web", params=WebParams, workload=WorkloadType(api_version="apps/v1", kind="Deployment")
)
def web(p: WebParams, ctx: ComponentContext) -> Obj:
    """A plain web Deployment."""
    labels = {"app": ctx.name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.name},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": ctx.name,
                            "image": p.image,
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "APP", "value": ctx.app_name}],
                        }
                    ]
                },
            },
        },
    }


@attrs.frozen(kw_only=True)
class ExposeParams:
    port: int


@trait(name="bench-expose", params=ExposeParams)
def expose(p: ExposeParams, ctx: TraitContext) -> TraitResult:
    """A Service for the component."""
    return TraitResult(
        outputs={
            "service": {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": ctx.name},
                "spec": {"selector": {"app": ctx.name}, "ports": [{"port": p.port, "targetPort": 8080}]},
            }
        }
    )


@attrs.frozen(kw_only=True)
class EnvParams:
    env: Mapping[str, str]


@trait(name="bench-env", params=EnvParams)
def env(p: EnvParams, ctx: TraitContext) -> TraitResult:
    """Extra environment variables, merged by name."""
    return TraitResult(
        patch={
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": ctx.name, "env": [{"name": k, "value": v} for k, v in p.env.items()]}
                        ]
                    }
                }
            }
        }
    )
