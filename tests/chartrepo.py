"""A throw-away Helm chart repository served on 127.0.0.1 for tests.

Charts are packaged with the real ``helm package`` and indexed with
``helm repo index`` at test time, then served by a threaded ``http.server``
bound to loopback::

    with ChartRepo(helm="/path/to/helm", charts=[Path("tests/charts/redis-cluster")]) as repo:
        subprocess.run([helm, "repo", "add", "local", repo.url], check=True)

Only the standard library is used; ``helm`` is whatever binary you pass (the
e2e fixture's ``kube_cluster.helm``).
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

CHARTS_DIR = Path(__file__).resolve().parent / "charts"


class _Handler(http.server.SimpleHTTPRequestHandler):
    #: ``Basic ...`` header value every request must carry (None: no authentication).
    expected_auth: str | None = None
    #: The Authorization headers received, for tests that check what a client sent.
    seen_auth: list[str | None]

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        got = self.headers.get("Authorization")
        self.seen_auth.append(got)
        if self.expected_auth is not None and got != self.expected_auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


class ChartRepo:
    """Package ``charts`` and serve them as a Helm repository on 127.0.0.1."""

    def __init__(
        self,
        helm: str | os.PathLike[str],
        charts: Iterable[str | os.PathLike[str]],
        directory: str | os.PathLike[str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        """``auth``: (username, password) the repository requires (HTTP basic auth)."""
        self.helm = str(helm)
        self.auth = auth
        self.seen_auth: list[str | None] = []
        self.charts = [Path(c) for c in charts]
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="pyvela-charts-"))
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.packages: list[Path] = []

    @property
    def url(self) -> str:
        assert self._server is not None, "ChartRepo not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _helm(self, *args: str) -> str:
        home = self.directory.parent / f"{self.directory.name}-helm-home"
        env = dict(
            os.environ,
            HELM_CACHE_HOME=str(home / "cache"),
            HELM_CONFIG_HOME=str(home / "config"),
            HELM_DATA_HOME=str(home / "data"),
        )
        proc = subprocess.run([self.helm, *args], env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            msg = f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
            raise RuntimeError(msg)
        return proc.stdout

    def start(self) -> ChartRepo:
        self.directory.mkdir(parents=True, exist_ok=True)
        expected = None
        if self.auth is not None:
            expected = "Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
        handler_class = type("Handler", (_Handler,), {"expected_auth": expected, "seen_auth": self.seen_auth})
        handler = functools.partial(handler_class, directory=str(self.directory))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        try:
            for chart in self.charts:
                out = self._helm("package", str(chart), "--destination", str(self.directory))
                self.packages.append(Path(out.strip().rsplit(":", 1)[-1].strip()))
            self._helm("repo", "index", str(self.directory), "--url", self.url)
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="chartrepo", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
            shutil.rmtree(self.directory.parent / f"{self.directory.name}-helm-home", ignore_errors=True)

    def __enter__(self) -> ChartRepo:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
