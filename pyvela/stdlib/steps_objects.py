"""Workflow steps that write and read Kubernetes objects: ``apply-object``, ``read-object``,
``export2config``, ``export2secret``, ``export-data``, ``export-service`` and ``clean-jobs``.

They follow KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/<name>.cue. Every
object goes to the app's cluster, or to the cluster ``cluster`` names (the clusters of the
topology policy ``topology`` names), carries this app's labels and is recorded in its
inventory under its cluster, so it is pruned and deleted with the app like a component's objects.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, cast

import attrs

from pyvela import ObjectRef, StepContext, step

from ._steps import (
    applying,
    check_cluster,
    check_data_keys,
    check_name,
    check_port,
    check_segment,
    check_topology,
    is_ref,
    meta,
    plain,
    reading_from,
    shown,
)
from ._types import Checked, Params

_NO_DATA: Mapping[str, str] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class ObjectOutputs:
    """What a step read or wrote.

    Attributes:
        value: The live object, as the API server returned it; a Secret's values are shown as
            ``***`` (outputs are kept in the state record and printed by ``status``).
    """

    value: dict[str, Any]


# --------------------------------------------------------------------------- apply / read


@attrs.frozen(kw_only=True)
class ApplyObjectParams(Params):
    """Parameters of ``apply-object``.

    Attributes:
        value: The object to apply, written as Kubernetes takes it (``apiVersion``, ``kind``,
            ``metadata.name``...); a namespaced object without a namespace goes to the app's.
        cluster: The cluster to apply it to (a name ``pyvela clusters`` lists); empty: the app's.
    """

    value: Mapping[str, Any]
    cluster: str = ""

    def validate(self) -> None:
        check_cluster(self.cluster)
        if is_ref(self.value):
            return
        metadata: Any = self.value.get("metadata")
        if not self.value.get("apiVersion") or not self.value.get("kind"):
            raise ValueError("value: apiVersion and kind are required")
        if not isinstance(metadata, Mapping) or not cast(Mapping[str, Any], metadata).get("name"):
            raise ValueError("value: metadata.name is required")


@step(name="apply-object", params=ApplyObjectParams)
async def apply_object(p: ApplyObjectParams, ctx: StepContext) -> ObjectOutputs:
    """Apply one Kubernetes object, as written, and output the live object as ``value``.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/apply-object.cue
    (the object is applied, not waited for).
    """
    live = await applying(ctx, plain(p.value), cluster=p.cluster)
    return ObjectOutputs(value=shown(live))


@attrs.frozen(kw_only=True)
class ReadObjectParams(Params):
    """Parameters of ``read-object``.

    Attributes:
        api_version: The object's apiVersion (KubeVela's default: ``core.oam.dev/v1beta1``).
        kind: The object's kind (KubeVela's default: ``Application``).
        name: The object's name.
        namespace: The namespace to read it from (KubeVela's default: ``default``, not the app's).
        cluster: The cluster to read from (a name ``pyvela clusters`` lists); empty: the app's.
    """

    name: str
    api_version: str = "core.oam.dev/v1beta1"
    kind: str = "Application"
    namespace: str = "default"
    cluster: str = ""

    def validate(self) -> None:
        check_cluster(self.cluster)
        check_segment("name", self.name)


@step(name="read-object", params=ReadObjectParams)
async def read_object(p: ReadObjectParams, ctx: StepContext) -> ObjectOutputs:
    """Read one object from the cluster and output it as ``value``; fails when it does not exist.

    A Secret's values are not output (``***``): mount the Secret where its values are needed.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/read-object.cue.
    """
    ref = ObjectRef(p.api_version, p.kind, p.namespace, p.name)
    live = await reading_from(ctx, ref, p.cluster)
    if live is None:
        await ctx.fail(f"{ref} does not exist: read-object has nothing to output")
        raise AssertionError("unreachable: a failed step does not resume")
    return ObjectOutputs(value=shown(live))


# --------------------------------------------------------------------------- ConfigMaps and Secrets


@attrs.frozen(kw_only=True)
class Export2ConfigParams(Params):
    """Parameters of ``export2config``.

    Attributes:
        config_name: The ConfigMap's name.
        namespace: Its namespace; the app's when unset.
        data: The keys and values to store in it.
        cluster: The cluster to write it to (a name ``pyvela clusters`` lists); empty: the app's.
    """

    config_name: str
    data: Mapping[str, str]
    namespace: str | None = None
    cluster: str = ""

    def validate(self) -> None:
        check_cluster(self.cluster)
        check_name("config_name", self.config_name)
        check_data_keys("data", self.data)


@step(name="export2config", params=Export2ConfigParams)
async def export2config(p: Export2ConfigParams, ctx: StepContext) -> None:
    """Write data into a ConfigMap (created, or updated to hold exactly this data).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/export2config.cue.
    """
    where = meta(p.config_name, p.namespace or ctx.namespace)
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": where, "data": plain(p.data)}
    await applying(ctx, config, cluster=p.cluster)


@attrs.frozen(kw_only=True)
class DockerRegistry(Checked):
    """The credentials of a container registry, for ``export2secret(kind="docker-registry")``.

    Attributes:
        username: The user to log in as.
        password: That user's password or token (kept in the Secret only).
        server: The registry's address (Docker Hub's by default).
    """

    username: str
    password: str = attrs.field(repr=False)
    server: str = "https://index.docker.io/v1/"


@attrs.frozen(kw_only=True)
class Export2SecretParams(Params):
    """Parameters of ``export2secret``.

    Attributes:
        secret_name: The Secret's name.
        namespace: Its namespace; the app's when unset.
        type: The Secret's type; for ``kind="docker-registry"`` it defaults to
            ``kubernetes.io/dockerconfigjson``, otherwise the API server's default (Opaque).
        data: The keys and values to store (as ``stringData``: the API server encodes them).
        cluster: The cluster to write it to (a name ``pyvela clusters`` lists); empty: the app's.
        kind: ``generic`` stores ``data``; ``docker-registry`` stores the registry login of
            ``docker_registry`` as ``.dockerconfigjson`` instead.
        docker_registry: The registry login for ``kind="docker-registry"``.
    """

    secret_name: str
    data: Mapping[str, str] = _NO_DATA
    namespace: str | None = None
    type: str | None = None
    cluster: str = ""
    kind: Literal["generic", "docker-registry"] = "generic"
    docker_registry: DockerRegistry | None = None

    def validate(self) -> None:
        check_cluster(self.cluster)
        check_name("secret_name", self.secret_name)
        check_data_keys("data", self.data)
        if self.docker_registry is not None and self.kind != "docker-registry":
            raise ValueError('docker_registry is used only with kind="docker-registry"')


def docker_config(registry: DockerRegistry) -> str:
    """A ``.dockerconfigjson`` with one login (fields in KubeVela's order, compact as Go writes)."""
    auth = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    login = {"username": registry.username, "password": registry.password, "auth": auth}
    return json.dumps({"auths": {registry.server: login}}, separators=(",", ":"))


@step(name="export2secret", params=Export2SecretParams)
async def export2secret(p: Export2SecretParams, ctx: StepContext) -> None:
    """Write data (or a registry login) into a Secret.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/export2secret.cue.
    """
    data: dict[str, str] = plain(p.data)
    if p.kind == "docker-registry" and p.docker_registry is not None:
        data = {".dockerconfigjson": docker_config(p.docker_registry)}
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(p.secret_name, p.namespace or ctx.namespace),
        "stringData": data,
    }
    if p.type is not None:
        secret["type"] = p.type
    elif p.kind == "docker-registry":
        secret["type"] = "kubernetes.io/dockerconfigjson"
    await applying(ctx, secret, cluster=p.cluster)


