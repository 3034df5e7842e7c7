"""``collect-service-endpoints``: where an app's components can be reached.

Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/collect-service-endpoints.cue
and the endpoint rules of its query provider: a ClusterIP or ExternalName Service gives
``<name>.<namespace>:<port>`` (inner: reachable in the cluster only), a NodePort Service the
gateway node's address and each node port, a LoadBalancer Service each ingress address, an
Ingress each rule's host and path on port 80 (443 with TLS, or the controller's ports from the
``ingress.controller/*`` annotations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs

from pyvela import ObjectRef, Readiness, StepContext, step

from ._steps import as_str_list, is_ref
from ._types import Params, as_list, as_map

LABEL_APP = "app.oam.dev/name"
LABEL_COMPONENT = "app.oam.dev/component"
_GATEWAY_NODE, _WORKER_NODE = "node-role.kubernetes.io/gateway", "node-role.kubernetes.io/worker"
_APP_PROTOCOL = {80: "http", 8080: "http", 443: "https", 3306: "mysql", 6379: "redis"}


@attrs.frozen(kw_only=True)
class CollectServiceEndpointsParams(Params):
    """Parameters of ``collect-service-endpoints``.

    Attributes:
        name: The app whose endpoints to collect; this app when unset.
        namespace: That app's namespace; this app's when unset.
        components: Only endpoints of these components.
        port: Only endpoints on this port.
        port_name: Only endpoints of the Service port of this name.
        outer: True: only endpoints reachable from outside the cluster (not ClusterIP Services).
        protocal: The scheme of the output ``url`` (KubeVela spells the parameter this way).
    """

    name: str | None = None
    namespace: str | None = None
    components: tuple[str, ...] | None = None
    port: int | None = None
    port_name: str | None = None
    outer: bool | None = None
    protocal: Literal["http", "https"] = "http"

    def validate(self) -> None:
        if self.port is not None and not is_ref(self.port) and not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a port: 1-65535")


@attrs.frozen(kw_only=True)
class CollectServiceEndpointsOutputs:
    """The endpoints found.

    Attributes:
        url: ``<protocal>://<host>:<port>`` of the first endpoint.
        endpoint: The first endpoint (``protocol``, ``appProtocol``, ``host``, ``port``, and
            ``portName``, ``path``, ``inner`` where they apply).
        endpoints: Every endpoint, each with its ``endpoint``, the object it comes from
            (``ref``), its ``cluster`` and ``component``.
    """

    url: str
    endpoint: dict[str, Any]
    endpoints: list[dict[str, Any]]


@step(name="collect-service-endpoints", params=CollectServiceEndpointsParams)
async def collect_service_endpoints(
    p: CollectServiceEndpointsParams, ctx: StepContext
) -> CollectServiceEndpointsOutputs:
    """Collect the endpoints of an app's Services and Ingresses, filtered; the first one as a URL.

    When none matches but a LoadBalancer Service of the app has no address yet, waits until it
    has one (its controller assigns it after the Service exists), then looks again. Fails when
    still none matches (KubeVela keeps waiting: here the objects were applied by earlier steps).
    """
    app, namespace = p.name or ctx.app_name, p.namespace or ctx.namespace
    labels = {LABEL_APP: app}
    waited = False
    while True:
        services = await ctx.list("v1", "Service", namespace=namespace, labels=labels)
        ingresses = await ctx.list("networking.k8s.io/v1", "Ingress", namespace=namespace, labels=labels)
        node_ip = ""
        if any(as_map(s.get("spec")).get("type") == "NodePort" for s in services):
            node_ip = gateway_ip(await ctx.list("v1", "Node"))
        found = [ep for s in services for ep in service_endpoints(s, node_ip)]
        found += [ep for i in ingresses for ep in ingress_endpoints(i)]
        order = {name: i for i, name in enumerate(ctx.components)} if app == ctx.app_name else {}
        found.sort(key=lambda ep: order.get(ep["component"], len(order)))
        chosen = select(found, p)
        pending = [s for s in services if _awaits_address(s, p)]
        if chosen or waited or not pending:
            break
        for service in pending:
            await ctx.wait_ready(ObjectRef.of(service), rule=has_address)
        waited = True
    if not chosen:
        wanted = describe_filters(p)
        await ctx.fail(
            f"app {namespace}/{app} has no endpoint{wanted}: found {len(services)} Service(s) and "
            f"{len(ingresses)} Ingress(es) labelled {LABEL_APP}={app}"
        )
    first = chosen[0]["endpoint"]
    url = f"{p.protocal}://{first['host']}:{first['port']}"
    return CollectServiceEndpointsOutputs(url=url, endpoint=first, endpoints=chosen)


def _addresses(service: dict[str, Any]) -> list[Any]:
    return as_list(as_map(as_map(service.get("status")).get("loadBalancer")).get("ingress"))


def _awaits_address(service: dict[str, Any], p: CollectServiceEndpointsParams) -> bool:
    """A LoadBalancer Service of a wanted component whose address is not assigned yet."""
    if as_map(service.get("spec")).get("type") != "LoadBalancer" or _addresses(service):
        return False
    component = as_map(as_map(service.get("metadata")).get("labels")).get(LABEL_COMPONENT)
    return p.components is None or component in p.components


def has_address(live: dict[str, Any] | None) -> Readiness:
    """Ready once a LoadBalancer Service's controller gave it an address."""
    if live is None:
        return Readiness(False, "the Service does not exist", failed=True)
    if _addresses(live):
        return Readiness(True, "load balancer address assigned")
    return Readiness(False, "waiting for a load balancer address")


