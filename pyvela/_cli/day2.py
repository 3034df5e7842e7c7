"""Day-2 commands: ``ls``, ``status`` (``--tree``, ``--pods``), ``workflow logs``, and the
commands that take an app's NAME instead of its file (``history``, ``delete``,
``workflow suspend|terminate``), read from the state record.

The listing, the tree and what a name allows live in ``pyvela._workflow`` (``listing``,
``tree``, ``named``); this module only picks the target and formats.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._cli.names import is_name, needs_source

#: Commands whose APP may be a name; ``workflow`` too (its actions: ``WORKFLOW_NAMED``).
NAMED = ("status", "history", "delete", "rollback", "workflow")
WORKFLOW_NAMED = ("suspend", "terminate", "logs")


def handles(args: argparse.Namespace) -> bool:
    """Whether this module runs the command (the rest: ``run``)."""
    if args.command in ("ls", "status", "history"):
        return True
    if args.command == "workflow" and args.action == "logs":
        return True
    # A rollback by name runs as one from the file does (``run``), on the app its record describes.
    named = args.command in NAMED and args.command != "rollback"
    return named and is_name(str(getattr(args, "app", "") or ""))


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "ls":
        return cmd_ls(args)
    if args.command == "status":
        return cmd_status(args)
    if args.command == "workflow" and args.action == "logs":
        return cmd_workflow_logs(args)
    if args.command == "workflow" and args.action not in WORKFLOW_NAMED:
        raise needs_source(args)
    if args.command == "history":
        return cmd_history(args)
    return {"delete": cmd_delete, "workflow": cmd_workflow_named}[args.command](args)


def _backend(args: argparse.Namespace, *, read: bool) -> Backend:
    from pyvela._cli.run import open_backend

    return open_backend(args, read=read)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _target(args: argparse.Namespace, backend: Backend) -> tuple[str, str, Any]:
    """(app, namespace, its Application or None) for a file or a name."""
    from pyvela._workflow.listing import locate

    if not is_name(args.app):
        from pyvela._app.loader import load_app

        loaded = load_app(args.app, defs=args.defs)
        for warning in loaded.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        return loaded.app.name, args.namespace or loaded.app.namespace, loaded.app
    return args.app, locate(backend, args.app, args.namespace), None


def _view(args: argparse.Namespace, backend: Backend) -> Any:
    from pyvela._workflow.state import StateStore
    from pyvela._workflow.view import AppView

    app, namespace, application = _target(args, backend)
    return AppView(backend, StateStore(backend, app, namespace), application)


# ---------------------------------------------------------------------------- ls


def default_namespace(args: argparse.Namespace) -> str:
    """``-n``, else the kubeconfig context's namespace (as kubectl), else ``default``."""
    if args.namespace:
        return str(args.namespace)
    if getattr(args, "context", None) or getattr(args, "kubeconfig", None):
        from pyvela._cli.targets import context_namespace

        return context_namespace(context=args.context, kubeconfig=args.kubeconfig) or "default"
    return "default"


def cmd_ls(args: argparse.Namespace) -> int:
    from pyvela._workflow.listing import list_apps

    namespace = None if args.all_namespaces else default_namespace(args)
    backend = _backend(args, read=True)
    try:
        rows = list_apps(backend, namespace)
        where = backend.description
    finally:
        backend.close()
    if args.output == "json":
        _print_json({"target": where, "namespace": namespace, "apps": [r.to_dict() for r in rows]})
        return 0
    if not rows:  # as kubectl: a note on stderr, and success
        scope = "any namespace" if namespace is None else f"namespace {namespace}"
        print(f"No apps found in {scope} on {where}.", file=sys.stderr)
        return 0
    head = ["NAME", "REVISION", "PHASE", "STEPS", "OBJECTS", "LAST CHANGE", "MESSAGE"]
    if namespace is None:
        head.insert(0, "NAMESPACE")
    lines = []
    for r in rows:
        notes = [f"{n} {what}" for n, what in ((r.steps_failed, "failed"), (r.steps_skipped, "skipped")) if n]
        steps = f"{r.steps_done}/{r.steps_total}" + (f" ({', '.join(notes)})" if notes else "")
        cells = [r.name, str(r.revision), r.phase, steps, f"{r.objects_ready}/{r.objects_total}"]
        cells += [r.last_change or "", r.message.splitlines()[0] if r.message else ""]
        lines.append(([r.namespace] if namespace is None else []) + cells)
    _table(head, lines)
    return 0


