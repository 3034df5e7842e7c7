"""Live progress on the terminal (rich): steps with phase and elapsed time, objects, waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.control import strip_control_codes
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pyvela._workflow.events import Event

STYLE = {
    "pending": "dim",
    "running": "cyan",
    "waiting": "cyan",  # parked by the controller until its object is ready
    "succeeded": "green",
    "failed": "bold red",
    "skipped": "yellow",
    "suspending": "magenta",
}


#: Events shown as their message on every console (the others: plain lines or the table's rows).
SHOWN = frozenset(
    ("applied", "pruned", "deleted", "log", "ready", "resumed", "up-to-date", "run-started", "guardrail")
)

#: Steps listed one per row in the live table; a larger app lists those running or failed.
TABLE_ROWS = 40
OUTPUT_WIDTH = 80  # a step output's text in the summary and status (-o json has it whole)


def outputs_text(outputs: Mapping[str, Any]) -> str:
    """``k=v, ...``, each value cut at OUTPUT_WIDTH: a deploy step's placements hold every
    workload's status, a page of text in one table cell."""
    parts = []
    for k, v in outputs.items():
        text = str(v)
        if len(text) > OUTPUT_WIDTH:
            text = f"{text[: OUTPUT_WIDTH - 3]}... ({len(text)} chars: -o json shows it whole)"
        parts.append(f"{k}={text}")
    return ", ".join(parts)


