"""``pyvela logs``, ``exec`` and ``port-forward``: an app's Pods, found through its state record.

The app is named (its record is looked up on the target) or given as its file; its Pods
are those the latest revision's objects own (``_workflow.podsof``). The backend must offer
:class:`~pyvela._backends.podio.PodIO`; the sandbox does, with simulated logs.
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import sys
import threading
from collections.abc import Iterator
from typing import Any

from pyvela._backends.podio import LogLine, PodIO, pod_io
from pyvela._backends.protocol import Backend
from pyvela._cli.names import is_name
from pyvela._cli.run import open_backend
from pyvela._core.objects import Obj
from pyvela._workflow.podsof import AppPods, app_pods
from pyvela.errors import ClusterError, NotFoundError, PyvelaError

#: Exit code of a command ended by Ctrl-C (128 + SIGINT), as a shell reports kubectl's.
EXIT_INTERRUPTED = 130


def resolve_app(args: argparse.Namespace, backend: Backend) -> tuple[str, str]:
    """(name, namespace) of the app ``args.app`` names: a file is loaded, a name looked up."""
    ref = str(args.app)
    if not is_name(ref):  # the same rule as every command that takes an app's name
        from pyvela._app.loader import load_app

        loaded = load_app(ref, defs=getattr(args, "defs", None))
        return loaded.app.name, args.namespace or loaded.app.namespace
    from pyvela._workflow.listing import locate

    return ref, locate(backend, ref, args.namespace)


def _pods(args: argparse.Namespace, backend: Backend) -> tuple[AppPods, list[Obj]]:
    name, namespace = resolve_app(args, backend)
    found = app_pods(backend, name, namespace)
    pods = found.of(getattr(args, "component", None))
    wanted = getattr(args, "pod", None)
    if wanted is not None:
        chosen = [p for p in pods if p["metadata"]["name"] == wanted]
        if not chosen:
            raise NotFoundError(
                f"pod {wanted!r} is not one of "
                + (f"component {args.component!r}'s" if args.component else f"app {name!r}'s")
                + " Pods",
                expected="one of " + (", ".join(p["metadata"]["name"] for p in pods) or "(none)"),
                got=wanted,
            )
        pods = chosen
    if not pods:
        whose = f"component {args.component!r} of app {name!r}" if args.component else f"app {name!r}"
        raise NotFoundError(
            f"{whose} has no Pods on {backend.description}",
            expected="a workload (Deployment, StatefulSet, Job...) with Pods",
            fix="see `pyvela status` for its objects and why their Pods are missing",
        )
    return found, pods


def _containers(pod: Obj) -> list[str]:
    return [str(c.get("name")) for c in (pod.get("spec") or {}).get("containers") or []]


def _component_of(found: AppPods, pod: Obj) -> str:
    name = pod["metadata"]["name"]
    return next((c for c, ps in found.pods.items() if any(p["metadata"]["name"] == name for p in ps)), "")


def cmd_logs(args: argparse.Namespace) -> int:
    since = math.ceil(args.since) if args.since else None
    backend = open_backend(args, read=True)
    try:
        io = pod_io(backend)
        found, pods = _pods(args, backend)
        streams = []
        for pod in pods:
            names = _containers(pod)
            if args.container is not None:
                if args.container not in names:
                    continue
                names = [args.container]
            streams += [(pod, c) for c in names]
        if not streams:
            known = sorted({c for p in pods for c in _containers(p)})
            raise NotFoundError(
                f"no Pod has a container {args.container!r}",
                expected="one of " + ", ".join(known),
                got=args.container,
            )
        return _print_logs(args, io, found, streams, since)
    finally:
        backend.close()


def _print_logs(
    args: argparse.Namespace, io: PodIO, found: AppPods, streams: list[tuple[Obj, str]], since: int | None
) -> int:
    as_json = args.output == "json"
    components = {p["metadata"]["name"]: _component_of(found, p) for p, _ in streams}

    def show(line: LogLine) -> None:
        if as_json:
            data = {
                "component": components[line.pod],
                "pod": line.pod,
                "container": line.container,
                "line": line.text,
            }
            print(json.dumps(data), flush=args.follow)
        else:
            print(f"[pod/{line.pod}/{line.container}] {line.text}", flush=args.follow)

    def lines(pod: Obj, container: str, stop: threading.Event | None) -> Iterator[LogLine]:
        meta = pod["metadata"]
        return io.pod_logs(
            str(meta.get("namespace") or found.namespace),
            str(meta["name"]),
            container,
            follow=args.follow,
            since_seconds=since,
            stop=stop,
        )

    if not args.follow:
        for pod, container in streams:
            for line in lines(pod, container, None):
                show(line)
        return 0
    # Followed: one reader per container, the lines printed as they come, whoever wrote them.
    stop = threading.Event()
    out: queue.Queue[LogLine | PyvelaError | None] = queue.Queue()

    def read(pod: Obj, container: str) -> None:
        try:
            for line in lines(pod, container, stop):
                out.put(line)
        except PyvelaError as exc:
            out.put(exc)
        finally:
            out.put(None)

    for pod, container in streams:
        threading.Thread(target=read, args=(pod, container), daemon=True, name="logs").start()
    open_streams, failed = len(streams), False
    try:
        while open_streams:
            item = out.get()
            if item is None:
                open_streams -= 1
            elif isinstance(item, PyvelaError):
                print(f"error: {item}", file=sys.stderr, flush=True)
                failed = True
            else:
                show(item)
    except KeyboardInterrupt:
        stop.set()
        return EXIT_INTERRUPTED
    stop.set()
    return 1 if failed else 0


def _one_pod(args: argparse.Namespace, backend: Backend) -> Obj:
    """The Pod a command goes to: ``--pod``, else the first running one (else the first)."""
    _found, pods = _pods(args, backend)
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
    return (running or pods)[0]


def _container(args: argparse.Namespace, pod: Obj) -> str:
    names = _containers(pod)
    if args.container is None:
        return names[0] if names else ""
    if args.container not in names:
        raise NotFoundError(
            f"pod {pod['metadata']['name']} has no container {args.container!r}",
            expected="one of " + ", ".join(names),
            got=args.container,
        )
    return str(args.container)


def cmd_exec(args: argparse.Namespace) -> int:
    backend = open_backend(args, read=True)
    try:
        io = pod_io(backend)
        pod = _one_pod(args, backend)
        meta = pod["metadata"]
        container = _container(args, pod)
        kept: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        as_json = getattr(args, "output", "text") == "json"

        def out(stream: str, data: bytes) -> None:
            if as_json:  # one object once the command ends: its output kept until then
                kept["stderr" if stream == "stderr" else "stdout"] += data
                return
            target = sys.stderr if stream == "stderr" else sys.stdout
            target.buffer.write(data)
            target.flush()

        sys.stdout.flush()
        try:
            code = io.pod_exec(str(meta["namespace"]), str(meta["name"]), container, args.cmd, out=out)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        if as_json:
            import json

            print(
                json.dumps(
                    {
                        "pod": meta["name"],
                        "namespace": meta["namespace"],
                        "container": container,
                        "command": list(args.cmd),
                        "exitCode": code,
                        **{k: v.decode("utf-8", "replace") for k, v in kept.items()},
                    },
                    indent=2,
                )
            )
        return code
    finally:
        backend.close()


def parse_ports(text: str) -> tuple[int, int]:
    """``LOCAL:REMOTE``, ``PORT`` (both the same) or ``:REMOTE`` (a free local port)."""
    local, sep, remote = text.partition(":")
    if not sep:
        local, remote = text, text
    try:
        pair = (int(local) if local else 0, int(remote))
    except ValueError:
        pair = (-1, -1)
    if not (0 <= pair[0] <= 65535 and 1 <= pair[1] <= 65535):
        raise ClusterError(
            f"bad ports {text!r}",
            expected="LOCAL:REMOTE (8080:80), PORT (80: the same port) or :REMOTE (a free local port)",
            got=text,
        )
    return pair


def cmd_port_forward(args: argparse.Namespace) -> int:
    local, remote = parse_ports(args.ports)
    backend = open_backend(args, read=True)
    try:
        io = pod_io(backend)
        pod = _one_pod(args, backend)
        meta = pod["metadata"]
        name = str(meta["name"])

        def ready(port: int) -> None:
            if args.output == "json":
                data: dict[str, Any] = {"address": "127.0.0.1", "local": port, "remote": remote, "pod": name}
                print(json.dumps(data), flush=True)
            else:
                print(
                    f"Forwarding from 127.0.0.1:{port} -> {remote} (pod {name}); Ctrl-C to stop", flush=True
                )

        def failed(exc: PyvelaError) -> None:
            print(f"error: {exc}", file=sys.stderr, flush=True)

        stop = threading.Event()
        try:
            io.port_forward(
                str(meta["namespace"]),
                name,
                local_port=local,
                remote_port=remote,
                ready=ready,
                stop=stop,
                on_error=failed,
            )
        except KeyboardInterrupt:
            stop.set()
        return 0
    finally:
        backend.close()


def dispatch_pods(args: argparse.Namespace) -> int:
    handlers = {"logs": cmd_logs, "exec": cmd_exec, "port-forward": cmd_port_forward}
    return handlers[args.command](args)
