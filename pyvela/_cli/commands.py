"""The CLI's commands. Each imports what it needs when it runs."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pyvela.errors import PyvelaError


def start(args: argparse.Namespace) -> None:
    """What every command does first: attrs' generated methods through the cache (before the
    first attrs class is created), then the project's ``[tool.pyvela]`` catalogue unless
    ``--defs`` gave one. The cyclic collector is paused meanwhile: start-up creates modules and
    classes that live as long as the process, so its passes (a tenth of importing attrs) find
    nothing to free."""
    import gc

    from pyvela._core.codecache import install

    collecting = gc.isenabled()
    gc.disable()
    try:
        install()
        from pyvela._cli.projectconf import apply_project_config

        apply_project_config(args)
    finally:
        if collecting:
            gc.enable()


def report_error(exc: PyvelaError, args: argparse.Namespace) -> None:
    """Print one clear message (or JSON with ``-o json``) on stderr."""
    if getattr(args, "output", None) == "json":
        print(json.dumps({"ok": False, **exc.to_dict()}, indent=2), file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)


#: Commands whose module is imported only when they run (``pyvela --help`` and ``render`` stay light).
_COMMANDS = {
    "adopt": ("pyvela._cli.adopt", "cmd_adopt"),
    "clusters": ("pyvela._cli.clusters", "cmd_clusters"),
    "graph": ("pyvela._cli.graph", "cmd_graph"),
    "ui": ("pyvela._cli.ui", "cmd_ui"),
    "check": ("pyvela._cli.check", "cmd_check"),
    "logs": ("pyvela._cli.podcmds", "dispatch_pods"),
    "exec": ("pyvela._cli.podcmds", "dispatch_pods"),
    "port-forward": ("pyvela._cli.podcmds", "dispatch_pods"),
    "rollout": ("pyvela._cli.rollouts", "cmd_rollout"),
    "convert": ("pyvela._cli.convert", "cmd_convert"),
    "controller": ("pyvela._cli.controller", "cmd_controller"),
}


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "render":
        return cmd_render(args)
    if args.command == "defs":
        return cmd_defs(args)
    lazy = _COMMANDS.get(args.command)
    if lazy is not None:
        import importlib

        module, name = lazy
        command: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
        return command(args)
    with _few_full_collections():
        from pyvela._cli import day2

        if day2.handles(args):  # ls, status, workflow logs, and the commands given an app's name
            return day2.dispatch(args)
        from pyvela._cli.run import dispatch_run

        return dispatch_run(args)


@contextlib.contextmanager
def _few_full_collections() -> Iterator[None]:
    """Commands that reach a cluster hold much plain data that lives long and holds no cycles
    (manifests, the state record, thousands of live objects): the cyclic collector's passes
    over the old generations scanned it again and again and found nothing (about a tenth of
    a 3,000-component deploy). Young cycles are still collected; restored after, for callers
    in-process."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


# A quoted name, not an apostrophe ("the component's output 'x'"): no word character around it.
# The quote comes first, so the search skips to each quote at C speed (a leading look-behind
# was tried at every character: most of the grouping of 1,000 warnings); `(?<!\w')` after
# the quote is the same test as `(?<!\w)` before it.
_QUOTED = re.compile(r"'(?<!\w')[^']*'(?!\w)")
_SHOWN_NAMES = 3


def group_warnings(warnings: Sequence[str]) -> list[str]:
    """One line per cause: warnings that differ only in their quoted names are counted together.

    A thousand components with the same mistake give one line with the count and the
    first names, not a thousand lines that bury every other message.
    """
    groups: dict[str, list[str]] = {}
    for w in warnings:
        groups.setdefault(_QUOTED.sub("'…'", w), []).append(w)
    out = []
    for key, members in groups.items():
        if len(members) == 1:
            out.append(members[0])
            continue
        names = [m[0] for m in (_QUOTED.findall(w) for w in members) if m]
        shown = ", ".join(n.strip("'") for n in names[:_SHOWN_NAMES])
        more = f", … ({len(members) - _SHOWN_NAMES} more)" if len(members) > _SHOWN_NAMES else ""
        subject = key.replace("'…'", "{name}")
        out.append(f"{len(members)}x {subject} [{shown}{more}]")
    return out


def cmd_render(args: argparse.Namespace) -> int:
    import gc

    # A render keeps every object it builds (the app, then the manifests) until it prints them:
    # the cyclic collector would only scan them again and again (a fifth of a large render) and
    # find nothing, since plain data holds no cycles. Restored after, for callers in-process.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render(args)
    finally:
        if enabled:
            gc.enable()


