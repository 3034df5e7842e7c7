"""Traits for scheduling, storage and startup probes."""

from pyvela import Application
from pyvela.stdlib import (
    ConfigMapEnv,
    ExecAction,
    GrpcAction,
    KeyToPath,
    LabelRequirement,
    LabelSelector,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PreferredNode,
    PvcResources,
    SecretEnv,
    SpreadConstraint,
    StartupHttpGet,
    StartupProbePatch,
    StorageAmount,
    StorageConfigMap,
    StorageEmptyDir,
    StorageHostPath,
    StoragePvc,
    StorageSecret,
    Toleration,
    TypedRef,
    WeightedPodAffinityTerm,
    affinity,
    sidecar,
    startup_probe,
    storage,
    topologyspreadconstraints,
    webservice,
    worker,
)

_ZONE = "topology.kubernetes.io/zone"
_MINE = LabelSelector(match_labels={"app.oam.dev/component": "search"})

search = webservice("search", image="registry.example.com/search:7").with_traits(
    affinity(
        pod_anti_affinity=PodAffinity(
            required=(PodAffinityTerm(topology_key="kubernetes.io/hostname", label_selector=_MINE),),
            preferred=(
                WeightedPodAffinityTerm(
                    weight=50,
                    pod_affinity_term=PodAffinityTerm(
                        topology_key=_ZONE,
                        label_selector=LabelSelector(
                            match_expressions=(LabelRequirement(key="tier", values=("search", "index")),)
                        ),
                        namespaces=("search", "index"),
                    ),
                ),
            ),
        ),
        node_affinity=NodeAffinity(
            required=NodeSelector(
                node_selector_terms=(
                    NodeSelectorTerm(
                        match_expressions=(NodeSelectorRequirement(key="disk", values=("ssd",)),),
                        match_fields=(
                            NodeSelectorRequirement(
                                key="metadata.name", operator="NotIn", values=("node-9",)
                            ),
                        ),
                    ),
                )
            ),
            preferred=(
                PreferredNode(
                    weight=10,
                    preference=NodeSelectorTerm(
                        match_expressions=(
                            NodeSelectorRequirement(key="cpu-gen", operator="Gt", values=("3",)),
                        )
                    ),
                ),
            ),
        ),
        tolerations=(
            Toleration(key="dedicated", value="search", effect="NoSchedule"),
            Toleration(operator="Exists", effect="NoExecute", toleration_seconds=60),
        ),
    ),
    topologyspreadconstraints(
        constraints=(
            SpreadConstraint(max_skew=1, topology_key=_ZONE, label_selector=_MINE, min_domains=2),
            SpreadConstraint(
                max_skew=2,
                topology_key="kubernetes.io/hostname",
                label_selector=_MINE,
                when_unsatisfiable="ScheduleAnyway",
                match_label_keys=("pod-template-hash",),
                node_affinity_policy="Honor",
                node_taints_policy="Ignore",
            ),
        )
    ),
    sidecar(name="warmer", image="registry.example.com/warmer:1"),
    startup_probe(
        probes=(
            StartupProbePatch(
                container_name="search",
                http_get=StartupHttpGet(port=9200, path="/_ready", scheme="HTTP"),
                failure_threshold=30,
                termination_grace_period_seconds=10,
            ),
            StartupProbePatch(container_name="warmer", grpc=GrpcAction(port=9000), period_seconds=5),
        )
    ),
)

archiver = worker("archiver", image="registry.example.com/archiver:2").with_traits(
    storage(
        pvc=(
            StoragePvc(
                name="archive",
                mount_path="/archive",
                storage_class_name="standard",
                resources=PvcResources(
                    requests=StorageAmount(storage="20Gi"), limits=StorageAmount(storage="50Gi")
                ),
                data_source=TypedRef(
                    name="archive-snap", kind="VolumeSnapshot", api_group="snapshot.storage.k8s.io"
                ),
            ),
            StoragePvc(name="shared", mount_path="/shared", mount_only=True, sub_path="archiver"),
            StoragePvc(
                name="raw", mount_path="/dev/xvdb", volume_mode="Block", access_modes=("ReadWriteOncePod",)
            ),
        ),
        config_map=(
            StorageConfigMap(
                name="archiver-conf",
                mount_path="/etc/archiver",
                data={"retention": "30d"},
                items=(KeyToPath(key="retention", path="retention.txt"),),
                read_only=True,
            ),
            StorageConfigMap(
                name="feature-flags",
                mount_only=True,
                mount_to_env=ConfigMapEnv(env_name="FLAGS", config_map_key="flags"),
                mount_to_envs=(ConfigMapEnv(env_name="BETA", config_map_key="beta"),),
            ),
        ),
        secret=(
            StorageSecret(
                name="archiver-s3",
                mount_path="/etc/s3",
                string_data={"bucket": "archive"},
                mount_to_env=SecretEnv(env_name="S3_KEY", secret_key="key"),
            ),
        ),
        empty_dir=(StorageEmptyDir(name="staging", mount_path="/staging", medium="Memory"),),
        host_path=(
            StorageHostPath(
                name="machine-id", path="/etc/machine-id", mount_path="/etc/machine-id", type="File"
            ),
        ),
    ),
    startup_probe(exec=ExecAction(command=("archiver", "check")), initial_delay_seconds=3),
)

app = Application("placement", components=[search, archiver])
