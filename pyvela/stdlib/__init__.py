"""pyvela's standard library: KubeVela v1.10.1's built-in components and traits in Python.

Same names and parameters (snake_case), rendering the same objects as KubeVela renders
for Kubernetes >= 1.25. Build a catalogue from this package as from any definitions
module (``--defs pyvela.stdlib``); health rules are in :mod:`pyvela.stdlib.health`.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import _workflowsteps, steps_http, steps_notify
    from ._types import (
        EnvValueFrom,
        EnvVar,
        ExecAction,
        FieldRef,
        HealthProbe,
        HostAlias,
        HttpGetAction,
        HttpHeader,
        KeyRef,
        TcpSocketAction,
    )
    from ._volumes import (
        ConfigMapMount,
        EmptyDirMount,
        HostPathMount,
        KeyToPath,
        PvcMount,
        SecretMount,
        Volume,
        VolumeMounts,
    )
    from ._workflowsteps import *  # noqa: F403 - the workflow steps (their names: its __all__)
    from .helm import GitSource, HelmParams, HelmRepositoryOptions, OssSource, ValuesFrom, helm
    from .helmchart import (
        ChartCache,
        ChartOptions,
        ChartRelease,
        ChartSource,
        ConditionWanted,
        HealthCriterion,
        HelmChartParams,
        ResourceSelector,
        helmchart,
    )
    from .jobs import CronTaskParams, TaskParams, cron_task, task
    from .objects import K8sObjectsParams, k8s_objects
    from .refobjects import ObjectSelector, RefObjectsParams, ref_objects

    # The HTTP and notification steps list their public names (messages' nested classes included)
    # in their own __all__, which keeps this module under its size limit.
    from .steps_http import *  # noqa: F403
    from .steps_notify import *  # noqa: F403
    from .traits_containers import (
        CommandParams,
        CommandPatch,
        ContainerImageParams,
        ContainerPort,
        ContainerPortsParams,
        EnvParams,
        EnvPatch,
        ImagePatch,
        PortsPatch,
        command,
        container_image,
        container_ports,
        env,
    )
    from .traits_deprecated import Ingress120Params, ingress_1_20
    from .traits_dev import (
        DevAmounts,
        DevCommand,
        DevDebug,
        DevEnv,
        DevResources,
        DevSync,
        NocalhostParams,
        PersistentDir,
        nocalhost,
    )
    from .traits_json import (
        JsonMergePatchParams,
        JsonPatchParams,
        json_merge_patch,
        json_patch,
    )
    from .traits_meta import (
        AnnotationsParams,
        HostAliasParams,
        LabelsParams,
        LifecycleExec,
        LifecycleHandler,
        LifecycleHttpGet,
        LifecycleHttpHeader,
        LifecycleParams,
        LifecycleTcpSocket,
        ResourceAmounts,
        ResourceParams,
        ScalerParams,
        annotations,
        hostalias,
        labels,
        lifecycle,
        resource,
        scaler,
    )
    from .traits_network import (
        CpuScalerParams,
        ExposeParams,
        ExposePort,
        GatewayParams,
        HpaParams,
        PodMetric,
        PureIngressParams,
        ResourceTarget,
        cpuscaler,
        expose,
        gateway,
        hpa,
        pure_ingress,
    )
    from .traits_pod import (
        ExtraVolumeMount,
        GrpcAction,
        InitContainerParams,
        RollingStrategy,
        SharedVolume,
        SidecarParams,
        StartupHttpGet,
        StartupProbeParams,
        StartupProbePatch,
        StartupTcpSocket,
        UpdateStrategy,
        UpdateStrategyParams,
        init_container,
        k8s_update_strategy,
        sidecar,
        startup_probe,
    )
    from .traits_scheduling import (
        AffinityParams,
        LabelRequirement,
        LabelSelector,
        NodeAffinity,
        NodeSelector,
        NodeSelectorRequirement,
        NodeSelectorTerm,
        PodAffinity,
        PodAffinityTerm,
        PreferredNode,
        SpreadConstraint,
        Toleration,
        TopologySpreadParams,
        WeightedPodAffinityTerm,
        affinity,
        topologyspreadconstraints,
    )
    from .traits_security import (
        PodSecurityContextParams,
        Privilege,
        Profile,
        SecurityContextParams,
        SecurityContextPatch,
        ServiceAccountParams,
        podsecuritycontext,
        securitycontext,
        service_account,
    )
    from .traits_storage import (
        ConfigMapEnv,
        PvcResources,
        SecretEnv,
        StorageAmount,
        StorageConfigMap,
        StorageEmptyDir,
        StorageHostPath,
        StorageParams,
        StoragePvc,
        StorageSecret,
        TypedRef,
        storage,
    )
    from .workloads import (
        DaemonParams,
        DaemonPort,
        Port,
        StatefulsetParams,
        WebserviceParams,
        WorkerParams,
        daemon,
        statefulset,
        webservice,
        worker,
    )

__all__ = [
    "AffinityParams",
    "AnnotationsParams",
    "ChartCache",
    "ChartOptions",
    "ChartRelease",
    "ChartSource",
    "CommandParams",
    "CommandPatch",
    "ConditionWanted",
    "ConfigMapEnv",
    "ConfigMapMount",
    "ContainerImageParams",
    "ContainerPort",
    "ContainerPortsParams",
    "CpuScalerParams",
    "CronTaskParams",
    "DaemonParams",
    "DaemonPort",
    "DevAmounts",
    "DevCommand",
    "DevDebug",
    "DevEnv",
    "DevResources",
    "DevSync",
    "EmptyDirMount",
    "EnvParams",
    "EnvPatch",
    "EnvValueFrom",
    "EnvVar",
    "ExecAction",
    "ExposeParams",
    "ExposePort",
    "ExtraVolumeMount",
    "FieldRef",
    "GatewayParams",
    "GitSource",
    "GrpcAction",
    "HealthCriterion",
    "HealthProbe",
    "HelmChartParams",
    "HelmParams",
    "HelmRepositoryOptions",
    "HostAlias",
    "HostAliasParams",
    "HostPathMount",
    "HpaParams",
    "HttpGetAction",
    "HttpHeader",
    "ImagePatch",
    "Ingress120Params",
    "InitContainerParams",
    "JsonMergePatchParams",
    "JsonPatchParams",
    "K8sObjectsParams",
    "KeyRef",
    "KeyToPath",
    "LabelRequirement",
    "LabelSelector",
    "LabelsParams",
    "LifecycleExec",
    "LifecycleHandler",
    "LifecycleHttpGet",
    "LifecycleHttpHeader",
    "LifecycleParams",
    "LifecycleTcpSocket",
    "NocalhostParams",
    "NodeAffinity",
    "NodeSelector",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "ObjectSelector",
    "OssSource",
    "PersistentDir",
    "PodAffinity",
    "PodAffinityTerm",
    "PodMetric",
    "PodSecurityContextParams",
    "Port",
    "PortsPatch",
    "PreferredNode",
    "Privilege",
    "Profile",
    "PureIngressParams",
    "PvcMount",
    "PvcResources",
    "RefObjectsParams",
    "ResourceAmounts",
    "ResourceParams",
    "ResourceSelector",
    "ResourceTarget",
    "RollingStrategy",
    "ScalerParams",
    "SecretEnv",
    "SecretMount",
    "SecurityContextParams",
    "SecurityContextPatch",
    "ServiceAccountParams",
    "SharedVolume",
    "SidecarParams",
    "SpreadConstraint",
    "StartupHttpGet",
    "StartupProbeParams",
    "StartupProbePatch",
    "StartupTcpSocket",
    "StatefulsetParams",
    "StorageAmount",
    "StorageConfigMap",
    "StorageEmptyDir",
    "StorageHostPath",
    "StorageParams",
    "StoragePvc",
    "StorageSecret",
    "TaskParams",
    "TcpSocketAction",
    "Toleration",
    "TopologySpreadParams",
    "TypedRef",
    "UpdateStrategy",
    "UpdateStrategyParams",
    "ValuesFrom",
    "Volume",
    "VolumeMounts",
    "WebserviceParams",
    "WeightedPodAffinityTerm",
    "WorkerParams",
    "affinity",
    "annotations",
    "command",
    "container_image",
    "container_ports",
    "cpuscaler",
    "cron_task",
    "daemon",
    "env",
    "expose",
    "gateway",
    "helm",
    "helmchart",
    "hostalias",
    "hpa",
    "ingress_1_20",
    "init_container",
    "json_merge_patch",
    "json_patch",
    "k8s_objects",
    "k8s_update_strategy",
    "labels",
    "lifecycle",
    "nocalhost",
    "podsecuritycontext",
    "pure_ingress",
    "ref_objects",
    "resource",
    "scaler",
    "securitycontext",
    "service_account",
    "sidecar",
    "startup_probe",
    "statefulset",
    "storage",
    "task",
    "topologyspreadconstraints",
    "webservice",
    "worker",
]
if TYPE_CHECKING:
    __all__ += _workflowsteps.__all__
    __all__ += steps_http.__all__
    __all__ += steps_notify.__all__
else:
    # Importing every module would cost an app that uses three definitions the whole library
    # (about 0.15 s); a name is imported from its module when it is first used (PEP 562).
    from ._index import PUBLIC as _PUBLIC

    __all__ = list(_PUBLIC)

    def __getattr__(name: str) -> Any:
        module = _PUBLIC.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_PUBLIC})

    import sys as _sys
    from types import ModuleType as _ModuleType

    class _Package(_ModuleType):
        # Two definitions share their module's name (``helm``, ``helmchart``): importing the
        # module sets the package attribute to the module, which would hide the definition.
        def __setattr__(self, name: str, value: Any) -> None:
            if isinstance(value, _ModuleType) and _PUBLIC.get(name) == name:
                value = getattr(value, name)
            super().__setattr__(name, value)

    _sys.modules[__name__].__class__ = _Package
