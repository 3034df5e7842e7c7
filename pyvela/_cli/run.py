"""CLI commands that talk to a cluster: deploy, status, history, rollback, delete, workflow, diff."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyvela._app.loader import load_app
from pyvela._backends.protocol import Backend
from pyvela._cli.centres import config_centre_for as config_centre_for
from pyvela._cli.centres import secret_provider as secret_provider
from pyvela._workflow.events import Fanout, Recorder
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.results import Options, RunResult
from pyvela.errors import ClusterError, StateError

EXIT_SUSPENDED = 3


def open_backend(args: argparse.Namespace, *, read: bool = False) -> Backend:
    """The sandbox unless a real cluster is named: never a real cluster by accident.

    ``read``: the command only reads, so an existing sandbox is opened read-only (``status``
    works on a sandbox nobody may write, and cannot change one by accident).
    """
    if (
        getattr(args, "context", None)
        or getattr(args, "kubeconfig", None)
        or getattr(args, "in_cluster", False)
    ):
        from pyvela._cli.targets import check_kube_target

        check_kube_target(context=args.context, kubeconfig=args.kubeconfig, in_cluster=args.in_cluster)
        try:
            from pyvela._backends.kube.backend import KubeBackend
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ClusterError(
                f"the Kubernetes backend cannot be loaded: {exc}", fix="pip install kubernetes"
            ) from exc
        backend: Backend = KubeBackend.connect(
            context=args.context, kubeconfig=args.kubeconfig, in_cluster=args.in_cluster
        )
        return with_clusters(args, backend, read=read)
    from pyvela._backends.sandbox import Sandbox, default_root
    from pyvela._backends.sandbox.store import DB_FILE

    root = Path(args.sandbox) if getattr(args, "sandbox", None) else default_root()
    sandbox: Backend = Sandbox(root, read_only=True if read and (root / DB_FILE).is_file() else None)
    return with_clusters(args, sandbox, read=read)


def with_clusters(args: argparse.Namespace, backend: Backend, *, read: bool) -> Backend:
    """``backend`` with the other clusters the target arguments and cluster file name behind
    it (a ``Fleet`` that owns it), or ``backend`` itself when there are none."""
    from pyvela._backends.fleet import Fleet
    from pyvela._cli.clusters import cluster_set

    clusters = cluster_set(args, read=read, opened={"local": backend})
    if len(clusters.names()) == 1:
        return backend
    return Fleet(backend, clusters, owns_control=True)


def _ops(args: argparse.Namespace, backend: Backend, events: Any) -> AppOps:
    from pyvela._cli.names import is_name, recorded

    # An app's name (a rollback): the app as its state record describes it.
    loaded = recorded(args, backend) if is_name(args.app) else load_app(args.app, defs=args.defs)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    centre, config = config_centre_for(backend, loaded)
    options = Options(
        parallel=getattr(args, "parallel", 8),
        wait_lock=getattr(args, "wait_lock", 0.0),
        force_conflicts=getattr(args, "force_conflicts", False),
    )
    return AppOps(
        backend,
        loaded,
        events=events,
        config_centre=centre,
        config=config,
        namespace=args.namespace,
        options=options,
    )


class ReaderGone:
    """The stream of a run's progress: when its reader goes away (``deploy | head``), the
    rest is dropped and the run goes on, so a closed pipe never stops a deploy halfway."""

    def __init__(self, stream: Any, *, buffered: bool = False) -> None:
        from pyvela._cli.linebuffer import LineBuffer

        self.stream = stream
        self.gone = False
        self._tty: bool | None = None
        # Not a terminal: lines go out in bursts (``linebuffer``), within 0.1 s.
        self._lines = LineBuffer(self._write) if buffered else None

    def write(self, text: str) -> int:
        if self._lines is not None:
            self._lines.add(text)
        else:
            self._write(text)
        return len(text)

    def writer(self) -> Callable[[str], None]:
        """What ``write`` does, without its indirection (the progress lines': 27,000 a large run)."""
        return self._lines.add if self._lines is not None else self._write

    def _write(self, text: str) -> None:
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.gone = True

    def flush(self) -> None:
        if self._lines is not None:
            self._lines.flush()
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.gone = True

    def close(self) -> None:
        """Write what is pending (the stream itself stays open)."""
        if self._lines is not None:
            self._lines.close()
        self.flush()

    def isatty(self) -> bool:
        # Asked by rich on every line: a system call each time, and a stream's answer never changes.
        if self._tty is None:
            self._tty = bool(self.stream.isatty())
        return self._tty

    def fileno(self) -> int:
        return int(self.stream.fileno())

    @property
    def encoding(self) -> str:
        return str(getattr(self.stream, "encoding", "utf-8"))


def _console(stderr: bool, *, run: bool = False) -> Any:
    from pyvela._cli.consoles import PipeConsole as Console

    stream = sys.stderr if stderr else sys.stdout
    # Logs (CI, pipes) get long lines rather than rich's 80-column wrapping.
    width = None if stream.isatty() else 200
    if run:
        out = ReaderGone(stream, buffered=width is not None)
        return Console(file=out, highlight=False, width=width)  # type: ignore[arg-type]
    return Console(stderr=stderr, highlight=False, width=width)


def _run_with_progress(
    args: argparse.Namespace,
    what: str,
    call: Callable[[AppOps], RunResult],
    revision: Callable[[AppOps], str] = lambda ops: ops.loaded.revision,
) -> int:
    from pyvela._cli.progress import Progress, summary

    as_json = args.output == "json"
    console = _console(stderr=as_json, run=True)
    backend = open_backend(args)
    try:
        recorder = Recorder()
        events = Fanout(recorder)
        ops = _ops(args, backend, events)
        steps = [(n, ops.loaded.plan.steps[n].use.definition.name) for n in ops.loaded.plan.order]
        towards = "from" if what == "deleting" else "to"  # "deleting shop to sandbox" read wrong
        console.print(
            f"{what} [bold]{ops.app}[/bold] (revision {revision(ops)}) {towards} {backend.description}, "
            f"namespace {ops.namespace}"
        )
        progress = Progress(console, steps)
        # Every event is kept only for -o json's list of them (27,000 at 3,000 components).
        events.sinks = (recorder, progress) if as_json else (progress,)
        with progress:
            result = call(ops)
        data = result.to_dict()
        if as_json:
            data["events"] = [{"kind": e.kind, "step": e.step, "message": e.message} for e in recorder.events]
            print(json.dumps(data, indent=2, default=str))
        else:
            summary(console, data)
    finally:
        if isinstance(console.file, ReaderGone):
            console.file.close()  # the lines still pending, before any error is printed
        backend.close()
    if result.phase == "suspended":
        return EXIT_SUSPENDED
    return 0 if result.ok or result.phase == "deleted" else 1


def cmd_deploy(args: argparse.Namespace) -> int:
    return _run_with_progress(args, "deploying", lambda ops: ops.deploy())


def cmd_rollback(args: argparse.Namespace) -> int:
    def target(ops: AppOps) -> str:
        if args.revision is not None:
            # "no revision to roll back to" does not say that the one asked for does not exist.
            known = [int(r["number"]) for r in ops.history()]
            if args.revision not in known:
                raise StateError(
                    f"app {ops.app!r} has no revision {args.revision}",
                    expected="one of " + (", ".join(map(str, known)) or "none: it was never deployed"),
                    got=str(args.revision),
                    fix="pick a revision from `pyvela history`",
                )
        rev = ops.rollback_target(args.revision)
        return f"{rev['number']}, {str(rev['hash'])[:12]}"

    return _run_with_progress(args, "rolling back", lambda ops: ops.rollback(args.revision), target)


def cmd_delete(args: argparse.Namespace) -> int:
    return _run_with_progress(args, "deleting", lambda ops: ops.delete())


def cmd_workflow(args: argparse.Namespace) -> int:
    calls: dict[str, Callable[[AppOps], RunResult]] = {
        "resume": lambda ops: ops.resume(),
        "restart": lambda ops: ops.restart(args.step),
        "suspend": lambda ops: ops.request("suspend"),
        "terminate": lambda ops: ops.request("terminate"),
    }
    code = _run_with_progress(args, f"workflow {args.action}:", calls[args.action])
    if args.action in ("suspend", "terminate"):
        return 0  # the request itself succeeded; the workflow's phase is in the output
    return code


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit codes as ``kubectl diff``: 0 no differences, 1 differences (an error: 2, in ``main``)."""
    from pyvela._cli.diff import DIFFERENT, charts_of, diff_app

    backend = open_backend(args)
    try:
        loaded = load_app(args.app, defs=args.defs)
        changes = diff_app(
            loaded,
            backend,
            namespace=args.namespace,
            show_secrets=getattr(args, "show_secrets", False),
            charts=charts_of(args),
        )
    finally:
        backend.close()
    if args.output == "json":
        print(json.dumps(changes, indent=2))
    else:
        for c in changes:
            print(f"{c['change']:>9}  {c['object']}" + (f"  ({c['note']})" if c.get("note") else ""))
            if c.get("diff"):
                sys.stdout.write(c["diff"])
    return 1 if any(c["change"] in DIFFERENT for c in changes) else 0


def cmd_config(args: argparse.Namespace) -> int:
    """``config get``: the released items of the app's target, as the config centre holds them."""
    from pyvela._configcentre.protocol import ConfigTarget

    backend = open_backend(args, read=True)
    try:
        loaded = load_app(args.app, defs=args.defs)
        factory, settings = config_centre_for(backend, loaded)
        target = ConfigTarget(
            app_id=settings.app_id,
            env=args.env or settings.env,
            cluster=args.cluster,
            namespace=args.config_namespace or settings.namespace,
        )
        centre = factory()
        try:
            items = dict(centre.read(target))
            where = centre.description
        finally:
            centre.close()
    finally:
        backend.close()
    if args.output == "json":
        print(json.dumps({"target": str(target), "centre": where, "items": items}, indent=2))
        return 0
    print(f"# {target} on {where}")
    for key in sorted(items):
        print(f"{key} = {items[key]}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from pyvela._backends.sandbox import Sandbox, default_root
    from pyvela._backends.sandbox.store import DB_FILE

    root = Path(args.sandbox) if args.sandbox else None
    where = (root if root is not None else default_root()).absolute()
    if not (where / DB_FILE).exists():
        # Say what happened: nothing was there, and nothing is created (a mistyped path).
        print(f"nothing to reset: no sandbox at {where}")
        return 0
    sandbox, moved = Sandbox.reset_root(root, force=getattr(args, "force", False))
    try:
        if moved is not None:
            print(f"the sandbox database was corrupt: moved it aside to {moved}")
        print(f"reset {sandbox.description}")
    finally:
        sandbox.close()
    return 0


def dispatch_run(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "deploy": cmd_deploy,
        "rollback": cmd_rollback,
        "delete": cmd_delete,
        "workflow": cmd_workflow,
        "diff": cmd_diff,
        "sandbox": cmd_sandbox,
        "config": cmd_config,
    }
    return handlers[args.command](args)
