"""Pod logs, exec and port-forward on a real cluster (:class:`~pyvela._backends.podio.PodIO`).

Through the official client: logs are the ``pods/log`` subresource read as a stream; exec and
port-forward are its websocket calls (``kubernetes.stream``), which the API server relays to
the node's kubelet. ``kubernetes.stream`` swaps the request method of the ApiClient it is
given while it opens the socket, so every such call gets an ApiClient of its own: the shared
one keeps serving other threads' requests untouched. A forwarded port listens on 127.0.0.1
only.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from pyvela._backends.kube.errors import transport_error
from pyvela._backends.kube.transport import USER_AGENT, KubeTransport
from pyvela._backends.podio import LogLine
from pyvela.errors import ClusterError, PyvelaError

__all__ = ["KubePodIO"]

T = TypeVar("T")
Query = list[tuple[str, str]]

LOOPBACK = "127.0.0.1"
_CHUNK = 65536


class KubePodIO(KubeTransport):
    """The :class:`~pyvela._backends.podio.PodIO` half of the Kubernetes backend.

    Requests are built here rather than through the client's generated ``CoreV1Api`` (whose
    import alone takes seconds): the client's configuration, credentials and pool are used
    as the transport uses them.
    """

    def _headers(self, method: str, path: str) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        self._client.update_params_for_auth(headers, [], ["BearerToken"], path, method, None)
        credential = headers.get("authorization", "")
        if credential:  # an exec plugin may have refreshed the token: never let it show
            self.redact.add(credential.partition(" ")[2] or credential)
        return headers

    def _pod_path(self, namespace: str, pod: str, sub: str) -> str:
        return f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/{sub}"

    def _websocket(
        self,
        open_: Callable[[Any, str, dict[str, str]], T],
        path: str,
        query: list[tuple[str, str]],
        what: str,
    ) -> T:
        """``open_(configuration, url, headers)`` for a websocket to ``path``; its errors as pyvela's."""
        from websocket import WebSocketBadStatusException, WebSocketException

        url = _ws_client().get_websocket_url(self._host + path + "?" + urlencode(query))
        verb = path.rsplit("/", 1)[-1].upper()
        code: int | None = None
        try:
            opened = open_(self._client.configuration, url, self._headers("GET", path))
            code = 101  # switched to the websocket protocol
            return opened
        except WebSocketBadStatusException as exc:
            code = int(exc.status_code)
            body = getattr(exc, "resp_body", None) or str(exc).encode()
            raise self.error(code, body, what=what, verb=verb) from None
        except (WebSocketException, OSError) as exc:
            raise transport_error(exc, what=what, verb=verb, server=self.server, redact=self.redact) from None
        finally:
            # The API server's own metrics call an upgraded exec or port-forward CONNECT.
            self._counted("CONNECT", path, code)

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
        import urllib3

        what = f"logs of pod {namespace}/{pod} container {container}"
        path = self._pod_path(namespace, pod, "log")
        query = [("container", container)]
        if follow:
            query.append(("follow", "true"))
        if since_seconds is not None:
            query.append(("sinceSeconds", str(max(1, since_seconds))))
        code: int | None = None
        try:
            response = self._pool.request(
                "GET",
                self._host + path + "?" + urlencode(query),
                headers=self._headers("GET", path),
                timeout=urllib3.Timeout(connect=10.0, read=None if follow else 60.0),
                retries=False,
                redirect=False,
                preload_content=False,
            )
            code = int(response.status)
        except urllib3.exceptions.HTTPError as exc:
            error = transport_error(exc, what=what, verb="GET", server=self.server, redact=self.redact)
            raise error from None
        finally:
            self._counted("GET", path, code)
        if response.status != 200:
            data = response.read()
            response.release_conn()
            raise self.error(response.status, data, what=what, verb="GET")
        if stop is not None:
            # A follow blocks in a read: shutting the response from another thread ends it.
            def close_on_stop() -> None:
                stop.wait()
                with contextlib.suppress(Exception):
                    if hasattr(response, "shutdown"):  # urllib3 >= 2.3: unblocks the reading thread
                        response.shutdown()
                    response.close()

            threading.Thread(target=close_on_stop, daemon=True, name=f"logs-stop {pod}").start()
        pending = b""
        try:
            for chunk in response.stream(None, decode_content=True):  # chunked: each chunk as it comes
                if stop is not None and stop.is_set():
                    return
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    yield LogLine(pod=pod, container=container, text=raw.decode("utf-8", "replace"))
            if pending:
                yield LogLine(pod=pod, container=container, text=pending.decode("utf-8", "replace"))
        except Exception as exc:  # the connection dropped, or ``stop`` shut it
            if stop is not None and stop.is_set():
                return
            raise ClusterError(f"reading the {what} failed: {self.redact(str(exc))}") from None
        finally:
            with contextlib.suppress(Exception):
                response.release_conn()

    def pod_exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        out: Callable[[str, bytes], None],
    ) -> int:
        import yaml

        what = f"pod {namespace}/{pod} container {container}"
        query = [("command", c) for c in command]
        query += [("container", container), ("stdout", "true"), ("stderr", "true")]
        path = self._pod_path(namespace, pod, "exec")
        ws: Any = self._websocket(
            lambda cfg, url, headers: _ws_client().WSClient(cfg, url, headers, False, binary=True),
            path,
            query,
            what,
        )
        raw: Any = None
        try:
            while ws.is_open():
                ws.update(timeout=1)
                _drain(ws, out)
            _drain(ws, out)
            raw = ws.read_channel(3)
        finally:
            ws.close()
        status = yaml.safe_load(raw) if raw else None
        return exit_code(status, what=what, redact=self.redact)

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
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((LOOPBACK, local_port))
        except OSError as exc:
            listener.close()
            raise ClusterError(
                f"cannot listen on {LOOPBACK}:{local_port}: {exc.strerror}",
                fix="pick another local port (0 picks a free one)",
            ) from None
        listener.listen(16)
        listener.settimeout(0.2)
        ready(int(listener.getsockname()[1]))
        try:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(
                    target=self._forward_one,
                    args=(conn, namespace, pod, remote_port, stop, on_error),
                    daemon=True,
                    name=f"port-forward {pod}:{remote_port}",
                ).start()
        finally:
            listener.close()

    def _forward_one(
        self,
        conn: socket.socket,
        namespace: str,
        pod: str,
        remote_port: int,
        stop: threading.Event,
        on_error: Callable[[PyvelaError], None] | None,
    ) -> None:
        """One local connection, over one port-forward stream of its own (as kubectl does)."""
        ws = _ws_client()
        what = f"pod {namespace}/{pod} port {remote_port}"
        path = self._pod_path(namespace, pod, "portforward")
        try:
            forward: Any = self._websocket(
                lambda cfg, url, headers: ws.PortForward(
                    ws.create_websocket(cfg, url, headers), [remote_port]
                ),
                path,
                [("ports", str(remote_port))],
                what,
            )
        except PyvelaError as exc:
            if on_error is not None:
                on_error(exc)
            conn.close()
            return
        remote = forward.socket(remote_port)
        remote.setblocking(True)
        try:
            _pump(conn, remote, stop)
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            with contextlib.suppress(Exception):
                forward.close()


