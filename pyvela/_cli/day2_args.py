"""The parsers of the day-2 commands on an app's Pods and Rollouts: logs, exec, port-forward, rollout.

Only argparse here (``main`` imports it on every run and must stay cheap); the commands are
in ``podcmds`` and ``rollouts``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

APP_HELP = "the app's name (its state record on the target), or its file (apps/x.py, x.yaml)"


def duration(text: str) -> float:
    """argparse type: a Go duration (``30s``, ``5m``, ``1h30m``) in seconds, > 0."""
    from pyvela._core.durations import parse_duration

    try:
        seconds = parse_duration(text, "--since")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0, got {text!r}")
    return seconds


def add_day2(sub: argparse._SubParsersAction, target_args: Callable[[argparse.ArgumentParser], None]) -> None:  # type: ignore[type-arg]
    """Add ``logs``, ``exec``, ``port-forward`` and ``rollout`` to the subcommands ``sub``."""

    def app_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("app", metavar="APP", help=APP_HELP)
        p.add_argument("--defs", action="append", metavar="MODULE", help="catalogue module (for an app file)")

    logs = sub.add_parser(
        "logs",
        help="Print the logs of the app's Pods (every replica; lines prefixed by pod and container).",
        description="Print the logs of the app's Pods, or of one component's; each line prefixed "
        "[pod/NAME/CONTAINER]. The sandbox prints simulated lines (it runs no process).",
    )
    app_arg(logs)
    logs.add_argument("component", nargs="?", metavar="COMPONENT", help="only this component's Pods")
    logs.add_argument("-c", "--container", metavar="NAME", help="only this container (default: all)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.add_argument(
        "--since", type=duration, metavar="DURATION", help="only lines newer than this (5s, 2m, 3h)"
    )
    logs.add_argument("--pod", metavar="NAME", help="only this Pod")
    logs.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="json: one object a line"
    )
    target_args(logs)

    exe = sub.add_parser(
        "exec",
        help="Run a command in a Pod of a component (needs a real cluster).",
        description="Run a command in a running Pod of the component (the first by name, or --pod), "
        "like kubectl exec; the exit code is the command's. Usage: pyvela exec APP COMPONENT -- CMD ARG...",
    )
    app_arg(exe)
    exe.add_argument("component", metavar="COMPONENT")
    exe.add_argument("cmd", nargs="+", metavar="CMD", help="the command and its arguments (after --)")
    exe.add_argument("-c", "--container", metavar="NAME", help="the container (default: the Pod's first)")
    exe.add_argument("--pod", metavar="NAME", help="this Pod of the component")
    exe.add_argument(
        "-o", "--output", choices=("text", "json"), default="text",
        help="json: once it ends, {pod, container, command, exitCode, stdout, stderr}",
    )  # fmt: skip
    target_args(exe)

    fwd = sub.add_parser(
        "port-forward",
        help="Forward a local port (127.0.0.1) to a port of a component's Pod (needs a real cluster).",
        description="Listen on 127.0.0.1:LOCAL and forward each connection to REMOTE of a running Pod "
        "of the component, until Ctrl-C. LOCAL 0 (or :REMOTE) picks a free port.",
    )
    app_arg(fwd)
    fwd.add_argument("component", metavar="COMPONENT")
    fwd.add_argument("ports", metavar="LOCAL:REMOTE", help="e.g. 8080:80, or 80 (the same port), or :80")
    fwd.add_argument("--pod", metavar="NAME", help="this Pod of the component")
    fwd.add_argument("-o", "--output", choices=("text", "json"), default="text")
    target_args(fwd)

    rollout = sub.add_parser(
        "rollout",
        help="Promote, abort, retry or pause a component's Argo Rollout (as kubectl argo rollouts).",
    )
    actions = rollout.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        (
            "promote",
            "Promote a Rollout paused at a canary step (--full: skip every step, pause and analysis).",
        ),
        ("abort", "Abort the update: back to the stable ReplicaSet (the spec keeps the new version)."),
        ("retry", "Retry an aborted update."),
        ("pause", "Pause the Rollout (spec.paused)."),
    ):
        p = actions.add_parser(action, help=text, description=text)
        app_arg(p)
        p.add_argument("component", metavar="COMPONENT", help="the component whose Rollout it is")
        if action == "promote":
            p.add_argument(
                "--full", action="store_true", help="skip the remaining steps, pauses and analysis"
            )
        p.add_argument("-o", "--output", choices=("text", "json"), default="text")
        target_args(p)
