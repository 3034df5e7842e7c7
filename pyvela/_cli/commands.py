"""The CLI's commands. Each imports what it needs when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pyvela.errors import PyvelaError


def report_error(exc: PyvelaError, args: argparse.Namespace) -> None:
    """Print one clear message (or JSON with ``-o json``) on stderr."""
    if getattr(args, "output", None) == "json":
        print(json.dumps({"ok": False, **exc.to_dict()}, indent=2), file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)


def dispatch(args: argparse.Namespace) -> int:
    handler = {
        "render": cmd_render,
        "defs": cmd_defs,
    }.get(args.command)
    if handler is None:
        from pyvela._cli.run import dispatch_run

        return dispatch_run(args)
    return handler(args)


def cmd_render(args: argparse.Namespace) -> int:
    from pyvela._app.loader import load_app
    from pyvela._app.output import to_json, to_yaml
    from pyvela._app.render import render_component

    loaded = load_app(args.app, defs=args.defs)
    wanted = set(args.component or ())
    known = {c.name for c in loaded.app.components}
    unknown = wanted - known
    if unknown:
        from pyvela.errors import AppError

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


def cmd_defs(args: argparse.Namespace) -> int:
    from pyvela._app.catalogue import Catalogue, kind_of
    from pyvela._app.loader import definition_modules
    from pyvela.errors import UnknownDefinitionError

    catalogue = Catalogue.from_modules(definition_modules(args.defs))
    entries = []
    for (_kind, name), definition in sorted(catalogue.definitions.items()):
        if args.name and name != args.name:
            continue
        entry: dict[str, Any] = {
            "kind": kind_of(definition),
            "name": name,
            "description": definition.description,
            "where": str(definition.where),
            "parameters": definition.schema(),
        }
        workload = getattr(definition, "workload", None)
        if workload is not None:
            entry["workload"] = f"{workload.api_version} {workload.kind}"
        if getattr(definition, "applies_to", None):
            entry["appliesTo"] = list(definition.applies_to)  # type: ignore[union-attr]
        outputs = getattr(definition, "outputs_type", None)
        if outputs is not None:
            entry["outputs"] = outputs.__qualname__
        entries.append(entry)
    if args.name and not entries:
        raise UnknownDefinitionError(
            f"no definition named {args.name!r}",
            expected=", ".join(sorted({n for _, n in catalogue.definitions})),
            got=args.name,
        )
    if args.output == "json":
        print(json.dumps(entries, indent=2, default=str))
        return 0
    for e in entries:
        first = e["description"].splitlines()[0] if e["description"] else ""
        if not args.name:
            print(f"{e['kind']:<10} {e['name']:<18} {first}")
            continue
        print(f"{e['kind']} {e['name']}  ({e['where']})")
        if e.get("workload"):
            print(f"  workload: {e['workload']}")
        print("\n".join("  " + line for line in e["description"].splitlines()))
        print("  parameters:")
        for pname, p in e["parameters"].items():
            req = "required" if p["required"] else f"default {p.get('default')!r}"
            print(
                f"    {pname}: {p['type']} ({req})" + (f" - {p['description']}" if "description" in p else "")
            )
        if e.get("outputs"):
            print(f"  outputs: {e['outputs']}")
    return 0