def _render(args: argparse.Namespace) -> int:
    from pyvela._app.loader import load_app
    from pyvela._app.output import to_json, to_yaml
    from pyvela._app.render import render_component
    from pyvela._core.objects import is_helm_release

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
            fix=f"--component {sorted(known)[0]}, or leave --component out for every component"
            if known
            else "leave --component out: the app has no components",
        )
    objects: list[Any] = []
    warnings: list[str] = list(loaded.warnings)
    checking = bool(loaded.catalogue.checks)
    checked = []  # with guardrails on, every component: an app check sees the whole app
    shown = []
    for use in loaded.app.components:
        if wanted and use.name not in wanted and not checking:
            continue
        # The revision is computed only if a definition reads it (ctx.app_revision).
        # Printed, never changed: the objects may share nodes with the definitions' data
        # (guardrail checks, user code, see them whole and private).
        rendered = render_component(loaded.app, use, revision=lambda: loaded.revision, private=checking)
        checked.append(rendered)
        if wanted and use.name not in wanted:
            continue
        shown.append(rendered)
        warnings.extend(rendered.warnings)
        objects.extend(o.object for o in rendered.objects)
    if any(is_helm_release(o) for o in objects):  # the helm code only for an app that needs it
        from pyvela._cli.helmrender import Charts

        charts = Charts(open=not getattr(args, "no_charts", False), strict=getattr(args, "strict", False))
        pairs = ((o.component, o.object) for rc in shown for o in rc.objects)
        objects = charts.expand(pairs, loaded.app.namespace)
    for line in group_warnings(warnings):
        print(f"warning: {line}", file=sys.stderr)
    if checking:
        from pyvela._cli.check import guard_render

        guard_render(loaded, checked, wanted)  # an error finding: nothing is printed
    sys.stdout.write(to_json(objects) + "\n" if args.output == "json" else to_yaml(objects))
    return 0


def cmd_defs(args: argparse.Namespace) -> int:
    from pyvela._app.catalogue import Catalogue, kind_of
    from pyvela._app.kubevela import definition_files
    from pyvela._app.loader import definition_modules
    from pyvela.errors import UnknownDefinitionError

    modules, _warnings = definition_files(definition_modules(args.defs))
    catalogue = Catalogue.from_modules(modules, stdlib=True)
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
            entry["workload"] = str(workload)
        if getattr(definition, "applies_to", None):
            entry["appliesTo"] = list(definition.applies_to)  # type: ignore[union-attr]
        if entry["kind"] == "check":  # a guardrail: how hard, and what it judges
            entry["check"] = {
                "severity": getattr(definition, "severity", None),
                "scope": getattr(definition, "scope", None),
                **{
                    k: v
                    for k in ("kinds", "components", "component_types", "labels")
                    if (v := getattr(definition, k))
                },
            }
        for pname, default in factory_defaults(definition.params).items():
            entry["parameters"][pname]["default"] = default
        outputs = getattr(definition, "outputs_type", None)
        if outputs is not None:
            entry["outputs"] = outputs.__qualname__
            entry["outputFields"] = output_fields(outputs)
        entries.append(entry)
    if args.name and not entries:
        from pyvela.stdlib.unsupported import why, why_policy

        if why(args.name) is not None:
            catalogue.step_type(args.name)  # a KubeVela step pyvela refuses: says why
        if why_policy(args.name) is not None:
            raise UnknownDefinitionError(
                f"policy type {args.name!r} is not supported, because {why_policy(args.name)}",
                got=args.name,
            )
        raise UnknownDefinitionError(
            f"no definition named {args.name!r}",
            expected=", ".join(sorted({n for _, n in catalogue.definitions})),
            got=args.name,
        )
    if getattr(args, "docs", None):
        from pathlib import Path

        from pyvela._cli.docs import write_docs

        objects = {f"{kind_of(d)}/{n}": d for (_k, n), d in catalogue.definitions.items()}
        written = write_docs(entries, objects, Path(args.docs))
        print(f"wrote {len(written) - 1} definition pages and {written[-1]} to {args.docs}")
        return 0
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
        if e.get("check"):
            print("  " + ", ".join(f"{k}: {v}" for k, v in e["check"].items()))
            continue
        print("  parameters:")
        for pname, p in e["parameters"].items():
            req = "required" if p["required"] else "optional"
            if "default" in p:
                req = f"default {p['default']!r}"
            print(
                f"    {pname}: {p['type']} ({req})" + (f" - {p['description']}" if "description" in p else "")
            )
        if e.get("outputs"):
            print(f"  outputs: {e['outputs']}")
            for fname, ftype in e.get("outputFields", {}).items():
                print(f"    {fname}: {ftype}")
    return 0


def factory_defaults(params: Any) -> dict[str, Any]:
    """The values ``factory=`` defaults produce (the schema leaves them out: they are built per use)."""
    import attrs

    out: dict[str, Any] = {}
    if not attrs.has(params):
        return out
    for field in attrs.fields(params):
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            try:
                value = default.factory(None) if default.takes_self else default.factory()
            except Exception:  # a factory that needs an instance: say so rather than guess
                value = f"<built by {getattr(default.factory, '__qualname__', 'a factory')}>"
            out[field.alias or field.name] = value
    return out


def output_fields(outputs: Any) -> dict[str, str]:
    """``{field: type}`` of a step's outputs class, so a reader knows what ``.outputs.x`` holds."""
    import typing

    import attrs

    from pyvela._core.params import type_name

    if not attrs.has(outputs):
        return {}
    try:
        hints = typing.get_type_hints(outputs)
    except Exception:  # unresolvable annotations: fall back to what attrs recorded
        hints = {}
    return {f.name: type_name(hints.get(f.name, f.type)) for f in attrs.fields(outputs)}
