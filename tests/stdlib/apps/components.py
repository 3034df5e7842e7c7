"""Every standard component with representative parameters (a shop's back office)."""

from pyvela import Application
from pyvela.stdlib import (
    ConfigMapMount,
    CronTaskParams,
    DaemonPort,
    EmptyDirMount,
    EnvValueFrom,
    EnvVar,
    ExecAction,
    HealthProbe,
    HostAlias,
    HostPathMount,
    HttpGetAction,
    HttpHeader,
    KeyRef,
    KeyToPath,
    Port,
    PvcMount,
    SecretMount,
    TcpSocketAction,
    Volume,
    VolumeMounts,
    cron_task,
    daemon,
    task,
    webservice,
    worker,
)

assert CronTaskParams  # the parameter classes are importable next to the definitions

storefront = webservice(
    "storefront",
    image="registry.example.com/shop/storefront:2.3.1",
    labels={"tier": "frontend"},
    annotations={"prometheus.io/scrape": "true"},
    image_pull_policy="IfNotPresent",
    image_pull_secrets=("shop-registry",),
    ports=(
        Port(port=80, expose=True),
        Port(port=8443, container_port=443, name="https", expose=True, node_port=30443),
        Port(port=5353, protocol="UDP"),
    ),
    expose_type="NodePort",
    cmd=("/bin/storefront",),
    args=("--listen", ":80"),
    env=(
        EnvVar(name="MODE", value="production"),
        EnvVar(name="DB_PASSWORD", value_from=EnvValueFrom(secret_key_ref=KeyRef(name="db", key="password"))),
        EnvVar(name="THEME", value_from=EnvValueFrom(config_map_key_ref=KeyRef(name="look", key="theme"))),
    ),
    cpu="500m",
    memory="256Mi",
    volume_mounts=VolumeMounts(
        pvc=(PvcMount(name="uploads", mount_path="/srv/uploads", claim_name="uploads-pvc"),),
        config_map=(
            ConfigMapMount(
                name="settings",
                mount_path="/etc/storefront",
                cm_name="storefront-settings",
                items=(KeyToPath(key="app.toml", path="app.toml"),),
            ),
        ),
        secret=(
            SecretMount(name="tls", mount_path="/etc/tls", secret_name="storefront-tls", default_mode=256),
        ),
        empty_dir=(
            EmptyDirMount(name="cache", mount_path="/var/cache/storefront", medium="Memory"),
            EmptyDirMount(name="cache", mount_path="/var/cache/thumbs", sub_path="thumbs"),
        ),
        host_path=(
            HostPathMount(name="zoneinfo", mount_path="/usr/share/zoneinfo", path="/usr/share/zoneinfo"),
        ),
    ),
    liveness_probe=HealthProbe(
        http_get=HttpGetAction(
            path="/healthz", port=80, scheme="HTTP", http_headers=(HttpHeader(name="X-Probe", value="1"),)
        ),
        initial_delay_seconds=5,
    ),
    readiness_probe=HealthProbe(tcp_socket=TcpSocketAction(port=80), period_seconds=3),
    host_aliases=(HostAlias(ip="10.0.0.9", hostnames=("payments.internal",)),),
)

plain = webservice("catalog", image="registry.example.com/shop/catalog:1.0", port=8080)

legacy = webservice(
    "legacy-admin",
    image="registry.example.com/shop/admin:0.9",
    volumes=(
        Volume(name="scratch", mount_path="/tmp/scratch"),
        Volume(name="data", mount_path="/data", type="pvc", claim_name="admin-data"),
        Volume(name="conf", mount_path="/etc/admin", type="configMap", cm_name="admin-conf"),
        Volume(name="keys", mount_path="/etc/keys", type="secret", secret_name="admin-keys"),
    ),
)

mailer = worker(
    "mailer",
    image="registry.example.com/shop/mailer:4.0",
    image_pull_policy="Always",
    image_pull_secrets=("shop-registry",),
    cmd=("mailer", "--queue", "outbox"),
    env=(EnvVar(name="SMTP_HOST", value="smtp.example.com"),),
    cpu="250m",
    volume_mounts=VolumeMounts(empty_dir=(EmptyDirMount(name="spool", mount_path="/var/spool/mail"),)),
    liveness_probe=HealthProbe(exec=ExecAction(command=("mailer", "ping")), failure_threshold=5),
)

log_agent = daemon(
    "log-agent",
    image="registry.example.com/ops/log-agent:1.7",
    labels={"team": "ops"},
    ports=(DaemonPort(port=24224, expose=True), DaemonPort(port=9880, name="http", expose=True)),
    expose_type="LoadBalancer",
    memory="128Mi",
    volume_mounts=VolumeMounts(
        host_path=(
            HostPathMount(
                name="varlog",
                mount_path="/var/log",
                path="/var/log",
                mount_propagation="HostToContainer",
                read_only=True,
            ),
        ),
    ),
    host_aliases=(HostAlias(ip="10.0.0.20", hostnames=("logs.internal", "es.internal")),),
)

migrate = task(
    "migrate",
    image="registry.example.com/shop/migrate:2.3.1",
    labels={"job": "schema"},
    count=2,
    restart="OnFailure",
    cmd=("migrate", "up"),
    env=(EnvVar(name="DB_HOST", value="db"),),
    volumes=(Volume(name="sql", mount_path="/sql", type="configMap", cm_name="migrations"),),
    image_pull_secrets=("shop-registry",),
)

nightly = cron_task(
    "nightly-report",
    schedule="0 3 * * *",
    image="registry.example.com/shop/report:1.2",
    annotations={"owner": "finance"},
    starting_deadline_seconds=300,
    concurrency_policy="Forbid",
    successful_jobs_history_limit=5,
    cmd=("report", "--yesterday"),
    cpu="1",
    memory="1Gi",
    volume_mounts=VolumeMounts(
        secret=(SecretMount(name="creds", mount_path="/creds", secret_name="report-creds"),)
    ),
    host_aliases=(HostAlias(ip="10.0.0.30", hostnames=("warehouse.internal",)),),
    ttl_seconds_after_finished=3600,
    active_deadline_seconds=1800,
    backoff_limit=2,
)

app = Application(
    "shop",
    namespace="shop",
    components=[storefront, plain, legacy, mailer, log_agent, migrate, nightly],
)
