"""``status --tree``, ``--pods`` and the problems of unhealthy objects, as text (rich)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from pyvela._cli.consoles import PipeConsole


def console() -> Console:
    # Logs (CI, pipes) get long lines rather than rich's 80-column wrapping.
    return PipeConsole(highlight=False, width=None if sys.stdout.isatty() else 200)


def _ref(node: Mapping[str, Any]) -> str:
    return f"{node['object']['kind']}/{node['object']['name']}"


def _pod_line(pod: Mapping[str, Any]) -> str:
    waiting = [f"{c['name']}: {c['reason']}" for c in pod["containers"] if c.get("reason")]
    line = f"{pod['phase']} {pod['ready']} restarts {pod['restarts']}"
    return line + (f"  ({'; '.join(waiting)})" if waiting else "")


def status_tree(out: Console, data: Mapping[str, Any]) -> None:
    """Objects by component, each with what it owns (ReplicaSets, Jobs, Pods)."""
    out.print(Text("tree:", style="bold"))

    def show(node: Mapping[str, Any], depth: int) -> None:
        pad = "  " * depth
        if "pod" in node:
            health = _pod_line(node["pod"])
        else:
            health = ("ready" if node["ready"] else "not ready") + (
                f" ({node['message']})" if node.get("message") else ""
            )
        style = "" if node["ready"] else "red"
        out.print(Text(f"{pad}{_ref(node)}  ", style="") + Text(health, style=style))
        for child in node.get("children") or []:
            show(child, depth + 1)

    for group in data.get("tree") or []:
        out.print(Text(f"  {group['component'] or '(no component)'}", style="bold"))
        for node in group["objects"]:
            show(node, 2)


def status_pods(out: Console, data: Mapping[str, Any]) -> None:
    """The app's Pods, as ``kubectl get pods`` lists them, with the component owning each."""
    from rich.table import Table

    table = Table("pod", "owner", "ready", "status", "restarts", "reason", box=None, header_style="bold")
    for pod in data.get("pods") or []:
        reasons = "; ".join(f"{c['name']}: {c['reason']}" for c in pod["containers"] if c.get("reason"))
        table.add_row(pod["name"], pod["owner"], pod["ready"], pod["phase"], str(pod["restarts"]), reasons)
    if not data.get("pods"):
        out.print("pods: none")
        return
    out.print(table)


def _events(out: Console, events: list[Mapping[str, Any]], pad: str) -> None:
    if not events:
        out.print(f"{pad}Events: <none>")
        return
    out.print(f"{pad}Events:")
    for e in events:
        times = f" (x{e['count']})" if e.get("count", 1) > 1 else ""
        style = "yellow" if e["type"] == "Warning" else ""
        cells = f"{e['type']:<8} {e['reason']:<20} {e['last']:<21} {e['from']:<24}"
        line = f"{pad}  {cells} {e['message']}{times}"
        out.print(Text(line, style=style))


def problems_text(out: Console, data: Mapping[str, Any]) -> None:
    """Every unhealthy object: its Pods' reasons (waiting, restarts, last termination), and the
    recent Events of the object and of those Pods, as ``kubectl describe`` shows them."""
    problems = data.get("problems") or []
    if not problems:
        return
    out.print(Text("not healthy:", style="bold red"))
    for p in problems:
        out.print(Text(f"  {p['object']['kind']}/{p['object']['name']}: {p['message']}", style="bold"))
        _events(out, p["events"], "    ")
        for o in p.get("owned") or []:
            out.print(f"    {o['object']['kind']}/{o['object']['name']}: {o['message']}")
            _events(out, o["events"], "      ")
        for pod in p["pods"]:
            out.print(f"    Pod/{pod['name']}: {_pod_line(pod)}")
            for c in pod["containers"]:
                detail = f"      container {c['name']}: {c['state']}"
                if c.get("reason"):
                    detail += f" ({c['reason']}" + (f": {c['message']}" if c.get("message") else "") + ")"
                last = c.get("lastTermination")
                if last:
                    detail += f"; last terminated {last['reason']} (exit {last['exitCode']})"
                    detail += f" at {last['finishedAt']}"
                out.print(Text(detail))
            shown = any(c.get("reason") for c in pod["containers"])
            for problem in [] if shown else pod["problems"]:  # e.g. Unschedulable: no container yet
                out.print(Text(f"      {problem}", style="red"))
            _events(out, pod["events"], "      ")
