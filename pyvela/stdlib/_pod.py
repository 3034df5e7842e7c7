"""Building the main container and pod template the way KubeVela's workloads do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ._types import EnvVar, HealthProbe, HostAlias, host_aliases, probe_fields, process_fields, resources
from ._volumes import Volume, VolumeMounts, legacy_mounts_and_volumes, mounts_and_volumes

LABEL_APP = "app.oam.dev/name"
LABEL_COMPONENT = "app.oam.dev/component"
LABEL_REVISION = "app.oam.dev/revision"


class PodParams(Protocol):
    """The container and pod parameters every standard workload has (same names, same meaning)."""

    @property
    def image(self) -> str: ...
    @property
    def image_pull_policy(self) -> str | None: ...
    @property
    def image_pull_secrets(self) -> tuple[str, ...] | None: ...
    @property
    def cmd(self) -> tuple[str, ...] | None: ...
    @property
    def env(self) -> tuple[EnvVar, ...] | None: ...
    @property
    def cpu(self) -> str | None: ...
    @property
    def memory(self) -> str | None: ...
    @property
    def volumes(self) -> tuple[Volume, ...] | None: ...
    @property
    def liveness_probe(self) -> HealthProbe | None: ...
    @property
    def readiness_probe(self) -> HealthProbe | None: ...


def pod_spec(
    name: str,
    p: PodParams,
    *,
    restart: str | None = None,
    args: tuple[str, ...] | None = None,
    ports: list[dict[str, Any]] | None = None,
    volume_mounts: VolumeMounts | None = None,
    host_path_options: bool = False,
    aliases: tuple[HostAlias, ...] | None = None,
) -> dict[str, Any]:
    """The pod spec of a standard workload: its main container, volumes and pod extras.

    ``volume_mounts`` wins over the deprecated ``volumes`` when both are given (as in KubeVela).
    """
    main: dict[str, Any] = {"name": name, "image": p.image}
    if ports is not None:
        main["ports"] = ports
    if p.image_pull_policy is not None:
        main["imagePullPolicy"] = p.image_pull_policy
    main.update(process_fields(p.cmd, args, p.env))
    res = resources(p.cpu, p.memory)
    if res is not None:
        main["resources"] = res
    main.update(probe_fields(p.liveness_probe, p.readiness_probe))
    spec: dict[str, Any] = {} if restart is None else {"restartPolicy": restart}
    spec["containers"] = [main]
    if volume_mounts is not None:
        main["volumeMounts"], spec["volumes"] = mounts_and_volumes(
            volume_mounts, host_path_options=host_path_options
        )
    elif p.volumes is not None:
        main["volumeMounts"], spec["volumes"] = legacy_mounts_and_volumes(p.volumes)
    if aliases is not None:
        spec["hostAliases"] = host_aliases(aliases)
    if p.image_pull_secrets is not None:
        spec["imagePullSecrets"] = [{"name": s} for s in p.image_pull_secrets]
    return spec


def pod_metadata(
    app_name: str,
    component: str,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    merged: dict[str, str] = dict(labels or {})
    if revision is not None:
        merged[LABEL_REVISION] = revision
    merged[LABEL_APP] = app_name
    merged[LABEL_COMPONENT] = component
    meta: dict[str, Any] = {"labels": merged}
    if annotations is not None:
        meta["annotations"] = dict(annotations)
    return meta


def service(name: str, component: str, ports: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    """The Service KubeVela's workloads create for ports with ``expose``."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {LABEL_COMPONENT: component}, "ports": ports, "type": type_},
    }
