"""Building the main container and pod template the way KubeVela's workloads do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._types import EnvVar, HealthProbe, HostAlias, env_list, host_aliases, probe, resources
from ._volumes import Volume, VolumeMounts, legacy_mounts_and_volumes, mounts_and_volumes

LABEL_APP = "app.oam.dev/name"
LABEL_COMPONENT = "app.oam.dev/component"
LABEL_REVISION = "app.oam.dev/revision"


def container(
    name: str,
    image: str,
    *,
    image_pull_policy: str | None = None,
    cmd: tuple[str, ...] | None = None,
    args: tuple[str, ...] | None = None,
    env: tuple[EnvVar, ...] | None = None,
    cpu: str | None = None,
    memory: str | None = None,
    liveness_probe: HealthProbe | None = None,
    readiness_probe: HealthProbe | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "image": image}
    if ports is not None:
        out["ports"] = ports
    if image_pull_policy is not None:
        out["imagePullPolicy"] = image_pull_policy
    if cmd is not None:
        out["command"] = list(cmd)
    if args is not None:
        out["args"] = list(args)
    if env is not None:
        out["env"] = env_list(env)
    res = resources(cpu, memory)
    if res is not None:
        out["resources"] = res
    if liveness_probe is not None:
        out["livenessProbe"] = probe(liveness_probe)
    if readiness_probe is not None:
        out["readinessProbe"] = probe(readiness_probe)
    return out


def add_volumes(
    main: dict[str, Any],
    spec: dict[str, Any],
    *,
    volume_mounts: VolumeMounts | None,
    volumes: tuple[Volume, ...] | None,
    host_path_options: bool = False,
) -> None:
    """``volume_mounts`` wins over the deprecated ``volumes`` when both are given (as in KubeVela)."""
    if volume_mounts is not None:
        main["volumeMounts"], spec["volumes"] = mounts_and_volumes(
            volume_mounts, host_path_options=host_path_options
        )
    elif volumes is not None:
        main["volumeMounts"], spec["volumes"] = legacy_mounts_and_volumes(volumes)


def pod_spec_extras(
    spec: dict[str, Any],
    *,
    image_pull_secrets: tuple[str, ...] | None = None,
    aliases: tuple[HostAlias, ...] | None = None,
) -> None:
    if aliases is not None:
        spec["hostAliases"] = host_aliases(aliases)
    if image_pull_secrets is not None:
        spec["imagePullSecrets"] = [{"name": s} for s in image_pull_secrets]


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
