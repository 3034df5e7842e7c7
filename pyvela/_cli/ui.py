"""``pyvela ui``: serve the read-only dashboard of the target's apps until interrupted."""

from __future__ import annotations

import argparse
import sys

from pyvela._cli.run import open_backend


def cmd_ui(args: argparse.Namespace) -> int:
    from pyvela._ui.serve import parse_bind, server

    host, port = parse_bind(args.bind, allow_remote=args.allow_remote)
    backend = open_backend(args, read=True)
    try:
        srv = server(backend, host, port, namespace=args.namespace, poll=args.poll or 0.2)
        shown = f"[{host}]" if ":" in host else host
        print(f"pyvela dashboard of {backend.description}: http://{shown}:{port}/ (Ctrl-C stops it)")
        sys.stdout.flush()
        srv.run()
        if not srv.started:
            return 1  # uvicorn has said why (the port is taken, most often)
    finally:
        backend.close()
    return 0
