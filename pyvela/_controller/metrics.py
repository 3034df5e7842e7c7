"""``/metrics`` (prometheus_client, a registry of its own), ``/healthz`` and ``/readyz``,
served on a daemon thread; bound to 127.0.0.1 unless ``--bind`` says otherwise."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pyvela.errors import PyvelaError


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconcile_seconds = Histogram(
            "pyvela_reconcile_duration_seconds",
            "Time of one reconcile of an Application (load, deploy, drift check, status)",
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.reconcile_errors = Counter(
            "pyvela_reconcile_errors",
            "Reconciles that raised (the app is retried with backoff)",
            registry=self.registry,
        )
        self.drift_corrections = Counter(
            "pyvela_drift_corrections", "Owned objects applied again after drift", registry=self.registry
        )
        self.apps = Gauge("pyvela_apps", "Applications by phase", ["phase"], registry=self.registry)
        self.queue_depth = Gauge(
            "pyvela_queue_depth", "Reconciles waiting for a worker thread", registry=self.registry
        )
        self.api_requests = Counter(
            "pyvela_api_requests",
            "API requests of the controller's own deploys, status writes and Events (not kopf's watches)",
            ["verb", "resource", "code"],
            registry=self.registry,
        )
        self._phases: dict[str, str] = {}
        self._shown: set[str] = set()
        self._lock = threading.Lock()
        self.healthy = threading.Event()
        self.ready = threading.Event()

    def phase(self, key: str, phase: str | None) -> None:
        """Record ``key``'s phase (None: the app is gone) for the apps-by-phase gauge."""
        with self._lock:
            if phase is None:
                self._phases.pop(key, None)
            else:
                self._phases[key] = phase
            counts: dict[str, int] = {}
            for p in self._phases.values():
                counts[p] = counts.get(p, 0) + 1
            self._shown |= set(counts)  # a phase no app is in any more shows 0, not its last count
            for p in self._shown:
                self.apps.labels(p).set(counts.get(p, 0))

    def api_request(self, verb: str, resource: str, code: int | None) -> None:
        """One request through the kube backend (``code`` None: it got no response)."""
        self.api_requests.labels(verb, resource, "<error>" if code is None else str(code)).inc()

    def count_requests(self, backend: Any) -> None:
        """Count ``backend``'s API requests (a KubeBackend: its transport's observers), once."""
        observers = getattr(backend, "observers", None)
        if observers is not None and self.api_request not in observers:
            observers.append(self.api_request)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def split_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def serve(metrics: Metrics, bind: str = "127.0.0.1:8080") -> ThreadingHTTPServer:
    """Start serving; the server's ``server_address`` says the port (``:0`` picks a free one)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._send(200, metrics.render(), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/readyz"):
                flag = metrics.healthy if path == "/healthz" else metrics.ready
                ok = flag.is_set()
                self._send(200 if ok else 503, b"ok\n" if ok else b"not yet\n", "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # probes every few seconds: not worth a log line

    try:
        server = ThreadingHTTPServer(split_bind(bind), Handler)
    except OSError as exc:
        raise PyvelaError(
            f"the controller cannot listen on {bind}: {exc.strerror or exc}",
            fix="choose another --bind (HOST:PORT; :0 picks a free port)",
        ) from None
    threading.Thread(target=server.serve_forever, name="pyvela-metrics", daemon=True).start()
    return server
