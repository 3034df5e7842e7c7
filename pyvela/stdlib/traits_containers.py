"""Traits that patch containers by name: env, command, container-image, container-ports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import TraitContext, TraitResult, trait

from ._patch import Patch, container, no_single_form, on_containers, replacing, targets
from ._types import EMPTY, Checked, Params, Protocol

POD_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


# --------------------------------------------------------------------------- env


@attrs.frozen(kw_only=True)
class EnvPatch(Checked):
    """Environment changes for one container.

    Attributes:
        container_name: The container (default: the one named after the component).
        replace: Replace the container's whole environment instead of merging into it.
        env: Variables to set (existing ones of the same name get the new value).
        unset: Variables to remove.
    """

    container_name: str = ""
    replace: bool = False
    env: Mapping[str, str] = EMPTY
    unset: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class EnvParams(EnvPatch, Params):
    """Parameters of ``env``: one container's changes, or ``containers`` for several.

    Attributes:
        containers: Changes for several containers (each names its container).
    """

    containers: tuple[EnvPatch, ...] | None = None

    def validate(self) -> None:
        no_single_form(self, EnvPatch, "containers")


def _env_for(base: Mapping[str, Any], p: EnvPatch) -> list[dict[str, Any]]:
    dropped = set(p.unset)
    current = base.get("env")
    if current is None:
        return [{"name": k, "value": v} for k, v in p.env.items() if k not in dropped]
    known = {var.get("name") for var in current}
    kept: list[dict[str, Any]] = []
    for var in current:
        if var.get("name") in dropped or p.replace:
            continue
        item: dict[str, Any] = {"name": var["name"]}
        if var["name"] in p.env:
            item["value"] = p.env[var["name"]]
        else:
            item.update({k: var[k] for k in ("value", "valueFrom") if k in var})
        kept.append(item)
    added = [
        {"name": k, "value": v}
        for k, v in p.env.items()
        if k not in dropped and (p.replace or k not in known)
    ]
    return kept + added


@trait(name="env", params=EnvParams, applies_to=POD_WORKLOADS)
def env(p: EnvParams, ctx: TraitContext) -> TraitResult:
    """Set, replace or unset environment variables of containers.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/env.cue.
    """
    items: list[Patch] = []
    for target in targets(ctx, p, p.containers, "containers"):
        base = container(ctx.workload, target.container_name, trait="env")
        items += replacing(target.container_name, {"env": _env_for(base, target)})
    return TraitResult(patch=on_containers(items))


# --------------------------------------------------------------------------- command


@attrs.frozen(kw_only=True)
class CommandPatch(Checked):
    """Command and argument changes for one container.

    Attributes:
        container_name: The container (default: the one named after the component).
        command: The new command (unchanged when not given).
        args: The new arguments, replacing the existing ones.
        add_args: Arguments appended to the existing ones (not with ``args``).
        del_args: Existing arguments to remove (not with ``args``).
    """

    container_name: str = ""
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    add_args: tuple[str, ...] | None = None
    del_args: tuple[str, ...] | None = None

    def validate(self) -> None:
        if self.args is not None and (self.add_args is not None or self.del_args is not None):
            raise ValueError("cannot set add_args/del_args and args at the same time")


@attrs.frozen(kw_only=True)
class CommandParams(CommandPatch, Params):
    """Parameters of ``command``: one container's changes, or ``containers`` for several.

    Attributes:
        containers: Changes for several containers (each names its container).
    """

    containers: tuple[CommandPatch, ...] | None = None

    def validate(self) -> None:
        super().validate()
        no_single_form(self, CommandPatch, "containers")


@trait(name="command", params=CommandParams, applies_to=POD_WORKLOADS)
def command(p: CommandParams, ctx: TraitContext) -> TraitResult:
    """Change the command and arguments of containers.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/command.cue.
    """
    items: list[Patch] = []
    for t in targets(ctx, p, p.containers, "containers"):
        base = container(ctx.workload, t.container_name, trait="command")
        current = list(t.args) if t.args is not None else list(base.get("args") or [])
        dropped = set(t.del_args or ())
        present = set(current)
        args = [a for a in current if a not in dropped]
        args += [a for a in t.add_args or () if a not in dropped and a not in present]
        fields: dict[str, Any] = {"args": args}
        if t.command is not None:
            fields["command"] = list(t.command)
        items += replacing(t.container_name, fields)
    return TraitResult(patch=on_containers(items))


# --------------------------------------------------------------------------- container-image


@attrs.frozen(kw_only=True)
class ImagePatch(Checked):
    """The image of one container.

    Attributes:
        container_name: The container (default: the one named after the component).
        image: The new image.
        image_pull_policy: ``IfNotPresent``, ``Always`` or ``Never`` (empty: unchanged).
    """

    image: str
    container_name: str = ""
    image_pull_policy: Literal["", "IfNotPresent", "Always", "Never"] = ""


@attrs.frozen(kw_only=True)
class ContainerImageParams(Params):
    """Parameters of ``container-image``: ``image`` for one container, or ``containers``.

    Attributes:
        image: The new image of the container (required unless ``containers`` is given).
        container_name: The container (default: the one named after the component).
        image_pull_policy: ``IfNotPresent``, ``Always`` or ``Never`` (empty: unchanged).
        containers: Images for several containers (each names its container).
    """

    image: str | None = None
    container_name: str = ""
    image_pull_policy: Literal["", "IfNotPresent", "Always", "Never"] = ""
    containers: tuple[ImagePatch, ...] | None = None

    def validate(self) -> None:
        if (self.image is None) == (self.containers is None):
            raise ValueError("give either image (one container) or containers")
        if self.containers is not None and (self.container_name or self.image_pull_policy):
            raise ValueError("container_name/image_pull_policy cannot be combined with containers")


@trait(name="container-image", params=ContainerImageParams, applies_to=POD_WORKLOADS)
def container_image(p: ContainerImageParams, ctx: TraitContext) -> TraitResult:
    """Set the image (and pull policy) of containers.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/container-image.cue.
    """
    if p.containers is None:
        assert p.image is not None
        one = ImagePatch(
            image=p.image, container_name=p.container_name or ctx.name, image_pull_policy=p.image_pull_policy
        )
        chosen = [one]
    else:
        chosen = targets(ctx, None, p.containers, "containers")
    items: list[Patch] = []
    for t in chosen:
        container(ctx.workload, t.container_name, trait="container-image")
        item: Patch = {"name": t.container_name, "image": t.image}
        if t.image_pull_policy:
            item["imagePullPolicy"] = t.image_pull_policy
        items.append(item)
    return TraitResult(patch=on_containers(items))


# --------------------------------------------------------------------------- container-ports


@attrs.frozen(kw_only=True)
class ContainerPort(Checked):
    """A port of a container.

    Attributes:
        container_port: The port number.
        protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
        host_port: Also bind this port on the node.
        host_ip: The node address to bind ``host_port`` to.
    """

    container_port: int
    protocol: Protocol = "TCP"
    host_port: int | None = None
    host_ip: str | None = None


@attrs.frozen(kw_only=True)
class PortsPatch(Checked):
    """Ports of one container.

    Attributes:
        container_name: The container (default: the one named after the component).
        ports: Ports to add; existing ports with the same number and protocol get the host settings.
    """

    container_name: str = ""
    ports: tuple[ContainerPort, ...] = ()


@attrs.frozen(kw_only=True)
class ContainerPortsParams(PortsPatch, Params):
    """Parameters of ``container-ports``: one container's ports, or ``containers`` for several.

    Attributes:
        containers: Ports for several containers (each names its container).
    """

    containers: tuple[PortsPatch, ...] | None = None

    def validate(self) -> None:
        no_single_form(self, PortsPatch, "containers")


def _host(port: ContainerPort | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if port is not None and port.host_port is not None:
        out["hostPort"] = port.host_port
    if port is not None and port.host_ip is not None:
        out["hostIP"] = port.host_ip
    return out


def _ports_for(base: Mapping[str, Any], p: PortsPatch) -> list[dict[str, Any]]:
    wanted = {f"{v.protocol.lower()}{v.container_port}": v for v in p.ports}
    current = base.get("ports")
    if current is None:
        return [{"containerPort": v.container_port, "protocol": v.protocol, **_host(v)} for v in p.ports]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for port in current:
        # A port without a protocol is TCP (Kubernetes' default); KubeVela fails on it instead.
        key = f"{str(port.get('protocol', 'TCP')).lower()}{port.get('containerPort')}"
        seen.add(key)
        item = {k: port[k] for k in ("containerPort", "protocol", "name") if k in port}
        out.append({**item, **_host(wanted.get(key))})
    out += [
        {"containerPort": v.container_port, "protocol": v.protocol, **_host(v)}
        for k, v in wanted.items()
        if k not in seen
    ]
    return out


@trait(name="container-ports", params=ContainerPortsParams, applies_to=POD_WORKLOADS)
def container_ports(p: ContainerPortsParams, ctx: TraitContext) -> TraitResult:
    """Add ports to containers, or bind existing ones on the node.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/container-ports.cue.
    """
    items: list[Patch] = []
    for t in targets(ctx, p, p.containers, "containers"):
        base = container(ctx.workload, t.container_name, trait="container-ports")
        items += replacing(t.container_name, {"ports": _ports_for(base, t)})
    return TraitResult(patch=on_containers(items))