@attrs.frozen(kw_only=True)
class ExportDataParams(Params):
    """Parameters of ``export-data``.

    Attributes:
        name: The ConfigMap's or Secret's name; the app's name when unset.
        namespace: Its namespace; the app's when unset.
        kind: ``ConfigMap`` (``data``) or ``Secret`` (``stringData``).
        data: The keys and values to export.
        topology: The topology policy whose clusters to export to; unset: the app's cluster.
    """

    data: Mapping[str, str]
    name: str | None = None
    namespace: str | None = None
    kind: Literal["ConfigMap", "Secret"] = "ConfigMap"
    topology: str | None = None

    def validate(self) -> None:
        check_topology(self.topology)
        check_name("name", self.name)
        check_data_keys("data", self.data)


@step(name="export-data", params=ExportDataParams)
async def export_data(p: ExportDataParams, ctx: StepContext) -> None:
    """Export data as a ConfigMap or a Secret to the app's cluster, or a topology's clusters.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/export-data.cue.
    """
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": p.kind,
        "metadata": meta(p.name or ctx.app_name, p.namespace or ctx.namespace),
    }
    obj["data" if p.kind == "ConfigMap" else "stringData"] = plain(p.data)
    await applying(ctx, obj, topology=p.topology)


# --------------------------------------------------------------------------- services


