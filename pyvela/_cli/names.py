"""What an APP argument names: a file, or a deployed app by its name (its state record).

Shared by ``day2`` (the commands that read a record) and ``run`` (a rollback by name); it
imports neither, so they do not import each other.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela.errors import AppLoadError


def is_name(app: str) -> bool:
    """Whether APP names a deployed app rather than a file: no such file, no path, no suffix."""
    path = Path(app)
    return not path.exists() and "/" not in app and path.suffix.lower() not in (".py", ".yaml", ".yml")


def needs_source(args: argparse.Namespace) -> AppLoadError:
    """The error for a command given an app's name that only its source can run."""
    from pyvela._workflow.named import NEEDS_SOURCE

    action = args.action if args.command == "workflow" else args.command
    command = f"workflow {action}" if args.command == "workflow" else action
    return AppLoadError(
        f"`{command}` needs the app's file, not only its name {args.app!r}: "
        + NEEDS_SOURCE.get(action, "it runs the app's code"),
        expected="the app file (apps/x.py, or a KubeVela Application .yaml)",
        got=args.app,
        fix=f"pyvela {command} apps/<file>.py",
    )


def recorded(args: argparse.Namespace, backend: Backend) -> Any:
    """The LoadedApp a command given app NAME runs on: only a rollback may (it runs no step
    code); it is found by name (``-n``, else in any namespace) and rebuilt from its record."""
    from pyvela._workflow.listing import locate
    from pyvela._workflow.named import recorded_app
    from pyvela._workflow.registrations import registrations
    from pyvela._workflow.state import StateStore

    if args.command != "rollback":
        raise needs_source(args)
    args.namespace = locate(backend, args.app, args.namespace)
    record = StateStore(backend, args.app, args.namespace).load()
    assert record is not None  # located just now
    if any(registrations(r) for r in record["revisions"]) and getattr(backend, "config_centre", None) is None:
        import os

        from pyvela._configcentre.settings import ApolloSettings

        if ApolloSettings.from_env(os.environ) is None:
            # Its centre may be configured by its module (`apollo = ApolloSettings(...)`).
            raise AppLoadError(
                f"app {args.app!r} registered configuration, and no configuration centre is set "
                "for a rollback by name",
                fix="set PYVELA_APOLLO_PORTAL_URL/CONFIG_URL (and the token), or pass the app file",
            )
    return recorded_app(record, args.namespace)
