"""Running the dashboard: where it listens, and uvicorn.

It listens on a loopback address unless told otherwise with ``allow_remote``: the pages
show every app's state (step outputs, object summaries) to whoever reaches the port, and
there is no login. Behind a loopback address the Host header is checked too, so a web
page elsewhere cannot read it through a name that resolves to 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela.errors import PyvelaError

DEFAULT_BIND = "127.0.0.1:8470"


def parse_bind(text: str, *, allow_remote: bool = False) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; a bare ``:PORT`` is 127.0.0.1) as host and port.

    Raises:
        PyvelaError: it is not HOST:PORT, or HOST is not a loopback address and
            ``allow_remote`` is False.
    """
    fix = "give --bind HOST:PORT, e.g. --bind 127.0.0.1:8470"
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise PyvelaError("--bind must be HOST:PORT", got=repr(text), fix=fix)
    host = host.strip("[]") or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise PyvelaError(
            "--bind needs an IP address, not a host name", got=repr(host), expected="e.g. 127.0.0.1", fix=fix
        ) from None
    if not address.is_loopback and not allow_remote:
        raise PyvelaError(
            f"refusing to serve the dashboard on {host}, which is not a loopback address",
            expected="127.0.0.1, ::1 or another loopback address",
            got=host,
            fix="keep the default (127.0.0.1), reach it through `ssh -L`, or pass --allow-remote "
            "if everyone who can reach that address may read every app's state",
        )
    return host, int(port_text)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: one the OS picks), for ``server.run(sockets=...)``.

    Bound here rather than by uvicorn, so a port in use is one clear error before anything
    says the dashboard is up.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise PyvelaError(
            f"the dashboard cannot listen on {host}:{port}: {exc.strerror or exc}",
            fix="pick another port: --bind 127.0.0.1:PORT (port 0 lets the system choose)",
        ) from None


def server(
    backend: Backend,
    host: str,
    port: int,
    *,
    namespace: str | None = None,
    poll: float = 1.0,
    log_level: str = "warning",
) -> Any:
    """A uvicorn server of the dashboard, not yet started (``.run()``, or ``start_in_thread``)."""
    import uvicorn

    from pyvela._ui.server import make_app

    loopback = ipaddress.ip_address(host).is_loopback
    hosts = ("127.0.0.1", "localhost", "[::1]", "::1") if loopback else ()
    app = make_app(backend, namespace=namespace, poll=poll, allowed_hosts=hosts)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    return uvicorn.Server(config)


def start_in_thread(srv: Any, timeout: float = 30.0) -> threading.Thread:
    """Run ``srv`` on a daemon thread until ``srv.should_exit``; returns once it listens."""
    thread = threading.Thread(target=srv.run, name="pyvela-ui", daemon=True)
    thread.start()
    done = threading.Event()

    def started() -> bool:
        return bool(srv.started) or not thread.is_alive()

    while not started() and not done.wait(0.05):
        timeout -= 0.05
        if timeout <= 0:
            raise PyvelaError("the dashboard did not start listening in time")
    if not srv.started:
        raise PyvelaError("the dashboard could not start (is the port in use?)")
    return thread


def bound_port(srv: Any) -> int:
    """The port ``srv`` listens on (the one the OS chose, for port 0)."""
    for s in srv.servers:
        for sock in s.sockets:
            return int(sock.getsockname()[1])
    raise PyvelaError("the dashboard is not listening")