def _pump(local: socket.socket, remote: Any, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes (a half-close is passed on)."""
    open_ = {local: remote, remote: local}
    while open_ and not stop.is_set():
        readable, _, _ = select.select(list(open_), [], [], 0.2)
        for src in readable:
            try:
                data = src.recv(_CHUNK)
            except OSError:
                data = b""
            dst = open_[src]
            if not data:
                del open_[src]
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                continue
            try:
                dst.sendall(data)
            except OSError:
                return


def _ws_client() -> Any:
    """The client's websocket module (untyped), imported when a websocket is opened."""
    from kubernetes.stream import ws_client

    return ws_client


def _drain(ws: Any, out: Callable[[str, bytes], None]) -> None:
    for channel, name in ((1, "stdout"), (2, "stderr")):
        data = ws.read_channel(channel)
        if data:
            out(name, data if isinstance(data, bytes) else data.encode())


def exit_code(status: Any, *, what: str, redact: Callable[[str], str]) -> int:
    """The exit code an exec's final Status reports (kubelet's ``NonZeroExitCode`` cause).

    A failure without an exit code (the command could not start, the runtime's own error)
    is a ClusterError with the runtime's message.
    """
    if not isinstance(status, dict) or status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            try:
                return int(str(cause.get("message")))
            except (TypeError, ValueError):
                break
    message = redact(str(status.get("message") or status.get("reason") or status))
    raise ClusterError(
        f"the command in {what} failed: {message}",
        fix="check the command and that the container has it",
    )
