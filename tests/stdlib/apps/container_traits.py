"""Traits that patch containers by name, on a webservice that already has env, args and ports."""

from pyvela import Application
from pyvela.stdlib import (
    CommandPatch,
    ContainerPort,
    EnvPatch,
    EnvValueFrom,
    EnvVar,
    ImagePatch,
    KeyRef,
    Port,
    ResourceAmounts,
    SharedVolume,
    annotations,
    command,
    container_image,
    container_ports,
    env,
    json_merge_patch,
    json_patch,
    labels,
    resource,
    scaler,
    sidecar,
    webservice,
)

_ENV = (
    EnvVar(name="LEVEL", value="info"),
    EnvVar(name="TOKEN", value_from=EnvValueFrom(secret_key_ref=KeyRef(name="api", key="token"))),
    EnvVar(name="OLD_FLAG", value="1"),
)

api = webservice(
    "api",
    image="registry.example.com/api:1.0",
    args=("--verbose", "--port", "8080"),
    env=_ENV,
    ports=(Port(port=8080, name="http"), Port(port=9090)),
    labels={"old": "x"},
).with_traits(
    scaler(replicas=3),
    env(env={"LEVEL": "debug", "REGION": "eu-1"}, unset=("OLD_FLAG",)),
    command(add_args=("--trace",), del_args=("--verbose",)),
    container_image(image="registry.example.com/api:1.1", image_pull_policy="Always"),
    container_ports(
        ports=(
            ContainerPort(container_port=9090, host_port=19090),
            ContainerPort(container_port=53, protocol="UDP"),
        )
    ),
    resource(cpu="2", memory="4Gi"),
    labels(labels={"release": "canary", "old": None}),
    annotations(annotations={"owner": "team-api"}),
)

# Several containers at once, and `replace`.
multi = webservice("multi", image="registry.example.com/multi:1", env=_ENV).with_traits(
    sidecar(
        name="proxy",
        image="envoyproxy/envoy:v1.30",
        args=("-c", "/etc/envoy.yaml"),
        volumes=(SharedVolume(name="conf", path="/etc/envoy"),),
    ),
    env(
        containers=(
            EnvPatch(container_name="multi", replace=True, env={"ONLY": "this"}),
            EnvPatch(container_name="proxy", env={"ENVOY_UID": "0"}),
        )
    ),
    command(
        containers=(CommandPatch(container_name="proxy", command=("envoy",), args=("--log-level", "warn")),)
    ),
    container_image(containers=(ImagePatch(container_name="proxy", image="envoyproxy/envoy:v1.31"),)),
    resource(requests=ResourceAmounts(cpu=0.5, memory="512Mi"), limits=ResourceAmounts()),
)

# Raw patches: RFC 7396 then RFC 6902, on what the earlier traits rendered.
patched = webservice("patched", image="registry.example.com/patched:1", env=_ENV).with_traits(
    json_merge_patch(
        patch={"spec": {"revisionHistoryLimit": 2, "template": {"spec": {"dnsPolicy": "None"}}}}
    ),
    json_patch(
        operations=(
            {"op": "remove", "path": "/spec/template/spec/containers/0/env/2"},
            {"op": "add", "path": "/spec/template/spec/dnsConfig", "value": {"nameservers": ["10.0.0.53"]}},
            {
                "op": "replace",
                "path": "/spec/template/spec/containers/0/image",
                "value": "registry.example.com/patched:2",
            },
        )
    ),
)

app = Application("containers", components=[api, multi, patched])