def select(found: Sequence[dict[str, Any]], p: CollectServiceEndpointsParams) -> list[dict[str, Any]]:
    """The endpoints that pass the step's filters."""
    out: list[dict[str, Any]] = []
    for ep in found:
        e = ep["endpoint"]
        if p.components is not None and ep["component"] not in p.components:
            continue
        if p.port_name is not None and e.get("portName", "") != p.port_name:
            continue
        if p.port is not None and e["port"] != p.port:
            continue
        if p.outer and e.get("inner"):
            continue
        out.append(ep)
    return out


def describe_filters(p: CollectServiceEndpointsParams) -> str:
    parts = [
        f"components {', '.join(p.components)}" if p.components is not None else "",
        f"port {p.port}" if p.port is not None else "",
        f"port name {p.port_name!r}" if p.port_name is not None else "",
        "reachable from outside the cluster" if p.outer else "",
    ]
    given = [x for x in parts if x]
    return f" matching {'; '.join(given)}" if given else ""


def _ref(obj: dict[str, Any]) -> dict[str, Any]:
    m = as_map(obj.get("metadata"))
    ref = {"kind": obj.get("kind"), "namespace": m.get("namespace"), "name": m.get("name")}
    ref |= {k: v for k, v in (("uid", m.get("uid")), ("apiVersion", obj.get("apiVersion"))) if v}
    if m.get("resourceVersion"):
        ref["resourceVersion"] = m["resourceVersion"]
    return ref


def _endpoint(obj: dict[str, Any], **endpoint: Any) -> dict[str, Any]:
    component = str(as_map(as_map(obj.get("metadata")).get("labels")).get(LABEL_COMPONENT) or "")
    fields = {k: v for k, v in endpoint.items() if v not in ("", None, False) or k == "appProtocol"}
    return {"endpoint": fields, "ref": _ref(obj), "cluster": "", "component": component}


def service_endpoints(service: dict[str, Any], node_ip: str) -> list[dict[str, Any]]:
    """The endpoints of one Service, by its type (KubeVela's rules)."""
    spec, meta = as_map(service.get("spec")), as_map(service.get("metadata"))
    kind = spec.get("type") or "ClusterIP"
    out: list[dict[str, Any]] = []
    for port in as_list(spec.get("ports")):
        port = as_map(port)
        common = {
            "protocol": port.get("protocol") or "TCP",
            "appProtocol": _APP_PROTOCOL.get(int(port.get("port") or 0), ""),
            "portName": port.get("name") or "",
        }
        if kind == "LoadBalancer":
            for ingress in as_list(as_map(as_map(service.get("status")).get("loadBalancer")).get("ingress")):
                for host in (as_map(ingress).get("hostname"), as_map(ingress).get("ip")):
                    if host:
                        out.append(_endpoint(service, **common, host=host, port=port.get("port")))
        elif kind == "NodePort":
            out.append(_endpoint(service, **common, host=node_ip, port=port.get("nodePort")))
        elif kind in ("ClusterIP", "ExternalName"):
            host = f"{meta.get('name')}.{meta.get('namespace')}"
            out.append(_endpoint(service, **common, host=host, port=port.get("port"), inner=True))
    return out


def ingress_endpoints(ingress: dict[str, Any]) -> list[dict[str, Any]]:
    """One endpoint per path of each rule of an Ingress."""
    spec = as_map(ingress.get("spec"))
    notes = as_map(as_map(ingress.get("metadata")).get("annotations"))
    tls = [as_str_list(as_map(t).get("hosts")) for t in as_list(spec.get("tls"))]
    out: list[dict[str, Any]] = []
    for rule in as_list(spec.get("rules")):
        rule = as_map(rule)
        host = str(rule.get("host") or "")
        scheme = "https" if any(not hosts or host in hosts for hosts in tls) else "http"
        port = _annotated_port(notes, f"ingress.controller/{scheme}-port", 443 if scheme == "https" else 80)
        for path in as_list(as_map(rule.get("http")).get("paths")):
            out.append(
                _endpoint(
                    ingress,
                    protocol="TCP",
                    appProtocol=scheme,
                    host=host or str(notes.get("ingress.controller/host") or ""),
                    port=port,
                    path=str(as_map(path).get("path") or ""),
                )
            )
    return out


def _annotated_port(notes: Any, key: str, default: int) -> int:
    try:
        port = int(str(notes.get(key) or ""))
    except ValueError:
        return default
    return port if port > 0 else default


def gateway_ip(nodes: Sequence[dict[str, Any]]) -> str:
    """The node address NodePort endpoints use: a gateway node's, else the workers', else any
    node's; an external address first, else the first candidate's internal one."""
    labelled = [(n, as_map(as_map(n.get("metadata")).get("labels"))) for n in nodes]
    gateway = [n for n, labels in labelled if _GATEWAY_NODE in labels][:1]
    workers = [n for n, labels in labelled if _WORKER_NODE in labels]
    candidates = gateway or workers or list(nodes)
    addresses = [
        {
            as_map(a).get("type"): as_map(a).get("address")
            for a in as_list(as_map(n.get("status")).get("addresses"))
        }
        for n in candidates
    ]
    for found in addresses:
        if found.get("ExternalIP"):
            return str(found["ExternalIP"])
    return str(addresses[0].get("InternalIP") or "") if addresses else ""