@attrs.frozen(kw_only=True)
class ExportServiceParams(Params):
    """Parameters of ``export-service``.

    Attributes:
        name: The Service's (and Endpoints') name; the app's name when unset.
        namespace: Their namespace; the app's when unset.
        ip: The address the Service forwards to (an IP outside the cluster, or a Pod's).
        port: The port the Service listens on.
        target_port: The port at ``ip`` that receives the traffic.
        topology: The topology policy whose clusters to export to; unset: the app's cluster.
    """

    ip: str
    port: int
    target_port: int
    name: str | None = None
    namespace: str | None = None
    topology: str | None = None

    def validate(self) -> None:
        check_topology(self.topology)
        check_name("name", self.name)
        check_port("port", self.port)
        check_port("target_port", self.target_port)
        if not is_ref(self.ip):
            try:
                ipaddress.ip_address(self.ip)
            except ValueError:
                raise ValueError(
                    f"ip {self.ip!r} is not an IP address (Endpoints hold addresses, not names)"
                ) from None


@step(name="export-service", params=ExportServiceParams)
async def export_service(p: ExportServiceParams, ctx: StepContext) -> None:
    """Make an address reachable under a Service name: a Service without a selector, and the
    Endpoints that point it at ``ip:target_port``.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/export-service.cue
    (on the app's cluster, or each cluster of ``topology``).
    """
    where = meta(p.name or ctx.app_name, p.namespace or ctx.namespace)
    ports = [{"protocol": "TCP", "port": p.port, "targetPort": p.target_port}]
    service: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": dict(where)}
    service["spec"] = {"type": "ClusterIP", "ports": ports}
    endpoints: dict[str, Any] = {"apiVersion": "v1", "kind": "Endpoints", "metadata": dict(where)}
    endpoints["subsets"] = [{"addresses": [{"ip": p.ip}], "ports": [{"port": p.target_port}]}]
    for obj in (service, endpoints):
        await applying(ctx, obj, topology=p.topology)


# --------------------------------------------------------------------------- jobs


@attrs.frozen(kw_only=True)
class CleanJobsParams(Params):
    """Parameters of ``clean-jobs``.

    Attributes:
        labelselector: The labels the Jobs and Pods to delete carry (all of them); by default
            ``workflow.oam.dev/name: <app name>``.
        namespace: Where to delete them; the app's namespace when unset.
    """

    labelselector: Mapping[str, str] | None = None
    namespace: str | None = None

    def validate(self) -> None:
        if self.labelselector is not None and not is_ref(self.labelselector) and not self.labelselector:
            raise ValueError(
                "labelselector: give at least one label (an empty selector would match everything)"
            )


@step(name="clean-jobs", params=CleanJobsParams)
async def clean_jobs(p: CleanJobsParams, ctx: StepContext) -> None:
    """Delete the Jobs, then the Pods, that carry the given labels, and wait until they are gone.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/clean-jobs.cue.
    """
    labels = (
        plain(p.labelselector) if p.labelselector is not None else {"workflow.oam.dev/name": ctx.app_name}
    )
    namespace = p.namespace or ctx.namespace
    gone = {"Job": 0, "Pod": 0}
    for api_version, kind in (("batch/v1", "Job"), ("v1", "Pod")):
        for obj in await ctx.list(api_version, kind, namespace=namespace, labels=labels):
            ref = ObjectRef(api_version, kind, namespace, obj["metadata"]["name"])
            if await ctx.delete(ref):
                gone[kind] += 1
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    await ctx.log(f"deleted {gone['Job']} Job(s) and {gone['Pod']} Pod(s) labelled {selector} in {namespace}")