def _table(head: list[str], rows: list[list[str]]) -> None:
    """Columns as kubectl prints them: upper-case headers, padded with three spaces."""
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=True)]
    for row in [head, *rows]:
        print("   ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# ---------------------------------------------------------------------------- status


def cmd_status(args: argparse.Namespace) -> int:
    from pyvela._workflow.tree import describe_app

    backend = _backend(args, read=True)
    try:
        view = _view(args, backend)
        data, lives = view.status_and_live()
        unhealthy = any(not o["ready"] for o in data["objects"])
        if args.tree or args.pods or unhealthy:
            data.update(describe_app(backend, data, lives))
    finally:
        backend.close()
    if args.output == "json":
        _print_json(data)
        return 0
    from pyvela._cli.day2_text import console, problems_text, status_pods, status_tree
    from pyvela._cli.progress import status_text

    out = console()
    status_text(out, data)
    if data.get("health_rules") == "kinds":
        out.print("(health judged by each kind's rule: pass the app file for its definitions' rules)")
    if args.tree:
        status_tree(out, data)
    if args.pods:
        status_pods(out, data)
    problems_text(out, data)
    return 0


# ---------------------------------------------------------------------------- by name


def cmd_history(args: argparse.Namespace) -> int:
    backend = _backend(args, read=True)
    try:
        rows = _view(args, backend).history()
    finally:
        backend.close()
    if args.output == "json":
        _print_json(rows)
        return 0
    head = ["REVISION", "KIND", "PHASE", "STARTED", "FINISHED", "HASH", "MESSAGE"]
    lines = []
    for r in rows:
        kind = r["kind"] + (f" of {r['rollback_of']}" if r.get("rollback_of") else "")
        lines.append([str(r["number"]), kind, r["phase"], r["started"] or "", r["finished"] or ""])
        lines[-1] += [str(r["hash"]), (r["message"] or "").split("\n")[0]]
    _table(head, lines)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from pyvela._cli.centres import centre_for
    from pyvela._workflow.events import Recorder
    from pyvela._workflow.listing import locate
    from pyvela._workflow.named import delete_named

    backend = _backend(args, read=False)
    try:
        namespace = locate(backend, args.app, args.namespace)
        centre, _config = centre_for(backend, app=args.app)
        recorder = Recorder()
        if args.output != "json":
            print(f"deleting {args.app} from {backend.description}, namespace {namespace} (from its record)")
        result = delete_named(backend, args.app, namespace, events=recorder, config_centre=centre)
    finally:
        backend.close()
    data = result.to_dict()
    if args.output == "json":
        data["events"] = [{"kind": e.kind, "message": e.message} for e in recorder.events]
        _print_json(data)
    else:
        for e in recorder.events:
            print(f"  {e.message}")
        print(f"{result.app}: {result.message}")
    return 0


def cmd_workflow_named(args: argparse.Namespace) -> int:
    from pyvela._workflow.control import request_control

    backend = _backend(args, read=False)
    try:
        view = _view(args, backend)
        rev, message = request_control(view, args.action)
        where = backend.description
    finally:
        backend.close()
    data = {"app": view.app, "namespace": view.namespace, "target": where, "revision": rev["number"]}
    data |= {"phase": rev["phase"], "message": message}
    if args.output == "json":
        _print_json(data)
    else:
        print(f"{view.app} revision {rev['number']}: {message} (phase {rev['phase']})")
    return 0


def cmd_workflow_logs(args: argparse.Namespace) -> int:
    backend = _backend(args, read=True)
    try:
        data = _view(args, backend).step_logs(args.step, args.revision)
    finally:
        backend.close()
    if args.output == "json":
        _print_json(data)
        return 0
    print(f"{data['app']} revision {data['revision']}:")
    for name, st in data["steps"].items():
        logs = st["logs"]
        print(f"{name} ({st['phase']}): {len(logs)} line(s)" + (":" if logs else ""))
        if st["dropped"]:
            print(f"  ... {st['dropped']} older line(s) dropped: the record keeps the newest {data['limit']}")
        for entry in logs:
            print(f"  {entry['at']}  {entry['message']}")
    return 0
