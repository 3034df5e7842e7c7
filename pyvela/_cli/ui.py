"""``pyvela ui``: serve the read-only dashboard of the target's apps until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import sys

from pyvela._cli.run import open_backend


def cmd_ui(args: argparse.Namespace) -> int:
    from pyvela._ui.serve import listen, parse_bind, server

    host, port = parse_bind(args.bind, allow_remote=args.allow_remote)
    sock = listen(host, port)
    try:
        backend = open_backend(args, read=True)
        try:
            srv = server(backend, host, port, namespace=args.namespace, poll=args.poll or 0.2)
            shown = f"[{host}]" if ":" in host else host
            port = sock.getsockname()[1]
            print(f"pyvela dashboard of {backend.description}: http://{shown}:{port}/ (Ctrl-C stops it)")
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it stopped on
                srv.run(sockets=[sock])
        finally:
            backend.close()
    finally:
        sock.close()
    return 0
