"""The seed's workflow steps: apply-base, apply-helm and apply-proxy.

They close the seed's gaps: apply-base really registers base-service in the config
centre (and publishes it), apply-helm says what it waits for, and apply-proxy really
reads the registration back and merges its environment by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from pyvela import ComponentName, env_patch, step

if TYPE_CHECKING:  # the steps' annotation only: importing it creates every action class
    from pyvela import StepContext


@attrs.frozen(kw_only=True)
class ApplyParams:
    """Parameters of a step that applies one component."""

    component: ComponentName


@attrs.frozen(kw_only=True)
class BaseOutputs:
    """What apply-base exports.

    Attributes:
        cluster_ip: The ClusterIP the cluster assigned to the component's Service.
    """

    cluster_ip: str


def registration_keys(component: str) -> dict[str, str]:
    """The config-centre keys under which a component registers itself."""
    return {
        field: f"{component}.{field}"
        for field in ("service", "namespace", "clusterIP", "ports", "host", "cluster", "revision")
    }


@step(name="apply-base", params=ApplyParams)
async def apply_base(p: ApplyParams, ctx: StepContext) -> BaseOutputs:
    """Apply a service, wait until every replica is ready, register it in the config centre.

    The registration (service name, namespace, ClusterIP, ports, ingress host, cluster,
    app revision) is written and published in the Apollo cluster named by the
    component's ``cluster`` parameter; it is idempotent across retries and resumes.
    """
    applied = await ctx.apply_component(p.component)
    await ctx.wait_ready(applied)
    service = applied.output("service")
    cluster_ip = service["spec"].get("clusterIP") or ""
    if not cluster_ip or cluster_ip == "None":
        await ctx.fail(f"Service {service['metadata']['name']!r} has no ClusterIP (is it headless?)")
    rules = applied.outputs["ingress"]["spec"]["rules"] if "ingress" in applied.outputs else []
    cluster = ctx.components[p.component].cluster
    keys = registration_keys(p.component)
    await ctx.register_config(
        {
            keys["service"]: service["metadata"]["name"],
            keys["namespace"]: service["metadata"].get("namespace", ctx.namespace),
            keys["clusterIP"]: cluster_ip,
            keys["ports"]: ",".join(str(port["port"]) for port in service["spec"].get("ports", [])),
            keys["host"]: ",".join(rule.get("host", "") for rule in rules),
            keys["cluster"]: cluster,
            keys["revision"]: ctx.app_revision,
        },
        cluster=cluster,
        release_title=f"{ctx.app_name} {p.component} {ctx.app_revision}",
    )
    return BaseOutputs(cluster_ip=cluster_ip)


@step(name="apply-helm", params=ApplyParams)
async def apply_helm(p: ApplyParams, ctx: StepContext) -> None:
    """Install or upgrade a Helm component and wait until the release and its workloads are ready."""
    applied = await ctx.apply_component(p.component)
    await ctx.wait_ready(applied)


@attrs.frozen(kw_only=True)
class ProxyParams:
    """Parameters of apply-proxy.

    Attributes:
        component: The proxy component to apply.
        backend_ip: The back end's ClusterIP (usually apply-base's ``cluster_ip`` output).
        backend: The back-end component whose registration is read from the config centre.
    """

    component: ComponentName
    backend_ip: str
    backend: ComponentName = "base-service"


@attrs.frozen(kw_only=True)
class ProxyOutputs:
    """What apply-proxy exports: the back end it was wired to."""

    backend_ip: str
    backend_host: str


@step(name="apply-proxy", params=ProxyParams)
async def apply_proxy(p: ProxyParams, ctx: StepContext) -> ProxyOutputs:
    """Read the back end's registration, apply the proxy wired to it, wait until it is healthy.

    ``BackendIP`` (and ``BACKEND_HOST``/``BACKEND_PORTS`` from the registration) are merged
    into the proxy container's environment by name. A registration that disagrees with
    ``backend_ip`` fails the step rather than wiring the proxy to a stale address.
    """
    cluster = ctx.components[p.component].cluster
    config = await ctx.read_config(cluster=cluster)
    keys = registration_keys(p.backend)
    if keys["clusterIP"] not in config:
        await ctx.fail(
            f"{p.backend!r} is not registered in the config centre (cluster {cluster!r}): "
            f"no key {keys['clusterIP']!r}; run its apply step first"
        )
    registered_ip = config[keys["clusterIP"]]
    if registered_ip != p.backend_ip:
        await ctx.fail(
            f"the config centre has {p.backend!r} at {registered_ip}, but backend_ip is {p.backend_ip}"
        )
    env = {
        "BackendIP": p.backend_ip,
        "BACKEND_HOST": config.get(keys["host"], ""),
        "BACKEND_PORTS": config.get(keys["ports"], ""),
    }
    applied = await ctx.apply_component(p.component, workload_patch=env_patch(p.component, env))
    await ctx.wait_ready(applied)
    return ProxyOutputs(backend_ip=p.backend_ip, backend_host=env["BACKEND_HOST"])
