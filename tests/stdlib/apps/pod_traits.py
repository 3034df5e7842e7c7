"""Traits that add containers and pod settings, on Deployments, a DaemonSet and a CronJob."""

from pyvela import Application
from pyvela.stdlib import (
    ExtraVolumeMount,
    HostAlias,
    LifecycleExec,
    LifecycleHandler,
    LifecycleHttpGet,
    Profile,
    RollingStrategy,
    SecurityContextPatch,
    UpdateStrategy,
    annotations,
    cron_task,
    daemon,
    hostalias,
    init_container,
    k8s_update_strategy,
    lifecycle,
    podsecuritycontext,
    resource,
    securitycontext,
    sidecar,
    webservice,
)

app_server = webservice("app-server", image="registry.example.com/app:5").with_traits(
    sidecar(name="log-shipper", image="fluent/fluent-bit:3.0"),
    init_container(
        name="fetch-assets",
        image="busybox:1.36",
        cmd=("sh", "-c", "wget -O /work/a.tgz http://assets"),
        app_mount_path="/assets",
        init_mount_path="/work",
        extra_volume_mounts=(ExtraVolumeMount(name="certs", mount_path="/certs"),),
    ),
    hostalias(host_aliases=(HostAlias(ip="10.1.0.1", hostnames=("db.internal",)),)),
    lifecycle(
        post_start=LifecycleHandler(exec=LifecycleExec(command=("touch", "/tmp/started"))),
        pre_stop=LifecycleHandler(http_get=LifecycleHttpGet(port=8080, path="/drain")),
    ),
    k8s_update_strategy(
        strategy=UpdateStrategy(rolling_strategy=RollingStrategy(max_surge="1", max_unavailable="0"))
    ),
    podsecuritycontext(run_as_user=1000, fs_group=2000, seccomp_profile=Profile(type="RuntimeDefault")),
    securitycontext(
        containers=(
            SecurityContextPatch(
                container_name="app-server", drop_capabilities=("ALL",), read_only_root_filesystem=True
            ),
            SecurityContextPatch(container_name="log-shipper", run_as_user=0, run_as_non_root=False),
        )
    ),
)

recreate = webservice("batch-api", image="registry.example.com/batch:1").with_traits(
    k8s_update_strategy(strategy=UpdateStrategy(type="Recreate")),
    securitycontext(add_capabilities=("NET_BIND_SERVICE",)),
)

node_agent = daemon("node-agent", image="registry.example.com/agent:2").with_traits(
    k8s_update_strategy(target_kind="DaemonSet", strategy=UpdateStrategy()),
    podsecuritycontext(
        run_as_non_root=False, app_armor_profile=Profile(type="Localhost", localhost_profile="agent")
    ),
)

report = cron_task(
    "report", schedule="*/30 * * * *", image="registry.example.com/report:1", cpu="100m"
).with_traits(
    annotations(annotations={"sidecar.istio.io/inject": "false"}),
    resource(cpu=1, memory="512Mi"),
)

app = Application("pods", components=[app_server, recreate, node_agent, report])
