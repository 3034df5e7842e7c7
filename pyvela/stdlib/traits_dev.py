"""The ``nocalhost`` trait: Nocalhost's development configuration and a Service for it."""

from __future__ import annotations

import json
from typing import Any

import attrs

from pyvela import Obj, TraitContext, TraitResult, trait

from ._pod import LABEL_COMPONENT
from ._types import Checked, Params
from .traits_containers import POD_WORKLOADS

#: Nocalhost's development images for the language names ``image`` may be.
DEV_IMAGES = {
    lang: f"nocalhost-docker.pkg.coding.net/nocalhost/dev-images/{tag}:latest"
    for lang, tag in (
        ("go", "golang"),
        ("java", "java"),
        ("python", "python"),
        ("node", "node"),
        ("ruby", "ruby"),
    )
}


@attrs.frozen(kw_only=True)
class DevCommand(Checked):
    """Commands Nocalhost runs in the development container.

    Attributes:
        run: The command that runs the application.
        debug: The command that runs it under a debugger.
    """

    run: tuple[str, ...] = ("sh", "run.sh")
    debug: tuple[str, ...] = ("sh", "debug.sh")


@attrs.frozen(kw_only=True)
class DevDebug(Checked):
    """Remote debugging.

    Attributes:
        remote_debug_port: The port the debugger listens on.
    """

    remote_debug_port: int | None = None


@attrs.frozen(kw_only=True)
class DevSync(Checked):
    """How local files are synchronised into the container.

    Attributes:
        type: ``send`` (default: local to remote) or another Nocalhost sync mode.
        file_pattern: Files to synchronise.
        ignore_file_pattern: Files never synchronised.
    """

    type: str = "send"
    file_pattern: tuple[str, ...] = ("./",)
    ignore_file_pattern: tuple[str, ...] = (".git", ".vscode", ".idea", ".gradle", "build")


@attrs.frozen(kw_only=True)
class DevEnv(Checked):
    """An environment variable of the development container.

    Attributes:
        name: Its name.
        value: Its value.
    """

    name: str
    value: str


@attrs.frozen(kw_only=True)
class PersistentDir(Checked):
    """A directory of the development container kept across restarts.

    Attributes:
        path: The directory.
        capacity: Its size (``10Gi``).
    """

    path: str
    capacity: str


@attrs.frozen(kw_only=True)
class DevAmounts(Checked):
    """CPU and memory.

    Attributes:
        memory: Memory (``2Gi``).
        cpu: CPU cores (``"2"``).
    """

    memory: str
    cpu: str


@attrs.frozen(kw_only=True)
class DevResources(Checked):
    """Resources of the development container.

    Attributes:
        limits: The most it may use (default 2Gi, 2 CPUs).
        requests: What it requests (default 512Mi, half a CPU).
    """

    limits: DevAmounts = DevAmounts(memory="2Gi", cpu="2")
    requests: DevAmounts = DevAmounts(memory="512Mi", cpu="0.5")


@attrs.frozen(kw_only=True)
class NocalhostParams(Params):
    """Parameters of ``nocalhost``.

    Attributes:
        port: The application's port (Service port and default port forward).
        service_type: The Nocalhost workload type (default ``deployment``).
        git_url: The repository of the application's source.
        image: The development image, or ``go``/``java``/``python``/``node``/``ruby`` for Nocalhost's.
        shell: The shell of the development container.
        work_dir: Its working directory.
        storage_class: The storage class of persistent directories.
        command: The run and debug commands.
        debug: Remote debugging settings.
        hot_reload: Restart the application when files change.
        sync: File synchronisation.
        env: Environment variables of the development container.
        port_forward: ``local:remote`` port forwards (default: ``port:port``).
        persistent_volume_dirs: Directories kept across restarts.
        resources: Resources of the development container.
    """

    port: int
    image: str
    service_type: str = "deployment"
    git_url: str | None = None
    shell: str = "bash"
    work_dir: str = "/home/nocalhost-dev"
    storage_class: str | None = None
    command: DevCommand = DevCommand()
    debug: DevDebug | None = None
    hot_reload: bool = True
    sync: DevSync = DevSync()
    env: tuple[DevEnv, ...] | None = None
    port_forward: tuple[str, ...] | None = None
    persistent_volume_dirs: tuple[PersistentDir, ...] | None = None
    resources: DevResources = DevResources()


def _go_json(value: Any) -> str:
    # CUE's json.Marshal is Go's: compact, UTF-8, and <, > and & escaped.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@trait(name="nocalhost", params=NocalhostParams, applies_to=POD_WORKLOADS)
def nocalhost(p: NocalhostParams, ctx: TraitContext) -> TraitResult:
    """Configure the workload for development with Nocalhost.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/nocalhost.cue.
    """
    dev: dict[str, Any] = {}
    if p.git_url is not None:
        dev["gitUrl"] = p.git_url
    dev["image"] = DEV_IMAGES.get(p.image, p.image)
    dev["shell"] = p.shell
    dev["workDir"] = p.work_dir
    if p.storage_class is not None:
        dev["storageClass"] = p.storage_class
    r = p.resources
    dev["resources"] = {
        "limits": {"memory": r.limits.memory, "cpu": r.limits.cpu},
        "requests": {"memory": r.requests.memory, "cpu": r.requests.cpu},
    }
    if p.persistent_volume_dirs is not None:
        dev["persistentVolumeDirs"] = [
            {"path": d.path, "capacity": d.capacity} for d in p.persistent_volume_dirs
        ]
    dev["command"] = {"run": list(p.command.run), "debug": list(p.command.debug)}
    if p.debug is not None:
        dev["debug"] = (
            {} if p.debug.remote_debug_port is None else {"remoteDebugPort": p.debug.remote_debug_port}
        )
    dev["hotReload"] = p.hot_reload
    s = p.sync
    dev["sync"] = {
        "type": s.type,
        "filePattern": list(s.file_pattern),
        "ignoreFilePattern": list(s.ignore_file_pattern),
    }
    if p.env is not None:
        dev["env"] = [{"name": e.name, "value": e.value} for e in p.env]
    dev["portForward"] = list(p.port_forward) if p.port_forward is not None else [f"{p.port}:{p.port}"]
    config = {"name": ctx.name, "serviceType": p.service_type, "containers": [{"name": ctx.name, "dev": dev}]}
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ctx.name},
        "spec": {
            "selector": {LABEL_COMPONENT: ctx.name},
            "ports": [{"port": p.port, "targetPort": p.port}],
            "type": "ClusterIP",
        },
    }
    annotations = {
        "dev.nocalhost/application-name": ctx.app_name,
        "dev.nocalhost/application-namespace": ctx.namespace,
        "dev.nocalhost": _go_json(config),
    }
    return TraitResult(
        outputs={"nocalhostService": service}, patch={"metadata": {"annotations": annotations}}
    )
