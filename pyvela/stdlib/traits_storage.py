"""The ``storage`` trait: PVCs, ConfigMaps, Secrets, emptyDirs and hostPaths, mounted or as env."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import Obj, TraitContext, TraitResult, trait

from ._patch import Patch, containers, on_pod_spec
from ._types import Checked, Params
from ._volumes import KeyToPath, config_map_source, first_of_each_name, secret_source
from .traits_containers import POD_WORKLOADS
from .traits_meta import QUANTITY
from .traits_scheduling import LabelSelector


@attrs.frozen(kw_only=True)
class StorageAmount(Checked):
    """An amount of storage.

    Attributes:
        storage: The amount, e.g. ``"8Gi"``.
    """

    storage: str

    def validate(self) -> None:
        if not QUANTITY.match(self.storage):
            raise ValueError(f"storage {self.storage!r} is not a quantity like 8Gi")


@attrs.frozen(kw_only=True)
class PvcResources(Checked):
    """A claim's size.

    Attributes:
        requests: The size requested.
        limits: The most it may grow to.
    """

    requests: StorageAmount
    limits: StorageAmount | None = None


@attrs.frozen(kw_only=True)
class TypedRef(Checked):
    """An object a claim is populated from.

    Attributes:
        name: Its name.
        kind: Its kind (``VolumeSnapshot``, ``PersistentVolumeClaim``...).
        api_group: Its API group.
    """

    name: str
    kind: str
    api_group: str


@attrs.frozen(kw_only=True)
class StoragePvc(Checked):
    """A PersistentVolumeClaim, created (unless ``mount_only``) and mounted.

    Attributes:
        name: The claim's name (the volume is ``pvc-<name>``).
        mount_path: Where it is mounted (the device path for ``Block`` volumes).
        mount_only: Mount an existing claim instead of creating it.
        sub_path: A path inside the volume to mount instead of its root.
        volume_mode: ``Filesystem`` (default) or ``Block``.
        volume_name: Bind to this PersistentVolume.
        access_modes: Access modes (default ``ReadWriteOnce``).
        storage_class_name: The storage class.
        resources: The size (default: 8Gi requested).
        data_source_ref: Populate it from this object.
        data_source: Populate it from this object.
        selector: Bind only to volumes with these labels.
    """

    name: str
    mount_path: str
    mount_only: bool = False
    sub_path: str | None = None
    volume_mode: str = "Filesystem"
    volume_name: str | None = None
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    storage_class_name: str | None = None
    resources: PvcResources | None = None
    data_source_ref: TypedRef | None = None
    data_source: TypedRef | None = None
    selector: LabelSelector | None = None


@attrs.frozen(kw_only=True)
class ConfigMapEnv(Checked):
    """An environment variable from a ConfigMap key.

    Attributes:
        env_name: The variable.
        config_map_key: The key.
    """

    env_name: str
    config_map_key: str


@attrs.frozen(kw_only=True)
class StorageConfigMap(Checked):
    """A ConfigMap, created (unless ``mount_only``), mounted and/or exposed as env vars.

    Attributes:
        name: The ConfigMap's name (the volume is ``configmap-<name>``).
        mount_only: Use an existing ConfigMap instead of creating it.
        mount_to_env: One key as an environment variable.
        mount_to_envs: Several keys as environment variables.
        mount_path: Where to mount it (not mounted when not given).
        sub_path: A path inside the volume to mount instead of its root.
        default_mode: Permission bits of the files (default 420).
        read_only: Mount it read-only.
        data: The ConfigMap's data, when it is created.
        items: Only these keys, at these paths.
    """

    name: str
    mount_only: bool = False
    mount_to_env: ConfigMapEnv | None = None
    mount_to_envs: tuple[ConfigMapEnv, ...] | None = None
    mount_path: str | None = None
    sub_path: str | None = None
    default_mode: int = 420
    read_only: bool = False
    data: Mapping[str, Any] | None = None
    items: tuple[KeyToPath, ...] | None = None


@attrs.frozen(kw_only=True)
class SecretEnv(Checked):
    """An environment variable from a Secret key.

    Attributes:
        env_name: The variable.
        secret_key: The key.
    """

    env_name: str
    secret_key: str


@attrs.frozen(kw_only=True)
class StorageSecret(Checked):
    """A Secret, created (unless ``mount_only``), mounted and/or exposed as env vars.

    Attributes:
        name: The Secret's name (the volume is ``secret-<name>``).
        mount_path: Where to mount it.
        mount_only: Use an existing Secret instead of creating it.
        mount_to_env: One key as an environment variable.
        mount_to_envs: Several keys as environment variables.
        sub_path: A path inside the volume to mount instead of its root.
        default_mode: Permission bits of the files (default 420).
        read_only: Mount it read-only.
        string_data: The Secret's data as plain strings, when it is created.
        data: The Secret's data, base64-encoded, when it is created.
        items: Only these keys, at these paths.
    """

    name: str
    mount_path: str
    mount_only: bool = False
    mount_to_env: SecretEnv | None = None
    mount_to_envs: tuple[SecretEnv, ...] | None = None
    sub_path: str | None = None
    default_mode: int = 420
    read_only: bool = False
    string_data: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    items: tuple[KeyToPath, ...] | None = None


@attrs.frozen(kw_only=True)
class StorageEmptyDir(Checked):
    """A scratch directory.

    Attributes:
        name: Its name (the volume is ``emptydir-<name>``).
        mount_path: Where it is mounted.
        sub_path: A path inside the volume to mount instead of its root.
        medium: ``""`` (the node's disk) or ``Memory``.
    """

    name: str
    mount_path: str
    sub_path: str | None = None
    medium: Literal["", "Memory"] = ""


@attrs.frozen(kw_only=True)
class StorageHostPath(Checked):
    """A directory or file of the node.

    Attributes:
        name: Its name (the volume is ``hostpath-<name>``).
        path: The path on the node.
        mount_path: Where it is mounted.
        type: What must be at ``path`` (default ``Directory``).
    """

    name: str
    path: str
    mount_path: str
    type: Literal[
        "Directory", "DirectoryOrCreate", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"
    ] = "Directory"


@attrs.frozen(kw_only=True)
class StorageParams(Params):
    """Parameters of ``storage``.

    Attributes:
        pvc: PersistentVolumeClaims.
        config_map: ConfigMaps.
        secret: Secrets.
        empty_dir: Scratch directories.
        host_path: Node paths.
    """

    pvc: tuple[StoragePvc, ...] | None = None
    config_map: tuple[StorageConfigMap, ...] | None = None
    secret: tuple[StorageSecret, ...] | None = None
    empty_dir: tuple[StorageEmptyDir, ...] | None = None
    host_path: tuple[StorageHostPath, ...] | None = None


def _mount(name: str, path: str, sub_path: str | None, read_only: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "mountPath": path}
    if sub_path is not None:
        out["subPath"] = sub_path
    if read_only:  # KubeVela accepts readOnly and drops it; it is meant for the mount
        out["readOnly"] = True
    return out


def _pvc(v: StoragePvc) -> Obj:
    spec: dict[str, Any] = {"accessModes": list(v.access_modes), "volumeMode": v.volume_mode}
    if v.volume_name is not None:
        spec["volumeName"] = v.volume_name
    if v.storage_class_name is not None:
        spec["storageClassName"] = v.storage_class_name
    res: dict[str, Any] = {"requests": {"storage": v.resources.requests.storage if v.resources else "8Gi"}}
    if v.resources is not None and v.resources.limits is not None:
        res["limits"] = {"storage": v.resources.limits.storage}
    spec["resources"] = res
    for key, ref in (("dataSourceRef", v.data_source_ref), ("dataSource", v.data_source)):
        if ref is not None:
            spec[key] = {"name": ref.name, "kind": ref.kind, "apiGroup": ref.api_group}
    if v.selector is not None:
        # KubeVela writes the selector into dataSource; it is the claim's selector.
        spec["selector"] = v.selector.to_dict()
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": v.name}, "spec": spec}


@trait(name="storage", params=StorageParams, applies_to=POD_WORKLOADS)
def storage(p: StorageParams, ctx: TraitContext) -> TraitResult:
    """Add volumes (creating PVCs, ConfigMaps and Secrets) to the workload's first container.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/storage.cue.
    """
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    env: list[dict[str, Any]] = []
    outputs: dict[str, Obj] = {}
    for pvc in p.pvc or ():
        volumes.append({"name": f"pvc-{pvc.name}", "persistentVolumeClaim": {"claimName": pvc.name}})
        if pvc.volume_mode == "Filesystem":
            mounts.append(_mount(f"pvc-{pvc.name}", pvc.mount_path, pvc.sub_path))
        elif pvc.volume_mode == "Block":
            devices.append({"name": f"pvc-{pvc.name}", "devicePath": pvc.mount_path})
        if not pvc.mount_only:
            outputs[f"pvc-{pvc.name}"] = _pvc(pvc)
    for cm in p.config_map or ():
        if cm.mount_path is not None:
            source = config_map_source(cm.name, cm.default_mode, cm.items)
            volumes.append({"name": f"configmap-{cm.name}", "configMap": source})
            mounts.append(_mount(f"configmap-{cm.name}", cm.mount_path, cm.sub_path, cm.read_only))
        for e in ([cm.mount_to_env] if cm.mount_to_env else []) + list(cm.mount_to_envs or ()):
            env.append(
                {
                    "name": e.env_name,
                    "valueFrom": {"configMapKeyRef": {"name": cm.name, "key": e.config_map_key}},
                }
            )
        if not cm.mount_only:
            obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cm.name}}
            if cm.data is not None:
                obj["data"] = dict(cm.data)
            outputs[f"configmap-{cm.name}"] = obj
    for sec in p.secret or ():
        source = secret_source(sec.name, sec.default_mode, sec.items)
        volumes.append({"name": f"secret-{sec.name}", "secret": source})
        mounts.append(_mount(f"secret-{sec.name}", sec.mount_path, sec.sub_path, sec.read_only))
        for s in ([sec.mount_to_env] if sec.mount_to_env else []) + list(sec.mount_to_envs or ()):
            env.append(
                {"name": s.env_name, "valueFrom": {"secretKeyRef": {"name": sec.name, "key": s.secret_key}}}
            )
        if not sec.mount_only:
            obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": sec.name}}
            if sec.data is not None:
                obj["data"] = dict(sec.data)
            if sec.string_data is not None:
                obj["stringData"] = dict(sec.string_data)
            outputs[f"secret-{sec.name}"] = obj
    for ed in p.empty_dir or ():
        volumes.append({"name": f"emptydir-{ed.name}", "emptyDir": {"medium": ed.medium}})
        mounts.append(_mount(f"emptydir-{ed.name}", ed.mount_path, ed.sub_path))
    for hp in p.host_path or ():
        # KubeVela's volume lacks the `hostPath:` level (an invalid volume) and drops `type`.
        volumes.append({"name": f"hostpath-{hp.name}", "hostPath": {"path": hp.path, "type": hp.type}})
        mounts.append({"name": f"hostpath-{hp.name}", "mountPath": hp.mount_path})
    first = containers(ctx.workload)
    pod: Patch = {"volumes": first_of_each_name(volumes)}
    if first:
        existing = list(first[0].get("volumeDevices") or [])
        known = {d.get("name") for d in devices}
        item: Patch = {
            "name": first[0]["name"],
            "env": env,
            "volumeDevices": [d for d in existing if d.get("name") not in known] + devices,
            "volumeMounts": mounts,
        }
        pod["containers"] = [item]
    return TraitResult(outputs=outputs, patch=on_pod_spec(pod))
