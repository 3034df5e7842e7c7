"""``pyvela rollout promote|abort|retry|pause APP COMPONENT``: the component's Argo Rollout."""

from __future__ import annotations

import argparse
import json

from pyvela._cli.podcmds import resolve_app
from pyvela._cli.run import open_backend
from pyvela._workflow.rolloutops import DONE, act, describe, rollout_of


def cmd_rollout(args: argparse.Namespace) -> int:
    backend = open_backend(args)
    try:
        name, namespace = resolve_app(args, backend)
        ref = rollout_of(backend, name, namespace, args.component)
        live = act(backend, ref, args.action, full=getattr(args, "full", False))
    finally:
        backend.close()
    full = " fully" if getattr(args, "full", False) else ""
    shown = describe(live)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "rollout": ref.name,
                    "namespace": ref.namespace,
                    "action": args.action,
                    "full": bool(full),
                    **shown,
                },
                indent=2,
                default=str,
            )
        )
        return 0
    print(f"rollout '{ref.name}'{full} {DONE[args.action]}")
    state = shown["phase"] or "no phase yet"
    if shown.get("canary"):
        state += f"; {shown['canary']['summary']}"
    print(f"  now: {state}")
    return 0
