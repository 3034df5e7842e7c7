"""statefulset, helm and helmchart with representative parameters (a ledger service and its charts).

statefulset follows KubeVela's statefulset.cue (main branch), helm the FluxCD addon's
helm-release-def.cue, helmchart KubeVela's helmchart.cue (main branch): see their docstrings.
"""

from pyvela import Application
from pyvela.stdlib import (
    ChartOptions,
    ChartRelease,
    ChartSource,
    EnvVar,
    HealthProbe,
    HostAlias,
    Port,
    PvcMount,
    TcpSocketAction,
    VolumeMounts,
    helm,
    helmchart,
    statefulset,
)

ledger = statefulset(
    "ledger",
    image="registry.example.com/bank/ledger:4.0.2",
    labels={"tier": "data"},
    annotations={"backup.example.com/schedule": "nightly"},
    image_pull_policy="IfNotPresent",
    ports=(
        Port(port=5432, expose=True),
        Port(port=9187, name="metrics"),
        Port(port=8125, protocol="UDP", expose=True),
    ),
    expose_type="NodePort",
    cmd=("ledger",),
    args=("--data", "/var/lib/ledger"),
    env=(EnvVar(name="LEDGER_MODE", value="primary"),),
    cpu="1",
    memory="2Gi",
    volume_mounts=VolumeMounts(
        pvc=(PvcMount(name="data", mount_path="/var/lib/ledger", claim_name="ledger-data"),)
    ),
    readiness_probe=HealthProbe(tcp_socket=TcpSocketAction(port=5432)),
    host_aliases=(HostAlias(ip="10.0.0.9", hostnames=("audit.internal",)),),
)

plain_set = statefulset("ledger-replica", image="registry.example.com/bank/ledger:4.0.2", port=5432)

cache = helm(
    "cache",
    repo_type="helm",
    repo_url="https://charts.example.com/stable",
    chart="memcached",
    version="6.14.0",
    values={"replicaCount": 2, "resources": {"requests": {"memory": "256Mi"}}},
)

queue = helm(
    "queue",
    url="oci://registry.example.com/charts",
    repo_type="oci",
    chart="rabbitmq",
    target_namespace="messaging",
)

search = helmchart(
    "search",
    chart=ChartSource(source="opensearch", repo_url="https://charts.example.com/search", version="2.21.0"),
    release=ChartRelease(name="search-main", namespace="search"),
    values={"singleNode": True},
    options=ChartOptions(timeout="10m"),
)

metrics = helmchart("metrics", chart=ChartSource(source="oci://registry.example.com/charts/vmagent"))

app = Application("bank", namespace="bank", components=[ledger, plain_set, cache, queue, search, metrics])
