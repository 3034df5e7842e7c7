"""``pyvela adopt APP --from-kubevela``: take over an app KubeVela manages, in place."""

from __future__ import annotations

import argparse
import json

from pyvela._cli.run import open_backend
from pyvela.errors import PyvelaError


def cmd_adopt(args: argparse.Namespace) -> int:
    from pyvela._workflow.adopt import adopt

    if not args.from_kubevela:
        raise PyvelaError(
            "adopt needs to know where the app comes from",
            expected="--from-kubevela (the only source pyvela adopts from)",
            fix=f"pyvela adopt {args.app} --from-kubevela",
        )
    namespace = args.namespace or "default"
    backend = open_backend(args, read=args.dry_run)
    try:
        plan = adopt(backend, args.app, namespace, dry_run=args.dry_run)
        target = backend.description
    finally:
        backend.close()
    if args.output == "json":
        print(json.dumps({**plan.to_data(), "dry_run": args.dry_run}, indent=2))
        return 0
    verb = "would adopt" if args.dry_run else "adopted"
    print(f"{verb} app {plan.app!r} in namespace {plan.namespace!r} on {target}")
    print(f"  from ResourceTrackers: {', '.join(plan.trackers)}")
    for t in plan.objects:
        origin = "/".join(x for x in (t.component, t.trait) if x) or "-"
        note = {
            "adopt": "",
            "already": "  (already labelled for pyvela)",
            "missing": f"  (skipped: {t.reason})",
        }
        print(f"  {t.ref}  [{origin}]{note[t.state]}")
    if args.dry_run:
        print("nothing changed (dry run): run again without --dry-run to adopt")
    else:
        print(
            f"revision 1 of {plan.app!r} is the adopted inventory; `pyvela deploy` of the app updates these "
            "objects in place and prunes what it no longer renders"
        )
    return 0
