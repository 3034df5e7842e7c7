"""Volumes of the standard workloads: ``volume_mounts`` (five kinds) and the deprecated ``volumes``."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ._types import Checked


@attrs.frozen(kw_only=True)
class KeyToPath(Checked):
    """One key of a ConfigMap or Secret projected to a file.

    Attributes:
        key: The key.
        path: The file's path, relative to the mount path.
        mode: The file's permission bits (default 0777, i.e. 511).
    """

    key: str
    path: str
    mode: int = 511


@attrs.frozen(kw_only=True)
class PvcMount(Checked):
    """A PersistentVolumeClaim mounted into the main container.

    Attributes:
        name: The volume's name in the pod.
        mount_path: Where it is mounted.
        sub_path: A path inside the volume to mount instead of its root.
        claim_name: The claim's name.
    """

    name: str
    mount_path: str
    claim_name: str
    sub_path: str | None = None


@attrs.frozen(kw_only=True)
class ConfigMapMount(Checked):
    """A ConfigMap mounted as files.

    Attributes:
        name: The volume's name in the pod.
        mount_path: Where it is mounted.
        sub_path: A path inside the volume to mount instead of its root.
        cm_name: The ConfigMap's name.
        default_mode: Permission bits of the files (default 0644, i.e. 420).
        items: Only these keys, at these paths (default: every key, named after it).
    """

    name: str
    mount_path: str
    cm_name: str
    sub_path: str | None = None
    default_mode: int = 420
    items: tuple[KeyToPath, ...] | None = None


@attrs.frozen(kw_only=True)
class SecretMount(Checked):
    """A Secret mounted as files.

    Attributes:
        name: The volume's name in the pod.
        mount_path: Where it is mounted.
        sub_path: A path inside the volume to mount instead of its root.
        secret_name: The Secret's name.
        default_mode: Permission bits of the files (default 0644, i.e. 420).
        items: Only these keys, at these paths (default: every key, named after it).
    """

    name: str
    mount_path: str
    secret_name: str
    sub_path: str | None = None
    default_mode: int = 420
    items: tuple[KeyToPath, ...] | None = None


@attrs.frozen(kw_only=True)
class EmptyDirMount(Checked):
    """A scratch directory that lives as long as the pod.

    Attributes:
        name: The volume's name in the pod.
        mount_path: Where it is mounted.
        sub_path: A path inside the volume to mount instead of its root.
        medium: ``""`` (the node's disk) or ``Memory`` (a tmpfs).
    """

    name: str
    mount_path: str
    sub_path: str | None = None
    medium: Literal["", "Memory"] = ""


@attrs.frozen(kw_only=True)
class HostPathMount(Checked):
    """A directory of the node mounted into the container.

    Attributes:
        name: The volume's name in the pod.
        mount_path: Where it is mounted.
        sub_path: A path inside the volume to mount instead of its root.
        path: The directory on the node.
        mount_propagation: How mounts propagate between host and container (daemon only).
        read_only: Mount it read-only (daemon only).
    """

    name: str
    mount_path: str
    path: str
    sub_path: str | None = None
    mount_propagation: Literal["None", "HostToContainer", "Bidirectional"] | None = None
    read_only: bool | None = None


@attrs.frozen(kw_only=True)
class VolumeMounts(Checked):
    """Volumes mounted into the main container, by kind.

    Attributes:
        pvc: PersistentVolumeClaims.
        config_map: ConfigMaps.
        secret: Secrets.
        empty_dir: Scratch directories.
        host_path: Directories of the node.
    """

    pvc: tuple[PvcMount, ...] = ()
    config_map: tuple[ConfigMapMount, ...] = ()
    secret: tuple[SecretMount, ...] = ()
    empty_dir: tuple[EmptyDirMount, ...] = ()
    host_path: tuple[HostPathMount, ...] = ()


def _items(items: tuple[KeyToPath, ...] | None) -> dict[str, Any]:
    return {} if items is None else {"items": [{"key": i.key, "path": i.path, "mode": i.mode} for i in items]}


def config_map_source(name: str, default_mode: int, items: tuple[KeyToPath, ...] | None) -> dict[str, Any]:
    """A pod volume's ``configMap``."""
    return {"defaultMode": default_mode, "name": name, **_items(items)}


def secret_source(name: str, default_mode: int, items: tuple[KeyToPath, ...] | None) -> dict[str, Any]:
    """A pod volume's ``secret``."""
    return {"defaultMode": default_mode, "secretName": name, **_items(items)}


def first_of_each_name(volumes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pod's volumes: the first volume of each name wins, as in KubeVela."""
    seen: set[str] = set()
    unique: list[dict[str, Any]] = []
    for volume in volumes:
        if volume["name"] not in seen:
            seen.add(volume["name"])
            unique.append(volume)
    return unique


def _volume(kind: str, v: Any) -> dict[str, Any]:
    """The pod volume of a ``volume_mounts`` entry or a deprecated ``Volume`` (same field names)."""
    if kind == "pvc":
        return {"name": v.name, "persistentVolumeClaim": {"claimName": v.claim_name}}
    if kind == "configMap":
        return {"name": v.name, "configMap": config_map_source(v.cm_name, v.default_mode, v.items)}
    if kind == "secret":
        return {"name": v.name, "secret": secret_source(v.secret_name, v.default_mode, v.items)}
    if kind == "emptyDir":
        return {"name": v.name, "emptyDir": {"medium": v.medium}}
    return {"name": v.name, "hostPath": {"path": v.path}}


def mounts_and_volumes(vm: VolumeMounts, *, host_path_options: bool = False) -> tuple[list[Any], list[Any]]:
    """The container's volumeMounts and the pod's volumes (first of each name kept)."""
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    groups: tuple[tuple[str, tuple[Any, ...]], ...] = (
        ("pvc", vm.pvc),
        ("configMap", vm.config_map),
        ("secret", vm.secret),
        ("emptyDir", vm.empty_dir),
        ("hostPath", vm.host_path),
    )
    for kind, group in groups:
        for v in group:
            mount: dict[str, Any] = {"mountPath": v.mount_path, "name": v.name}
            if v.sub_path is not None:
                mount["subPath"] = v.sub_path
            if host_path_options and isinstance(v, HostPathMount):
                # KubeVela's daemon accepts these but drops them; they are meant for the mount.
                if v.mount_propagation is not None:
                    mount["mountPropagation"] = v.mount_propagation
                if v.read_only is not None:
                    mount["readOnly"] = v.read_only
            mounts.append(mount)
            volumes.append(_volume(kind, v))
    return mounts, first_of_each_name(volumes)


@attrs.frozen(kw_only=True)
class Volume(Checked):
    """A volume in the deprecated ``volumes`` form (prefer ``volume_mounts``).

    Attributes:
        name: The volume's name in the pod.
        mount_path: Where it is mounted in the main container.
        type: ``emptyDir`` (default), ``pvc``, ``configMap`` or ``secret``.
        claim_name: The claim's name (``pvc`` only, required there).
        cm_name: The ConfigMap's name (``configMap`` only, required there).
        secret_name: The Secret's name (``secret`` only, required there).
        default_mode: Permission bits of the files (``configMap``/``secret``; default 420).
        items: Only these keys, at these paths (``configMap``/``secret``).
        medium: ``""`` or ``Memory`` (``emptyDir`` only).
    """

    name: str
    mount_path: str
    type: Literal["emptyDir", "pvc", "configMap", "secret"] = "emptyDir"
    claim_name: str | None = None
    cm_name: str | None = None
    secret_name: str | None = None
    default_mode: int = 420
    items: tuple[KeyToPath, ...] | None = None
    medium: Literal["", "Memory"] = ""

    def validate(self) -> None:
        needs = {"pvc": "claim_name", "configMap": "cm_name", "secret": "secret_name"}
        for kind, field in needs.items():
            given = getattr(self, field) is not None
            if kind == self.type and not given:
                raise ValueError(f"volume {self.name!r} of type {kind!r} needs {field}")
            if kind != self.type and given:
                raise ValueError(
                    f"volume {self.name!r}: {field} is only for type {kind!r}, not {self.type!r}"
                )


def legacy_mounts_and_volumes(volumes: tuple[Volume, ...]) -> tuple[list[Any], list[Any]]:
    """The deprecated form: every volume kept, even one of a name already used."""
    return [{"mountPath": v.mount_path, "name": v.name} for v in volumes], [
        _volume(v.type, v) for v in volumes
    ]
