"""Traits that add objects: gateways, Services, Ingresses, autoscalers, RBAC."""

from pyvela import Application
from pyvela.stdlib import (
    DevEnv,
    DevSync,
    ExposePort,
    PersistentDir,
    PodMetric,
    Port,
    Privilege,
    ResourceTarget,
    cpuscaler,
    expose,
    gateway,
    hpa,
    nocalhost,
    pure_ingress,
    service_account,
    webservice,
    worker,
)

web = webservice("web", image="nginx:1.27", ports=(Port(port=80), Port(port=8080))).with_traits(
    gateway(domain="shop.example.com", http={"/": 80, "/static": 80, "/api": 8080}, secret_name="shop-tls"),
    gateway(
        name="internal",
        http={"/": 8080},
        class_="internal",
        class_in_spec=True,
        path_type="Prefix",
        gateway_host="gw.internal",
        annotations={"a": "b"},
        labels={"zone": "private"},
        existing_service_name="web-internal",
    ),
    hpa(
        min=2,
        max=6,
        cpu=ResourceTarget(value=70),
        mem=ResourceTarget(type="AverageValue", value=300),
        pod_custom_metrics=(PodMetric(name="requests_per_second", value="100"),),
    ),
)

docs = webservice("docs", image="nginx:1.27", port=80).with_traits(
    pure_ingress(domain="docs.example.com", http={"/": 80}),
    expose(port=(80, 443)),
    cpuscaler(min=1, max=4, cpu_util=60),
)

edge = webservice(
    "edge", image="registry.example.com/edge:2", ports=(Port(port=80), Port(port=8080))
).with_traits(
    expose(
        ports=(
            ExposePort(port=80),
            ExposePort(port=5353, protocol="UDP"),
            ExposePort(port=8080, node_port=30080),
        ),
        type="NodePort",
        annotations={"lb": "none"},
    ),
)

indexer = worker("indexer", image="registry.example.com/indexer:3").with_traits(
    nocalhost(
        port=9000,
        image="go",
        git_url="https://git.example.com/indexer.git",
        env=(DevEnv(name="GOFLAGS", value="-mod=mod"),),
        sync=DevSync(file_pattern=("./cmd", "./pkg")),
        persistent_volume_dirs=(PersistentDir(path="/root/go/pkg", capacity="5Gi"),),
    ),
    service_account(
        name="indexer",
        create=True,
        privileges=(
            Privilege(verbs=("get", "list", "watch"), api_groups=("",), resources=("pods", "configmaps")),
            Privilege(verbs=("get",), non_resource_urls=("/metrics",), scope="cluster"),
            Privilege(
                verbs=("list",),
                api_groups=("apps",),
                resources=("deployments",),
                resource_names=("web",),
                scope="cluster",
            ),
        ),
    ),
)

app = Application("objects", namespace="prod", components=[web, docs, edge, indexer])
