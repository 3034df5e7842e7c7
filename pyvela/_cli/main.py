"""The command line: argument parsing and dispatch only; commands live in _commands.

Heavy modules (rich, the runner, the Kubernetes client) are imported by the command that
needs them, so ``--help`` and ``render`` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyvela._cli.common_args import chart_args, target_args
from pyvela._cli.controller_args import add_controller
from pyvela._cli.day2_args import add_day2
from pyvela._cli.targets import non_negative_seconds, positive_int
from pyvela.errors import PyvelaError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DIFF_ERROR = 2  # `kubectl diff`: 1 means "differences", so an error must be > 1
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader closed the pipe


class _Version(argparse.Action):
    # The version is read only when asked for: --help and every command stay as cheap.
    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("pyvela")
        except PackageNotFoundError:
            found = "(not installed: run from a checkout)"
        print(f"pyvela {found}")
        parser.exit()


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    # `only`: the command given; its subparser alone is built (building them all is a
    # noticeable share of a render). Unknown or absent: all of them, for help and suggestions.
    def want(*names: str) -> bool:
        return only is None or only in names

    parser = argparse.ArgumentParser(
        prog="pyvela",
        description="Application delivery for Kubernetes with typed Python definitions.",
        epilog="Without --context/--kubeconfig every command targets the embedded sandbox (.pyvela/).",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print pyvela's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def app_command(name: str, help: str, *, target: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "app",
            metavar="APP",
            help="the app file (apps/x.py, or a KubeVela Application .yaml); for status, history, "
            "rollback, delete: or the name of a deployed app",
        )
        p.add_argument(
            "--defs",
            action="append",
            metavar="MODULE",
            help="definitions module, or a YAML file of kube ComponentDefinitions, for the catalogue "
            "(repeatable; default platform_defs)",
        )
        if target:
            target_args(p)
        return p

    if want("render"):
        render = app_command(
            "render", "Print every object the app will apply (no cluster needed).", target=False
        )
        render.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml")
        render.add_argument("--component", action="append", metavar="NAME", help="only these components")
        chart_args(render)

    if want("deploy"):
        deploy = app_command("deploy", "Run the app's workflow: apply, wait, register, until it succeeds.")
        deploy.add_argument("-o", "--output", choices=("text", "json"), default="text")
        deploy.add_argument(
            "--force-conflicts",
            action="store_true",
            help="take over fields another field manager owns (server-side apply --force)",
        )
        deploy.add_argument(
            "--wait-lock",
            type=non_negative_seconds,
            default=0.0,
            metavar="SECONDS",
            help="wait this long for another deploy of the app to finish (default: refuse)",
        )
        deploy.add_argument(
            "--parallel", type=positive_int, default=8, metavar="N", help="steps run at once (default 8)"
        )

    for name, text in (
        ("status", "Show the app's workflow, objects and health (APP: its file or its name)."),
        ("history", "List the app's revisions (APP: its file or its name)."),
    ):
        if not want(name):
            continue
        p = app_command(name, text)
        p.add_argument("-o", "--output", choices=("text", "json"), default="text")
        if name == "status":
            p.add_argument("--tree", action="store_true", help="objects by component, with what they own")
            p.add_argument("--pods", action="store_true", help="the app's Pods, with their reasons")

    if want("ls"):
        ls = sub.add_parser(
            "ls",
            help="List the apps pyvela manages on the target.",
            description="List the apps pyvela manages.",
        )
        ls.add_argument("-A", "--all-namespaces", action="store_true", help="in every namespace")
        ls.add_argument("-o", "--output", choices=("text", "json"), default="text")
        target_args(ls)

    if want("rollback"):
        rollback = app_command(
            "rollback", "Re-deploy an earlier revision (default: the one before the last; APP: file or name)."
        )
        rollback.add_argument("revision", nargs="?", type=positive_int, metavar="REVISION")
        rollback.add_argument("-o", "--output", choices=("text", "json"), default="text")

    if want("delete"):
        delete = app_command(
            "delete", "Delete every object the app owns, in reverse order, and its state (APP: file or name)."
        )
        delete.add_argument("-o", "--output", choices=("text", "json"), default="text")

    if want("diff"):
        diff = app_command(
            "diff",
            "Show what a deploy would change against the live cluster (dry run); "
            "exit 0 no differences, 1 differences, 2 an error.",
        )
        diff.add_argument("-o", "--output", choices=("text", "json"), default="text")
        diff.add_argument(
            "--show-secrets", action="store_true", help="show Secret values (default: only that they change)"
        )
        chart_args(diff)

    if want("graph"):
        graph = app_command(
            "graph",
            "Draw the workflow: steps, groups, dependencies, data references, conditions "
            "(coloured by the last run's phases when the app was deployed).",
        )
        graph.add_argument(
            "-o",
            "--output",
            choices=("mermaid", "dot", "svg", "png"),
            default="mermaid",
            help="mermaid or dot text; svg or png drawn by Graphviz (default mermaid)",
        )
        graph.add_argument("-f", "--file", metavar="FILE", help="write to FILE instead of standard output")
        graph.add_argument("--no-phases", action="store_true", help="do not read the last run's phases")

    if want("ui"):
        ui = sub.add_parser(
            "ui",
            help="Serve a read-only dashboard of the target's apps (http://127.0.0.1:8470 by default).",
            description="Serve a read-only web dashboard: the apps on the target, their revisions, "
            "workflow graph with live phases, steps, objects and health, and the last revision's diff.",
        )
        ui.add_argument(
            "--bind",
            default="127.0.0.1:8470",
            metavar="HOST:PORT",
            help="where to listen (default 127.0.0.1:8470; other than loopback only with --allow-remote)",
        )
        ui.add_argument(
            "--allow-remote",
            action="store_true",
            help="listen on a non-loopback address (anyone who reaches it reads the apps' state)",
        )
        ui.add_argument(
            "--poll",
            type=non_negative_seconds,
            default=1.0,
            metavar="SECONDS",
            help="how often a page's live view reads the state (default 1)",
        )
        target_args(ui)

    if want("workflow"):
        wf = sub.add_parser("workflow", help="Suspend, resume, terminate or restart an app's workflow.")
        wf_sub = wf.add_subparsers(dest="action", required=True, metavar="ACTION")
        for action, text in (
            ("suspend", "Suspend the running workflow at the next step boundary."),
            ("resume", "Resume a suspended workflow (and run it to the end)."),
            ("terminate", "Stop the workflow; running steps fail with reason Terminate."),
            ("restart", "Run the workflow again from the start, or from --step."),
            ("logs", "Print what each step logged (ctx.log), as the state record keeps it."),
        ):
            p = wf_sub.add_parser(action, help=text, description=text)
            p.add_argument("app", metavar="APP", help="the app file, or (suspend, terminate, logs) its name")
            p.add_argument("--defs", action="append", metavar="MODULE")
            p.add_argument(
                "--step", metavar="STEP", help="(restart) the step to restart from; (logs) only this step"
            )
            p.add_argument("-o", "--output", choices=("text", "json"), default="text")
            if action == "logs":
                p.add_argument(
                    "--revision",
                    type=positive_int,
                    metavar="N",
                    help="an earlier revision (default: the latest)",
                )
            target_args(p)

    if want("config"):
        config = sub.add_parser("config", help="Read what the configuration centre holds for an app.")
        config_sub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
        text = "Print the app's released configuration (the sandbox's centre, or Apollo when configured)."
        get = config_sub.add_parser("get", help=text, description=text)
        get.add_argument("app", metavar="APP", help="the app file (apps/x.py)")
        get.add_argument("--defs", action="append", metavar="MODULE")
        get.add_argument("--cluster", default="default", metavar="C", help="config-centre cluster (default)")
        get.add_argument("--env", metavar="ENV", help="config-centre env (default: the app's settings)")
        get.add_argument("--config-namespace", metavar="NS", help="config-centre namespace")
        get.add_argument("-o", "--output", choices=("text", "json"), default="text")
        target_args(get)

    if want("adopt"):
        adopt = sub.add_parser(
            "adopt",
            help="Take over an app KubeVela manages (its ResourceTrackers): nothing deleted or recreated.",
        )
        adopt.add_argument("app", metavar="APP", help="the KubeVela Application's name")
        adopt.add_argument(
            "--from-kubevela", action="store_true", help="adopt from KubeVela's ResourceTrackers"
        )
        adopt.add_argument(
            "--dry-run", action="store_true", help="list what would be adopted; change nothing"
        )
        adopt.add_argument("-o", "--output", choices=("text", "json"), default="text")
        target_args(adopt)

    if want("convert"):
        convert = sub.add_parser(
            "convert",
            help="Write Python (a definitions module and an app module) from KubeVela YAML.",
            description="Write Python from KubeVela YAML: kubevela_defs.py (kube schematics as typed "
            "definitions, CUE ones as stubs to port by hand) and a module per Application.",
        )
        convert.add_argument("files", nargs="+", metavar="FILE.yaml", help="Application and definition files")
        convert.add_argument(
            "-o", "--output-dir", required=True, metavar="DIR", help="where to write modules"
        )
        convert.add_argument(
            "--defs",
            action="append",
            metavar="MODULE",
            help="Python definitions module for the types the files do not define (repeatable; "
            "default: the files' own definitions, else platform_defs)",
        )

    if want("check"):
        check = sub.add_parser(
            "check",
            help="Run the guardrails (the catalogue's @check rules) on apps' rendered objects, alone.",
            description="Run the guardrails on each app's rendered objects (no cluster needed); "
            "exit 0 no error findings, 1 error findings, 2 an app that cannot be loaded or rendered.",
        )
        check.add_argument("apps", nargs="+", metavar="APP", help="app files (apps/x.py, or KubeVela .yaml)")
        check.add_argument("--defs", action="append", metavar="MODULE", help="catalogue module (repeatable)")
        check.add_argument("-o", "--output", choices=("text", "json"), default="text")
        check.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE (for CI)")

    if want("logs", "exec", "port-forward", "rollout"):
        add_day2(sub, target_args)  # logs, exec, port-forward, rollout
    if want("controller"):
        add_controller(sub)  # controller [run|manifests]

    if want("defs"):
        defs = sub.add_parser(
            "defs", help="List the catalogue's definitions, or show one with its parameters."
        )
        defs.add_argument("name", nargs="?", metavar="NAME", help="a definition to show")
        defs.add_argument("--defs", action="append", metavar="MODULE", help="catalogue module (repeatable)")
        defs.add_argument("-o", "--output", choices=("text", "json"), default="text")
        defs.add_argument(
            "--docs",
            metavar="DIR",
            help="write a Markdown reference page per definition (and index.md) to DIR",
        )

    if want("clusters"):
        clusters = sub.add_parser(
            "clusters",
            help="List the clusters a run may target, with their labels and whether they answer.",
            description="List the clusters (local, kubeconfig contexts, named sandboxes, the cluster "
            "file's entries) with their labels, asking each at once whether it answers.",
        )
        clusters.add_argument("-o", "--output", choices=("text", "json"), default="text")
        clusters.add_argument(
            "--timeout",
            type=non_negative_seconds,
            default=5.0,
            metavar="SECONDS",
            help="how long each cluster has to answer (default 5)",
        )
        target_args(clusters)

    if want("new"):
        new = sub.add_parser(
            "new",
            help="Write a typed definition, its golden test and its docs stub (or a whole platform project).",
            description="Scaffolding from templates: `new platform NAME` makes a project (package, pyproject "
            "with mypy/ruff/pytest, guardrails, a starter component and app); component|trait|step|app "
            "NAME add one to the project in -o DIR (default .). Nothing is overwritten.",
        )
        new.add_argument(
            "kind",
            choices=("platform", "app", "component", "trait", "step"),
            metavar="KIND",
            help="platform, app, component, trait or step",
        )
        new.add_argument("name", metavar="NAME", help="lowercase and dashes, e.g. web-service")
        new.add_argument(
            "-o",
            "--output-dir",
            metavar="DIR",
            help="platform: where its directory goes; others: the platform project (default .)",
        )
        new.add_argument(
            "--component", metavar="NAME", help="(app) the platform's component it uses (default service)"
        )

    if want("sandbox"):
        sandbox = sub.add_parser("sandbox", help="Manage the embedded sandbox cluster.")
        sandbox_sub = sandbox.add_subparsers(dest="action", required=True, metavar="ACTION")
        reset = sandbox_sub.add_parser("reset", help="Delete everything in the sandbox.")
        reset.add_argument("--sandbox", metavar="DIR")
        reset.add_argument(
            "--force", action="store_true", help="reset even while a deploy holds an app's lock"
        )
    if only is not None and only not in sub.choices:
        return _parser()  # a misspelt command: its error lists (and suggests from) every command
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    import os

    if not {"", ".", os.getcwd()} & set(sys.path):
        # The `pyvela` script sees the working directory's modules (--defs) as `python -m pyvela` does.
        sys.path.insert(0, os.getcwd())
    try:
        args = _parser(_command_of(sys.argv[1:] if argv is None else argv)).parse_args(argv)
    except BrokenPipeError:  # `pyvela --help | head`
        return _closed_pipe()
    from pyvela._cli import commands as _commands

    try:
        _commands.start(args)  # attrs' code cache; [tool.pyvela] defs of the app's project, unless --defs
        if args.command == "new":  # scaffolding: no app, no cluster
            from pyvela._cli.scaffold import cmd_new

            code = cmd_new(args)
        else:
            code = _commands.dispatch(args)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at interpreter exit
        return code
    except PyvelaError as exc:
        _commands.report_error(exc, args)
        # `diff` and `check` use 1 for their verdict: an error must be > 1
        return EXIT_DIFF_ERROR if args.command in ("diff", "check") else EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted: the workflow state is saved; re-run to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()


def _command_of(argv: Sequence[str]) -> str | None:
    # The top level's only options (-h, --version) exit, so a command is the first word.
    return argv[0] if argv and not argv[0].startswith("-") else None


def _closed_pipe() -> int:
    """The reader went away (``| head``): stop quietly, as coreutils do.

    stdout is pointed at /dev/null so the interpreter's final flush cannot raise again.
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_PIPE
