"""An optional backend capability: a Pod's logs, a command run in it, a port forwarded to it.

Not every backend can do these (the sandbox runs no process), so they are not part of
:class:`~pyvela._backends.protocol.Backend`: a backend that offers them implements
:class:`PodIO` too, and :func:`pod_io` says whether one does. A backend that implements it
but cannot serve a request (the sandbox's exec) raises ClusterError saying why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import attrs

from pyvela.errors import ClusterError, PyvelaError


@attrs.frozen(kw_only=True)
class LogLine:
    """One line a container wrote (``stream``: ``stdout``, or ``log`` when the API merges both)."""

    pod: str
    container: str
    text: str
    stream: str = "log"


@runtime_checkable
class PodIO(Protocol):
    """What ``pyvela logs``, ``exec`` and ``port-forward`` need of a backend. Thread-safe, blocking."""

    def pod_logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        follow: bool = False,
        since_seconds: int | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[LogLine]:
        """The container's log lines, oldest first; with ``follow`` until it ends or ``stop`` is set."""
        ...

    def pod_exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        out: Callable[[str, bytes], None],
    ) -> int:
        """Run ``command`` in the container; its output goes to ``out(stream, data)``
        (``stdout``/``stderr``) as it comes. Returns its exit code."""
        ...

    def port_forward(
        self,
        namespace: str,
        pod: str,
        *,
        local_port: int,
        remote_port: int,
        ready: Callable[[int], None],
        stop: threading.Event,
        on_error: Callable[[PyvelaError], None] | None = None,
    ) -> None:
        """Listen on 127.0.0.1:``local_port`` (0: any free port) and forward each connection to
        the Pod's ``remote_port`` until ``stop`` is set; ``ready(port)`` once listening. A
        connection the cluster refuses is closed and its error given to ``on_error``."""
        ...


def pod_io(backend: object) -> PodIO:
    """``backend`` as a :class:`PodIO`; ClusterError when it offers none."""
    if isinstance(backend, PodIO):
        return backend
    raise ClusterError(
        f"{getattr(backend, 'description', type(backend).__name__)} cannot read logs or run commands in Pods",
        fix="target a real cluster with --context/--kubeconfig",
    )
