"""/metrics, /healthz and /readyz on a loopback port."""

from __future__ import annotations

import httpx

from pyvela._controller.metrics import Metrics, serve, split_bind


def test_endpoints() -> None:
    metrics = Metrics()
    server = serve(metrics, "127.0.0.1:0")
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").status_code == 503
        metrics.healthy.set()
        metrics.ready.set()
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/readyz").status_code == 200
        metrics.reconcile_seconds.observe(0.2)
        metrics.drift_corrections.inc(2)
        metrics.phase("a/x", "succeeded")
        metrics.phase("a/y", "succeeded")
        metrics.phase("a/y", "failed")
        metrics.phase("a/x", None)
        text = httpx.get(f"{base}/metrics").text
        assert "pyvela_reconcile_duration_seconds_count 1.0" in text
        assert "pyvela_drift_corrections_total 2.0" in text
        assert 'pyvela_apps{phase="succeeded"} 0.0' in text and 'pyvela_apps{phase="failed"} 1.0' in text
        assert httpx.get(f"{base}/nope").status_code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_bind_defaults_to_loopback() -> None:
    assert split_bind(":9000") == ("127.0.0.1", 9000)
    assert split_bind("0.0.0.0:80") == ("0.0.0.0", 80)
