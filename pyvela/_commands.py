"""The CLI's commands. Each imports what it needs when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .errors import PyvelaError


def report_error(exc: PyvelaError, args: argparse.Namespace) -> None:
    """Print one clear message (or JSON with ``-o json``) on stderr."""
    if getattr(args, "output", None) == "json":
        print(json.dumps({"ok": False, **exc.to_dict()}, indent=2), file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)


def dispatch(args: argparse.Namespace) -> int:
    handler = {
        "render": cmd_render,
    }.get(args.command)
    if handler is None:
        from ._commands_run import dispatch_run

        return dispatch_run(args)
    return handler(args)


def cmd_render(args: argparse.Namespace) -> int:
    from ._loader import load_app
    from ._output import to_json, to_yaml
    from ._render import render_component

    loaded = load_app(args.app, defs=args.defs)
    wanted = set(args.component or ())
    known = {c.name for c in loaded.app.components}
    unknown = wanted - known
    if unknown:
        from .errors import AppError

        raise AppError(
            f"no component named {', '.join(sorted(unknown))} in {loaded.app.name!r}",
            expected="one of " + ", ".join(sorted(known)),
            got=", ".join(sorted(unknown)),
        )
    objects: list[Any] = []
    for use in loaded.app.components:
        if wanted and use.name not in wanted:
            continue
        rendered = render_component(loaded.app, use, revision=loaded.revision)
        for warning in rendered.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        objects.extend(o.object for o in rendered.objects)
    sys.stdout.write(to_json(objects) + "\n" if args.output == "json" else to_yaml(objects))
    return 0
