"""``pyvela_api_requests_total{verb,resource,code}``: every request the kube backend makes
(the controller's deploys, status writes, Events) counted at its one sending place, with
the resource its path names and the answer's code (``<error>`` when none came)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3

from pyvela._backends.kube.backend import KubeBackend
from pyvela._backends.kube.errors import Redactor
from pyvela._backends.kube.helm import KubeTarget
from pyvela._backends.kube.transport import resource_of
from pyvela._controller.metrics import Metrics
from pyvela._core.objects import ObjectRef
from pyvela.errors import NotFoundError

SERVER = "https://127.0.0.1:6443"
CORE = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "configmaps", "namespaced": True, "kind": "ConfigMap", "verbs": ["get", "patch"]},
        {"name": "events", "namespaced": True, "kind": "Event", "verbs": ["create"]},
    ],
}


class Answer:
    def __init__(self, code: int, body: Any) -> None:
        self.status = code
        self.data = json.dumps(body).encode()

    def release_conn(self) -> None:
        pass


class Pool:
    def __init__(self) -> None:
        self.refuse = False

    def request(self, method: str, url: str, **_: Any) -> Answer:
        path = urlsplit(url).path
        if self.refuse:
            raise urllib3.exceptions.ProtocolError("Connection aborted.")
        if path == "/api/v1":
            return Answer(200, CORE)
        if path.endswith("/configmaps/gone"):
            return Answer(404, {"kind": "Status", "code": 404, "reason": "NotFound", "message": "gone"})
        return Answer(200, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})


def backend() -> tuple[KubeBackend, Pool]:
    pool = Pool()
    client = SimpleNamespace(
        configuration=SimpleNamespace(host=SERVER),
        rest_client=SimpleNamespace(pool_manager=pool),
        update_params_for_auth=lambda *a: None,
        close=lambda: None,
    )
    kube = KubeBackend(
        client, server=SERVER, context="t", target=KubeTarget(), redact=Redactor(), retry_budget=0.0
    )
    return kube, pool


def sample(metrics: Metrics, verb: str, resource: str, code: str) -> float:
    value = metrics.registry.get_sample_value(
        "pyvela_api_requests_total", {"verb": verb, "resource": resource, "code": code}
    )
    return float(value or 0.0)


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/v1/namespaces/ns/secrets/pyvela-app.web", "secrets"),
        ("/api/v1/namespaces/ns/events", "events"),
        ("/api/v1/namespaces/ns", "namespaces"),
        ("/api/v1/namespaces", "namespaces"),
        ("/apis/apps/v1/namespaces/ns/deployments/web", "deployments.apps"),
        ("/apis/apps/v1/deployments", "deployments.apps"),
        (
            "/apis/core.oam.dev/v1beta1/namespaces/ns/applications/a/status",
            "applications.core.oam.dev/status",
        ),
        ("/apis/coordination.k8s.io/v1/namespaces/ns/leases/pyvela-app.web", "leases.coordination.k8s.io"),
        ("/api/v1/namespaces/ns/pods/p/log?follow=1", "pods/log"),
        ("/apis/apps/v1", "discovery"),
        ("/api/v1", "discovery"),
        ("/apis", "discovery"),
        ("/version", "version"),
    ],
)
def test_resource_of_a_path(path: str, resource: str) -> None:
    assert resource_of(path) == resource


def test_every_request_is_counted_with_its_resource_and_code() -> None:
    kube, pool = backend()
    metrics = Metrics()
    metrics.count_requests(kube)
    metrics.count_requests(kube)  # once only: a second call does not double the counts
    assert kube.get(ObjectRef("v1", "ConfigMap", "ns", "c")) is not None
    assert kube.get(ObjectRef("v1", "ConfigMap", "ns", "gone")) is None
    with pytest.raises(NotFoundError):
        kube.merge_patch(ObjectRef("v1", "ConfigMap", "ns", "gone"), {"data": {"a": "b"}})
    assert sample(metrics, "GET", "discovery", "200") == 1
    assert sample(metrics, "GET", "configmaps", "200") == 1
    assert sample(metrics, "GET", "configmaps", "404") == 1
    assert sample(metrics, "PATCH", "configmaps", "404") == 1
    pool.refuse = True
    with pytest.raises(Exception):  # noqa: B017 - the transport's error; the count is the point
        kube.get(ObjectRef("v1", "ConfigMap", "ns", "c"))
    assert sample(metrics, "GET", "configmaps", "<error>") >= 1
    assert sum(kube.requests.values()) == sum(
        s.value
        for m in metrics.registry.collect()
        if m.name == "pyvela_api_requests"
        for s in m.samples
        if s.name.endswith("_total")
    )


def test_the_cli_path_imports_no_metrics_library() -> None:
    """The hook is a plain list of callables: the kube backend never imports prometheus_client."""
    code = (
        "import sys; import pyvela._backends.kube.backend, pyvela._cli.main; "
        "print('prometheus_client' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class LogAnswer(Answer):
    """A pod's log, read as a stream."""

    def stream(self, _amt: Any, decode_content: bool = True) -> Any:
        yield b"hello\n"


class LogPool(Pool):
    def request(self, method: str, url: str, **kw: Any) -> Answer:
        if urlsplit(url).path.endswith("/pods/p/log"):
            if self.refuse:
                raise urllib3.exceptions.ProtocolError("Connection aborted.")
            return LogAnswer(200, {})
        return super().request(method, url, **kw)


class FakeExec:
    """The client's ws_client: an exec that exits 0 at once, or refused with ``refuse``."""

    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse

    def get_websocket_url(self, url: str) -> str:
        return url.replace("https://", "wss://")

    def WSClient(self, *_a: Any, **_kw: Any) -> Any:
        from websocket import WebSocketBadStatusException

        if self.refuse is not None:
            raise WebSocketBadStatusException("refused", self.refuse, resp_body=b'{"message": "no"}')
        status = {3: "status: Success"}
        return SimpleNamespace(
            is_open=lambda: False, read_channel=lambda c: status.get(c, ""), close=lambda: None
        )


def test_a_pods_logs_and_exec_are_counted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Day-2 requests (``pods/log`` read as a stream, ``pods/exec`` over a websocket) go by the
    pool and the websocket client, not the JSON call: counted all the same."""
    import pyvela._backends.kube.podio as podio

    kube, _ = backend()
    pool = LogPool()
    kube._pool = pool
    metrics = Metrics()
    metrics.count_requests(kube)
    assert [line.text for line in kube.pod_logs("ns", "p", "c")] == ["hello"]
    pool.refuse = True
    with pytest.raises(Exception):  # noqa: B017 - the transport's error; the count is the point
        list(kube.pod_logs("ns", "p", "c"))
    monkeypatch.setattr(podio, "_ws_client", lambda: FakeExec())
    assert kube.pod_exec("ns", "p", "c", ["true"], out=lambda *_: None) == 0
    monkeypatch.setattr(podio, "_ws_client", lambda: FakeExec(refuse=403))
    with pytest.raises(Exception):  # noqa: B017
        kube.pod_exec("ns", "p", "c", ["true"], out=lambda *_: None)
    assert sample(metrics, "GET", "pods/log", "200") == 1
    assert sample(metrics, "GET", "pods/log", "<error>") == 1
    assert sample(metrics, "CONNECT", "pods/exec", "101") == 1
    assert sample(metrics, "CONNECT", "pods/exec", "403") == 1
    assert kube.requests["GET"] == 2 and kube.requests["CONNECT"] == 2