class Progress:
    """An event sink drawing a live step table on a terminal, or plain lines elsewhere (CI logs)."""

    def __init__(self, console: Console, steps: list[tuple[str, str]]) -> None:
        self.console = console
        self.rows: dict[str, dict[str, Any]] = {
            name: {"type": kind, "phase": "pending", "detail": "", "start": None, "elapsed": None}
            for name, kind in steps
        }
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._t0 = time.monotonic()
        # Asked once: rich answers both from the environment on every call (a cost per event).
        self._terminal = console.is_terminal
        self._plain = not self._terminal and console.color_system is None
        # A run's stream (``run.ReaderGone``) hands over its line buffer's ``add``: one call a line.
        writer = getattr(console.file, "writer", None)
        self._write = writer() if self._plain and writer is not None else None

    def __enter__(self) -> Progress:
        if self._terminal:
            # get_renderable: the table is rebuilt on every refresh, so running steps' times tick.
            self._live = Live(
                console=self.console, get_renderable=self._table, refresh_per_second=8, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(None, None, None)

    def emit(self, event: Event) -> None:
        if self._terminal:  # the rows are the live table's (plain lines show each event instead)
            self._note(event)
        line = self._line(event)
        if line is not None:
            text, style = line
            if self._plain:
                # Plain logs: rich's layout per line cost more than the deploy of a component;
                # control codes stripped as a Text strips them, without building one (a printable
                # line has none: its dict-driven ``translate`` was a third of a line's cost).
                if not text.isprintable():
                    text = strip_control_codes(text)
                (self._write or self.console.file.write)(text + "\n")
            else:
                self.console.print(Text(text, style=style), highlight=False)
        # The live table refreshes itself 8 times a second: redrawing it for every event made
        # the cost of a run grow with the square of its steps.

    def _note(self, event: Event) -> None:
        with self._lock:
            row = self.rows.get(event.step or "")
            if row is not None:
                if event.kind == "step-started":
                    row.update(phase="running", start=event.at, detail="")
                elif event.kind == "step-finished":
                    row.update(phase=event.data.get("phase", row["phase"]), elapsed=event.data.get("elapsed"))
                    reason = event.data.get("reason")
                    row["detail"] = (f"{reason}: " if reason else "") + (event.message.splitlines() or [""])[
                        0
                    ]
                elif event.kind in ("waiting", "ready", "log", "applied"):
                    row["detail"] = event.message

    def _line(self, event: Event) -> tuple[str, str] | None:
        stamp = f"{time.monotonic() - self._t0:6.2f}s"
        who = f"{event.step}: " if event.step else ""
        if event.kind in SHOWN:
            return f"{stamp} {who}{event.message}", "dim" if event.kind == "applied" else ""
        if event.kind == "waiting" and not self._terminal:
            return f"{stamp} {who}{event.message}", ""
        if event.kind == "step-finished" and not self._terminal:
            phase = event.data.get("phase", "")
            return f"{stamp} {who}{phase} {event.data.get('reason') or ''}".rstrip(), STYLE.get(phase, "")
        if event.kind == "step-started" and not self._terminal:
            return f"{stamp} {who}running ({event.message})", ""
        return None

    def _table(self) -> Table:
        table = Table(show_header=True, header_style="bold", expand=False, box=None, pad_edge=False)
        for col in ("step", "type", "phase", "time", "detail"):
            table.add_column(col, overflow="fold" if col == "detail" else "ellipsis")
        now = time.monotonic()
        rows = list(self.rows.items())
        if len(rows) > TABLE_ROWS:
            # A large app: the steps that need an eye (running, failed, suspended), then counts.
            counts: dict[str, int] = {}
            for _, row in rows:
                counts[row["phase"]] = counts.get(row["phase"], 0) + 1
            rows = [r for r in rows if r[1]["phase"] in ("running", "failed", "suspending")][:TABLE_ROWS]
            table.caption = ", ".join(f"{n} {phase}" for phase, n in sorted(counts.items()))
        for name, row in rows:
            elapsed = row["elapsed"]
            if elapsed is None and row["start"] is not None and row["phase"] == "running":
                elapsed = now - row["start"]
            table.add_row(
                name,
                row["type"],
                Text(row["phase"], style=STYLE.get(row["phase"], "")),
                f"{elapsed:.1f}s" if elapsed is not None else "",
                row["detail"],
            )
        return table


def summary(console: Console, result: Mapping[str, Any]) -> None:
    """The final word: phase, revision, each step's phase and outputs."""
    phase = result["phase"]
    style = "green" if phase == "succeeded" else ("yellow" if phase == "suspended" else "bold red")
    head = f"{result['app']} revision {result['revision']}: {phase}"
    if result.get("upToDate"):
        head = f"{result['app']} revision {result['revision']} is up to date: nothing to do"
    console.print(Text(head, style=style))
    if result.get("message") and not result.get("upToDate"):
        console.print(result["message"], highlight=False)
    # Plain logs: one write per step line, not rich's layout (which cost ~0.5 ms a line).
    plain = not console.is_terminal and console.color_system is None
    for name, st in result.get("steps", {}).items():
        outputs = st.get("outputs") or {}
        out = "  " + outputs_text(outputs) if outputs else ""
        line = Text(f"  {name}: ")
        line.append(st.get("phase") or "", style=STYLE.get(st.get("phase") or "", ""))
        if st.get("reason"):
            line.append(f" ({st['reason']})")
        line.append(out)
        if plain:
            console.file.write(line.plain + "\n")
        else:
            console.print(line, highlight=False)
        if st.get("phase") == "failed" and st.get("message"):
            for msg_line in str(st["message"]).splitlines():
                console.print(f"      {msg_line}", highlight=False, style="red")
    for p in result.get("pruned") or []:
        console.print(f"  removed {p}", highlight=False)


def status_text(console: Console, data: Mapping[str, Any]) -> None:
    """``pyvela status`` as text: the revision, its steps (with why they fail or wait), its objects."""
    from pyvela._cli.plaintable import print_table

    console.print(
        f"[bold]{data['app']}[/bold] on {data['target']}, namespace {data['namespace']}: "
        f"revision {data['revision']} ({data['kind']}) [bold]{data['phase']}[/bold]"
    )
    if data["message"]:
        console.print(Text(data["message"]), highlight=False)
    from pyvela._app.guardrails import record_lines

    for line in record_lines(data.get("guardrails")):  # each waiver used, with its reason
        console.print(Text(line), highlight=False)
    steps = []
    for name, st in data["steps"].items():
        outs = outputs_text(st.get("outputs") or {})
        elapsed = f"{st['elapsed']:.1f}s" if isinstance(st.get("elapsed"), int | float) else ""
        steps.append((name, st["phase"], st.get("reason") or "", elapsed, outs))
    print_table(console, ("step", "phase", "reason", "time", "outputs"), steps)
    step_details(console, data)
    objects = []
    for o in data["objects"]:
        ref = o["object"]
        live = o["live"]
        details = []
        if live.get("clusterIP"):
            details.append(f"clusterIP={live['clusterIP']}")
        for cname, c in (live.get("containers") or {}).items():
            env = " ".join(f"{k}={v}" for k, v in c["env"].items() if k in ("BackendIP", "RUNTIME_CLUSTER"))
            details.append(f"{cname}: {c['image']} {env}".strip())
        health = ("ready" if o["ready"] else "not ready") + (f" ({o['message']})" if o["message"] else "")
        where = f"{o['cluster']}: " if o.get("cluster") else ""  # placed on another cluster (topology)
        name = f"{where}{ref['kind']}/{ref['name']}"
        objects.append((name, o["component"] or "", health, "; ".join(details)))
    print_table(console, ("object", "component", "health", "details"), objects)
    for cluster, c in (data.get("clusters") or {}).items():
        state = f"{c['ready']}/{c['objects']} ready" if c["reachable"] else f"does not answer: {c['message']}"
        console.print(Text(f"cluster {cluster}: {state}"), highlight=False)


#: How many of a step's kept log lines the text view shows (``-o json`` has them all).
SHOWN_LOGS = 10


def step_details(console: Console, data: Mapping[str, Any]) -> None:
    """Under the table: why a step failed or waits, what an interrupted step applied, its logs."""
    for name, st in data["steps"].items():
        lines = []
        if st["phase"] in ("failed", "suspending", "running") and st.get("message"):
            lines += [f"  {line}" for line in str(st["message"]).splitlines()]
        if st.get("applied") is not None:
            applied = ", ".join(st["applied"]) or "nothing yet"
            lines.append(f"  applied before the interruption: {applied}")
        logs = st.get("logs") or []
        if logs:
            more = f" (last {SHOWN_LOGS} of {len(logs)})" if len(logs) > SHOWN_LOGS else ""
            lines.append(f"  log{more}:")
            if st.get("dropped_logs"):  # the record keeps the newest lines of each step
                lines.append(f"    ... {st['dropped_logs']} older line(s) dropped (kept: the newest)")
            lines += [f"    {entry['at']}  {entry['message']}" for entry in logs[-SHOWN_LOGS:]]
        if lines:
            console.print(Text(f"{name}:", style="bold"))
            for line in lines:
                console.print(Text(line), highlight=False)
