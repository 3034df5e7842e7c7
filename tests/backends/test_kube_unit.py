"""The Kubernetes backend offline: error mapping, redaction, retries, watches, discovery, helm.

No cluster and no helm here: the backend runs against a scripted connection pool (what the
API server would answer), and helm against a fake script. The e2e suite (tests/e2e)
covers the same code against a real control plane.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3

from pyvela._backends.kube import backend as _kube
from pyvela._backends.kube import watch as _kube_watch
from pyvela._backends.kube.backend import KubeBackend
from pyvela._backends.kube.discovery import Kind
from pyvela._backends.kube.errors import Redactor, error_for, transport_error
from pyvela._backends.kube.helm import (
    HelmSpec,
    KubeTarget,
    find_helm,
    run_helm,
    spec_hash,
    uninstall_command,
    upgrade_command,
)
from pyvela._backends.kube.helm_store import (
    LABEL_GENERATION,
    LABEL_SPEC_HASH,
    Storage,
    decode_release,
    latest_release,
    synthesise,
    workload_phase,
    workloads_in,
)
from pyvela._backends.kube.watch import Backoff, follow, lines
from pyvela._backends.protocol import Readiness
from pyvela._backends.readiness import deployment as deployment_rule
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, ObjectRef
from pyvela.errors import (
    AlreadyExistsError,
    ClusterError,
    ConflictError,
    NotFoundError,
    NotReadyError,
    StepTimeout,
    TransientError,
    UnknownKindError,
    WorkflowError,
)

TOKEN = "s3cr3t-token-0123456789"
SERVER = "https://127.0.0.1:6443"


def status(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
        **({"details": details} if details else {}),
    }


# ----------------------------------------------------------------------------- error mapping
def test_error_mapping() -> None:
    redact = Redactor([TOKEN])

    def err(code: int, body: Any) -> Exception:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return error_for(code, raw, what="ConfigMap ns/c", verb="apply", server=SERVER, redact=redact)

    assert isinstance(err(404, status(404, "NotFound", 'configmaps "c" not found')), NotFoundError)
    assert isinstance(
        err(409, status(409, "AlreadyExists", 'configmaps "c" already exists')), AlreadyExistsError
    )
    precondition = err(409, status(409, "Conflict", "the object has been modified"))
    assert isinstance(precondition, ConflictError) and "modified" in str(precondition)
    for code in (410, 429, 500, 502, 503, 504):
        assert isinstance(err(code, status(code, "x", "busy")), TransientError), code
    unauthorized = err(401, status(401, "Unauthorized", f"token {TOKEN} rejected"))
    assert type(unauthorized) is ClusterError and "unauthorized" in str(unauthorized)
    assert TOKEN not in str(unauthorized) and "***" in str(unauthorized)
    forbidden = err(403, status(403, "Forbidden", 'configmaps "c" is forbidden: User "x" cannot patch'))
    assert "forbidden" in str(forbidden) and "RBAC" in str(forbidden)
    invalid = err(
        422,
        status(
            422,
            "Invalid",
            'ConfigMap "c" is invalid',
            causes=[
                {"reason": "FieldValueInvalid", "message": "Invalid value: 'x'", "field": "metadata.name"}
            ],
        ),
    )
    assert type(invalid) is ClusterError and "metadata.name: Invalid value" in str(invalid)
    plain = err(400, b"<html>Bad Request</html>")
    assert type(plain) is ClusterError and "Bad Request" in str(plain)


def test_field_manager_conflict_is_explained() -> None:
    body = status(
        409,
        "Conflict",
        'Apply failed with 2 conflicts: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
        causes=[
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-edit" using apps/v1',
                "field": ".spec.replicas",
            },
            {"reason": "FieldManagerConflict", "message": 'conflict with "hpa"', "field": ".spec.x"},
        ],
    )
    error = error_for(
        409,
        json.dumps(body).encode(),
        what="Deployment ns/web",
        verb="apply",
        server=SERVER,
        redact=Redactor(),
    )
    assert isinstance(error, ConflictError)
    text = str(error)
    assert ".spec.replicas (owned by field manager 'kubectl-edit')" in text
    assert ".spec.x (owned by field manager 'hpa')" in text
    assert "--force-conflicts" in (error.fix or "")
    assert error.context["fields"] == ".spec.replicas, .spec.x"


def test_redactor() -> None:
    redact = Redactor([TOKEN, None, "short"])
    text = (
        f"token {TOKEN}; Authorization: Bearer abc.def-ghi; basic Zm9vOmJhcg==; "
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
    )
    out = redact(text)
    assert TOKEN not in out and "abc.def-ghi" not in out and "Zm9vOmJhcg" not in out and "MHcCAQEE" not in out
    assert "short" in redact("short")  # too short to be a credential worth hunting
    redact.add("another-secret-value")
    assert redact("x another-secret-value y") == "x *** y"
    assert "another" not in repr(redact)


def test_transport_errors() -> None:
    kw: dict[str, Any] = {"what": "ConfigMap ns/c", "verb": "GET", "server": SERVER, "redact": Redactor()}
    refused = transport_error(ConnectionRefusedError("[Errno 111] Connection refused"), **kw)
    assert isinstance(refused, TransientError) and SERVER in str(refused)
    untrusted = transport_error(urllib3.exceptions.SSLError("certificate verify failed"), **kw)
    assert type(untrusted) is ClusterError and "certificate" in str(untrusted)


# ----------------------------------------------------------------------------- a scripted API server
class Response:
    def __init__(self, code: int, body: Any = b"", chunks: list[bytes] | None = None) -> None:
        self.status = code
        self.data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._chunks = chunks or []
        self.stopped = threading.Event()

    def read(self) -> bytes:
        return self.data

    def stream(self, amt: Any, decode_content: bool = True) -> Iterator[bytes]:
        yield from self._chunks
        self.stopped.wait(5)  # a watch stays open until the server or the client ends it

    def shutdown(self) -> None:
        self.stopped.set()

    def close(self) -> None:
        self.stopped.set()

    def release_conn(self) -> None:
        pass


Route = Callable[[str, str, dict[str, str], Any], Any]
CORE = {
    "resources": [
        {"name": "configmaps", "kind": "ConfigMap", "namespaced": True},
        {"name": "namespaces", "kind": "Namespace", "namespaced": False},
        {"name": "namespaces/status", "kind": "Namespace", "namespaced": False},
    ]
}
APPS = {"resources": [{"name": "deployments", "kind": "Deployment", "namespaced": True}]}


class Pool:
    """Answers requests with ``route(method, path, query, body)`` (a Response, an exception, or JSON)."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.calls: list[tuple[str, str, dict[str, str], Any, dict[str, str]]] = []

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str], **_: Any
    ) -> Response:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        data = json.loads(body) if body else None
        self.calls.append((method, parts.path, query, data, headers))
        if method == "GET" and parts.path == "/api/v1":
            return Response(200, CORE)
        if method == "GET" and parts.path == "/apis/apps/v1":
            return Response(200, APPS)
        answer = self.route(method, parts.path, query, data)
        if isinstance(answer, BaseException):
            raise answer
        return answer if isinstance(answer, Response) else Response(200, answer)


def backend(route: Route, *, budget: float = 5.0) -> tuple[KubeBackend, Pool]:
    pool = Pool(route)

    def auth(headers: dict[str, str], *_: Any) -> None:
        headers["authorization"] = f"Bearer {TOKEN}"

    client = SimpleNamespace(
        configuration=SimpleNamespace(host=SERVER),
        rest_client=SimpleNamespace(pool_manager=pool),
        update_params_for_auth=auth,
        close=lambda: None,
    )
    kube = KubeBackend(
        client,
        server=SERVER,
        context="test",
        target=KubeTarget(),
        redact=Redactor([TOKEN]),
        retry_budget=budget,
    )
    return kube, pool


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kube.time, "sleep", lambda s: None)


def cm(name: str = "c", rv: str = "5", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": data or {"a": "1"},
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": rv, "uid": "u-" + name},
    }


def test_description_names_server_and_context_only() -> None:
    kube, _ = backend(lambda *a: cm())
    assert kube.description == f"cluster {SERVER} (context test)"
    assert TOKEN not in repr(vars(kube))


def test_apply_is_server_side_apply() -> None:
    kube, pool = backend(lambda m, p, q, b: {**b, "metadata": {**b["metadata"], "resourceVersion": "7"}})
    sent = {**cm(), "status": {"x": 1}}
    sent["metadata"].update(managedFields=[{"manager": "x"}], uid="forged", resourceVersion="")
    live = kube.apply(sent)
    method, path, query, body, headers = pool.calls[-1]
    assert (method, path) == ("PATCH", "/api/v1/namespaces/ns/configmaps/c")
    assert query == {"fieldManager": "pyvela"} and headers["Content-Type"] == "application/apply-patch+yaml"
    assert "status" not in body and set(body["metadata"]) == {"name", "namespace"}
    assert live["metadata"]["resourceVersion"] == "7"
    kube.apply(cm(), force=True, dry_run=True)
    assert pool.calls[-1][2] == {"fieldManager": "pyvela", "force": "true", "dryRun": "All"}
    assert dict(kube.requests) == {"GET": 1, "PATCH": 2}  # one discovery read, cached


def test_cluster_scoped_and_default_namespace_paths() -> None:
    kube, pool = backend(lambda m, p, q, b: b)
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "ignored"}})
    assert pool.calls[-1][1] == "/api/v1/namespaces/x" and "namespace" not in pool.calls[-1][3]["metadata"]
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a/b"}})
    assert pool.calls[-1][1] == "/api/v1/namespaces/default/configmaps/a%2Fb"
    assert Kind("apps", "v1", "Deployment", "deployments", True).path(None) == "/apis/apps/v1/deployments"


def test_transient_errors_are_retried_for_reads_and_applies() -> None:
    answers = [
        Response(503, status(503, "ServiceUnavailable", "etcd leader changed")),
        urllib3.exceptions.ProtocolError("Connection aborted."),
        cm(),
    ]
    kube, _ = backend(lambda *a: answers.pop(0))
    assert kube.get(ObjectRef("v1", "ConfigMap", "ns", "c")) == cm()
    assert kube.requests["GET"] == 4  # discovery + 3 tries


def test_retries_give_up_after_the_budget() -> None:
    kube, _ = backend(lambda *a: Response(429, status(429, "TooManyRequests", "slow down")), budget=0.0)
    with pytest.raises(TransientError, match="slow down") as caught:
        kube.get(ObjectRef("v1", "ConfigMap", "ns", "c"))
    assert caught.value.transient


def test_create_and_replace_are_not_retried_when_they_may_have_happened() -> None:
    answers: list[Any] = [urllib3.exceptions.ProtocolError("Connection reset by peer")]
    kube, pool = backend(lambda *a: answers.pop(0) if answers else cm())
    with pytest.raises(TransientError):
        kube.create(cm())
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    answers[:] = [refused, Response(500, status(500, "InternalError", "boom"))]
    with pytest.raises(TransientError, match="boom"):
        kube.replace(cm())  # the refused try was retried, the 500 was not
    assert [c[0] for c in pool.calls if c[1] != "/api/v1"] == ["POST", "PUT", "PUT"]


def test_create_replace_delete_semantics() -> None:
    def route(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if method == "POST":
            return Response(409, status(409, "AlreadyExists", 'configmaps "c" already exists'))
        if method == "PUT":
            return Response(409, status(409, "Conflict", "the object has been modified"))
        if method == "DELETE":
            return Response(404, status(404, "NotFound", 'configmaps "c" not found'))
        return Response(404, status(404, "NotFound", 'configmaps "c" not found'))

    kube, pool = backend(route)
    with pytest.raises(AlreadyExistsError):
        kube.create(cm())
    with pytest.raises(ConflictError):
        kube.replace(cm())
    assert kube.delete(ObjectRef("v1", "ConfigMap", "ns", "c")) is False
    assert pool.calls[-1][3] == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "propagationPolicy": "Foreground",
    }
    assert kube.get(ObjectRef("v1", "ConfigMap", "ns", "c")) is None


def test_missing_namespace_says_so() -> None:
    kube, _ = backend(lambda *a: Response(404, status(404, "NotFound", 'namespaces "nowhere" not found')))
    with pytest.raises(NotFoundError, match='namespaces "nowhere" not found') as caught:
        kube.apply(cm())
    assert caught.value.fix == "create the Namespace first"


def test_unknown_kinds() -> None:
    def route(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if path == "/apis/argoproj.io/v1alpha1":
            return {"resources": [{"name": "rollouts", "kind": "Rollout", "namespaced": True}]}
        if path == "/apis/example.com":
            return {"versions": [{"groupVersion": "example.com/v2"}]}
        return Response(404, b"404 page not found")

    kube, pool = backend(route)
    with pytest.raises(UnknownKindError) as caught:
        kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "Canary", "metadata": {"name": "x"}})
    assert caught.value.message.startswith(
        f'no kind "Canary" in argoproj.io/v1alpha1 on cluster {SERVER} (context test): '
        "is Argo Rollouts installed? "
        "(it serves Rollout)"
    )
    with pytest.raises(
        UnknownKindError, match=r"example\.com/v1 is not served; the group serves example\.com/v2"
    ):
        kube.get(ObjectRef("example.com/v1", "Widget", "ns", "w"))
    assert sum(c[1] == "/apis/argoproj.io/v1alpha1" for c in pool.calls) == 1  # a miss re-reads once


def test_a_kind_that_appears_is_found() -> None:
    served: list[dict[str, Any]] = []

    def route(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if path == "/apis/example.com/v1":
            return {"resources": served} if served else Response(404, b"404 page not found")
        if path == "/apis/example.com":
            return Response(404, b"404 page not found")
        return body

    kube, _ = backend(route)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"}}
    with pytest.raises(UnknownKindError):
        kube.apply(widget)
    served.append({"name": "widgets", "kind": "Widget", "namespaced": True})
    assert kube.apply(widget)["metadata"]["name"] == "w"


def test_secrets_never_reach_errors() -> None:
    kube, _ = backend(lambda *a: Response(403, status(403, "Forbidden", f"bad token {TOKEN}")))
    with pytest.raises(ClusterError) as caught:
        kube.get(ObjectRef("v1", "ConfigMap", "ns", "c"))
    assert TOKEN not in str(caught.value) and TOKEN not in json.dumps(caught.value.to_dict())


# ----------------------------------------------------------------------------- waits through watches
def event(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def dep(rv: str, ready: int, generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "resourceVersion": rv, "generation": generation},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": generation,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def watch_route(streams: list[Response], listed: list[dict[str, Any]], list_rv: str = "10") -> Route:
    def route(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        assert query.get("fieldSelector") == "metadata.name=web"
        if query.get("watch") == "1":
            return streams.pop(0)
        return {"items": listed, "metadata": {"resourceVersion": list_rv}}

    return route


def test_wait_follows_a_watch() -> None:
    raw = event("ADDED", dep("11", 0)) + event("MODIFIED", dep("12", 1)) + event("MODIFIED", dep("13", 2))
    streams = [Response(200, chunks=[raw[:50], raw[50:120], raw[120:]])]  # events split anywhere
    kube, pool = backend(watch_route(streams, []))
    messages: list[str] = []
    live = kube.wait(
        ObjectRef("apps/v1", "Deployment", "ns", "web"),
        deployment_rule,
        timeout=10,
        on_progress=lambda r: messages.append(r.message),
    )
    assert live["metadata"]["resourceVersion"] == "13"
    assert messages == [
        "not found yet",
        "0/2 replicas ready, 0/2 available",
        "1/2 replicas ready, 1/2 available",
        "2/2 replicas ready",
    ]
    watch = next(c for c in pool.calls if c[2].get("watch") == "1")
    assert watch[2]["resourceVersion"] == "10" and watch[2]["allowWatchBookmarks"] == "true"


def test_wait_starts_from_the_object_just_applied() -> None:
    streams = [Response(200, chunks=[event("MODIFIED", dep("21", 2))])]
    route = watch_route(streams, [])

    def with_apply(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        return dep("20", 0) if method == "PATCH" else route(method, path, query, body)

    kube, pool = backend(with_apply)
    kube.apply(dep("", 0))
    kube.requests.clear()
    kube.wait(ObjectRef("apps/v1", "Deployment", "ns", "web"), deployment_rule, timeout=10)
    assert dict(kube.requests) == {"WATCH": 1}  # no list: the applied object's version is the start
    assert pool.calls[-1][2]["resourceVersion"] == "20"


def test_wait_relists_after_410_and_rewatches_after_the_server_ends_a_watch() -> None:
    gone = status(410, "Expired", "too old resource version: 1 (30)")
    streams = [
        Response(200, chunks=[event("ERROR", gone)]),
        Response(200, chunks=[]),
        Response(410, gone),
        Response(
            200,
            chunks=[
                event("BOOKMARK", {"metadata": {"resourceVersion": "40"}}),
                event("MODIFIED", dep("41", 2)),
            ],
        ),
    ]
    for s in streams[:2]:
        s.stopped.set()  # the server ends these watches
    listed = [dep("30", 1)]
    kube, pool = backend(watch_route(streams, listed, "30"))
    live = kube.wait(ObjectRef("apps/v1", "Deployment", "ns", "web"), deployment_rule, timeout=10)
    assert live["metadata"]["resourceVersion"] == "41"
    lists = [c for c in pool.calls if c[1].endswith("/deployments") and "watch" not in c[2]]
    assert len(lists) == 3  # first list, after the ERROR 410, after the HTTP 410


def test_wait_timeout_cancel_and_failure() -> None:
    stuck = Response(200, chunks=[event("ADDED", dep("11", 0))])
    kube, _ = backend(watch_route([stuck], []))
    started = time.monotonic()
    with pytest.raises(
        StepTimeout, match=r"timed out after 0\.3s waiting for Deployment ns/web: 0/2 replicas"
    ) as t:
        kube.wait(ObjectRef("apps/v1", "Deployment", "ns", "web"), deployment_rule, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.5 and t.value.context["last_message"].startswith("0/2")
    assert stuck.stopped.is_set()  # the watch was closed

    cancel = threading.Event()
    kube, _ = backend(watch_route([Response(200)], []))
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(WorkflowError, match="cancelled while waiting"):
        kube.wait(ObjectRef("apps/v1", "Deployment", "ns", "web"), deployment_rule, timeout=30, cancel=cancel)

    kube, _ = backend(watch_route([], [dep("9", 0)]))
    with pytest.raises(NotReadyError, match="broken"):
        kube.wait(
            ObjectRef("apps/v1", "Deployment", "ns", "web"),
            lambda o: Readiness(False, "broken", failed=o is not None),
            timeout=30,
        )


def test_broken_watch_connections_are_reopened() -> None:
    class Broken(Response):
        def stream(self, amt: Any, decode_content: bool = True) -> Iterator[bytes]:
            raise urllib3.exceptions.ProtocolError("Connection broken")
            yield b""

    streams: list[Response] = [Broken(200), Response(200, chunks=[event("MODIFIED", dep("12", 2))])]
    kube, _ = backend(watch_route(streams, [dep("11", 0)]))
    assert kube.wait(ObjectRef("apps/v1", "Deployment", "ns", "web"), deployment_rule, timeout=10)


def test_lines_and_backoff() -> None:
    assert list(lines([b'{"a"', b":1}\n\n{", b'"b":2}\n{"c":3}'])) == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    backoff = Backoff(budget=0.5, first=0.1, cap=0.3)
    error = TransientError("down")
    assert [backoff.failed(error) for _ in range(4)] == [0.1, 0.2, 0.3, 0.3]
    backoff.ok()
    assert backoff.failed(error) == 0.1
    assert not error.retried
    with pytest.raises(TransientError) as spent:
        Backoff(budget=0.0).failed(error)
    assert spent.value.retried  # the runner must not retry it again: retries never nest


def test_follow_evaluates_known_state_without_listing() -> None:
    def never() -> Any:
        raise AssertionError("no list expected")

    result = follow(
        relist=never,
        open_watch=lambda v, s: never(),
        evaluate=lambda objs: objs.get("ns/x"),
        deadline=time.monotonic() + 1,
        cancel=None,
        on_timeout=lambda: StepTimeout("t"),
        on_cancel=lambda: WorkflowError("c"),
        status_error=lambda s: ClusterError("e"),
        start=({"ns/x": {"metadata": {"name": "x"}}}, "5"),
    )
    assert result == {"metadata": {"name": "x"}}
    assert _kube_watch.key_of({"metadata": {"name": "n"}}) == "/n"


# ----------------------------------------------------------------------------- helm
def test_helm_spec_and_chart_arguments(tmp_path: Path) -> None:
    def spec(**chart: Any) -> HelmSpec:
        return HelmSpec.of(
            {
                "metadata": {"name": "redis", "namespace": "ns"},
                "spec": {"releaseName": "redis", "chart": chart, "values": {"a": 1}},
            }
        )

    repo = spec(name="redis-cluster", version="6.2.7", repoURL="http://127.0.0.1:8080", repoType="helm")
    assert repo.chart_args() == ["redis-cluster", "--repo", "http://127.0.0.1:8080", "--version", "6.2.7"]
    oci = spec(name="redis", version="1.0.0", repoURL="oci://registry.example.com/charts", repoType="oci")
    assert oci.chart_args() == ["oci://registry.example.com/charts/redis", "--version", "1.0.0"]
    assert spec(name="oci://r.example.com/c/redis", version="2").chart_args() == [
        "oci://r.example.com/c/redis",
        "--version",
        "2",
    ]
    local = spec(name="redis-cluster", repoURL=str(tmp_path), repoType="local", version="9")
    assert local.chart_args() == [str(tmp_path / "redis-cluster")]
    assert repo.describe() == "chart redis-cluster 6.2.7 from http://127.0.0.1:8080"
    for bad in ({"repoType": "git", "name": "x"}, {"version": "1"}):
        with pytest.raises(ClusterError):
            spec(**bad)
    with pytest.raises(ClusterError, match=r"spec\.values must be a mapping"):
        HelmSpec.of({"metadata": {"name": "r"}, "spec": {"chart": {"name": "c"}, "values": [1]}})


def test_upgrade_and_uninstall_commands() -> None:
    spec = HelmSpec(release="redis", chart="redis-cluster", version="6.2.7", repo_url="http://repo")
    target = KubeTarget("/k/config", "ctx")
    cmd = upgrade_command(
        "helm",
        spec,
        "ns",
        values_file="{values}",
        description="pyvela generation 2",
        labels={"b": "2", "a": "1"},
        target=target,
    )
    assert cmd == [
        "helm",
        "upgrade",
        "--install",
        "redis",
        "redis-cluster",
        "--repo",
        "http://repo",
        "--version",
        "6.2.7",
        "--namespace",
        "ns",
        "--create-namespace",
        "--values",
        "{values}",
        "--labels",
        "a=1,b=2",
        "--description",
        "pyvela generation 2",
        "--kubeconfig",
        "/k/config",
        "--kube-context",
        "ctx",
    ]
    assert not any(arg.startswith("--wait") for arg in cmd)  # pyvela watches readiness itself
    assert uninstall_command("helm", "redis", "ns", KubeTarget()) == [
        "helm",
        "uninstall",
        "redis",
        "--namespace",
        "ns",
    ]
    assert spec_hash({"b": 1, "a": [1]}) == spec_hash({"a": [1], "b": 1}) != spec_hash({"a": [2], "b": 1})


def fake_helm(tmp_path: Path, script: str) -> str:
    path = tmp_path / "helm"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_find_helm(tmp_path: Path) -> None:
    helm = fake_helm(tmp_path, "exit 0\n")
    assert find_helm({"PYVELA_HELM": helm}) == helm
    assert find_helm({"PATH": str(tmp_path)}) == helm
    with pytest.raises(ClusterError, match="helm not found: install helm or set PYVELA_HELM"):
        find_helm({"PATH": str(tmp_path / "nowhere")})
    with pytest.raises(ClusterError, match="helm not found"):
        find_helm({"PYVELA_HELM": str(tmp_path / "missing")})


def test_run_helm_values_file_and_failures(tmp_path: Path) -> None:
    record = tmp_path / "seen"
    helm = fake_helm(tmp_path, f'stat -c %a "$2" > {record}; cat "$2" >> {record}; echo done\n')
    assert run_helm([helm, "-f", "{values}"], what="w", redact=Redactor(), values={"pw": "x"}) == "done\n"
    mode, body = record.read_text().split("\n", 1)
    assert mode == "600" and body.strip() == "pw: x"
    cases = {
        'echo "Error: looks like \\"http://127.0.0.1:9\\" is not a valid chart repository '
        'or cannot be reached" >&2': (
            ClusterError,
            "cannot fetch the chart",
        ),
        'echo "Error: Kubernetes cluster unreachable: dial tcp 127.0.0.1:6443: '
        'connect: connection refused" >&2': (
            TransientError,
            "connection refused",
        ),
        'echo "Error: unknown flag: --labels" >&2': (ClusterError, "helm 3.13 or newer"),
        f'echo "Error: token {TOKEN} rejected" >&2': (ClusterError, "token \\*\\*\\* rejected"),
    }
    for script, (kind, match) in cases.items():
        failing = fake_helm(tmp_path, script + "\nexit 1\n")
        with pytest.raises(kind, match=match) as caught:
            run_helm([failing, "upgrade", "x"], what="HelmRelease ns/x", redact=Redactor([TOKEN]))
        assert TOKEN not in str(caught.value) and type(caught.value) is kind


def stored(
    version: int,
    status: str = "deployed",
    *,
    kind: str = "Secret",
    generation: int | None = None,
    manifest: str = "",
    config: Any = None,
) -> dict[str, Any]:
    release = {
        "name": "redis",
        "namespace": "ns",
        "version": version,
        "manifest": manifest,
        "info": {
            "status": status,
            "first_deployed": "2026-01-01T00:00:00Z",
            "description": "Install complete",
        },
        "chart": {"metadata": {"name": "redis-cluster", "version": "6.2.7", "appVersion": "6.2.7"}},
    }
    if config is not None:
        release["config"] = config
    data = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    if kind == "Secret":
        data = base64.b64encode(data.encode()).decode()
    labels = {
        "name": "redis",
        "owner": "helm",
        "status": status,
        "version": str(version),
        "app.oam.dev/name": "lixiang-app",
    }
    if generation is not None:
        labels[LABEL_GENERATION], labels[LABEL_SPEC_HASH] = str(generation), "abc"
    return {
        "apiVersion": "v1",
        "kind": kind,
        "data": {"release": data},
        "metadata": {
            "name": f"sh.helm.release.v1.redis.v{version}",
            "namespace": "ns",
            "resourceVersion": str(100 + version),
            "uid": "u",
            "labels": labels,
        },
    }


def test_helm_storage_is_decoded() -> None:
    assert decode_release(stored(1, kind="ConfigMap"))["version"] == 1  # type: ignore[index]
    assert decode_release({"kind": "Secret", "data": {"release": "not base64!"}}) is None
    found = latest_release([stored(1), stored(3, "failed"), stored(2, "superseded")])
    assert found is not None and found[0]["version"] == 3
    assert latest_release([]) is None
    assert (
        Storage.from_env({}) == Storage()
        and Storage.from_env({"HELM_DRIVER": "configmap"}).kind == "ConfigMap"
    )
    with pytest.raises(ClusterError, match="HELM_DRIVER=sql"):
        Storage.from_env({"HELM_DRIVER": "sql"})


def test_helm_release_object_is_synthesised() -> None:
    release, storage = latest_release([stored(2, generation=2, config={"replicas": 3})])  # type: ignore[misc]
    obj = synthesise("redis", "ns", release, storage)
    assert (obj["apiVersion"], obj["kind"]) == (HELM_API_VERSION, HELM_KIND)
    assert obj["metadata"]["labels"] == {"app.oam.dev/name": "lixiang-app"}  # helm's own labels left out
    assert obj["metadata"]["generation"] == 2 and obj["metadata"]["resourceVersion"] == "102"
    assert obj["status"]["observedGeneration"] == 2 and obj["status"]["phase"] == "deployed"
    assert obj["spec"] == {
        "releaseName": "redis",
        "chart": {"name": "redis-cluster", "version": "6.2.7"},
        "values": {"replicas": 3},
    }
    sts = ObjectRef("apps/v1", "StatefulSet", "ns", "redis")
    waiting = synthesise("redis", "ns", release, storage, [(sts, Readiness(False, "1/3 replicas ready"))])
    assert waiting["status"]["phase"] == "progressing" and "1/3" in waiting["status"]["message"]
    broken = synthesise("redis", "ns", release, storage, [(sts, Readiness(False, "deadline", failed=True))])
    assert broken["status"]["phase"] == "failed"
    pending = synthesise("redis", "ns", *latest_release([stored(3, "pending-upgrade", generation=3)]))  # type: ignore[misc]
    assert pending["status"]["observedGeneration"] == 2
    foreign = synthesise("redis", "ns", *latest_release([stored(4)]))  # type: ignore[misc]
    assert foreign["metadata"]["generation"] == foreign["status"]["observedGeneration"] == 4
    assert workload_phase([]) == ("deployed", "")


def test_release_workloads_come_from_its_manifest() -> None:
    manifest = """---
apiVersion: v1
kind: Service
metadata: {name: redis}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
---
apiVersion: batch/v1
kind: Job
metadata: {name: init, namespace: other}
"""
    assert workloads_in(manifest, "ns") == [
        ObjectRef("apps/v1", "StatefulSet", "ns", "redis"),
        ObjectRef("batch/v1", "Job", "other", "init"),
    ]
    assert workloads_in("{{ not yaml", "ns") == []


def test_the_cli_imports_kubernetes_only_for_a_cluster() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pyvela._cli.main, pyvela._cli.commands, pyvela._workflow.lifecycle, "
        "pyvela._backends.sandbox; "
        "print('kubernetes' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ},
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert out.stdout.strip() == "False"


class FakeKube:
    """What HelmReleases needs of KubeBackend: helm's storage as a list, and the helm target."""

    def __init__(self, storage: list[dict[str, Any]]) -> None:
        self.storage = storage
        self.target = KubeTarget("/kubeconfig", "ctx")
        self.redact = Redactor([TOKEN])

    def list_versioned(self, *args: Any) -> tuple[list[dict[str, Any]], str]:
        return list(self.storage), "1"


def helm_release_obj(values: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        "metadata": {
            "name": "redis",
            "namespace": "ns",
            "labels": {"app.oam.dev/name": "lixiang-app"},
            **meta,
        },
        "spec": {
            "releaseName": "redis",
            "values": values or {},
            "chart": {"name": "redis-cluster", "version": "6.2.7", "repoURL": "http://repo"},
        },
    }


def test_helm_release_apply_decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvela._backends.kube.release import HelmReleases

    calls = tmp_path / "calls"
    monkeypatch.setenv("PYVELA_HELM", fake_helm(tmp_path, f'echo "$@" >> {calls}\n'))
    kube = FakeKube([])
    releases = HelmReleases(kube)  # type: ignore[arg-type]
    obj = helm_release_obj()

    def installed(generation: int, digest: str, status: str = "deployed", version: int = 1) -> None:
        entry = stored(version, status, generation=generation)
        entry["metadata"]["labels"][LABEL_SPEC_HASH] = digest
        kube.storage[:] = [entry]

    with pytest.raises(ClusterError, match="no release is stored"):
        releases.apply(obj)  # helm "succeeded" but stored nothing
    first = calls.read_text().split()
    assert first[:5] == ["upgrade", "--install", "redis", "redis-cluster", "--repo"]
    assert f"{LABEL_GENERATION}=1" in first[first.index("--labels") + 1]

    digest = spec_hash(obj["spec"])
    installed(1, digest)
    calls.write_text("")
    live = releases.apply(obj)
    assert calls.read_text() == "" and live["metadata"]["generation"] == 1  # unchanged: no helm at all

    changed = helm_release_obj({"replicas": 1})
    preview = releases.apply(changed, dry_run=True)
    assert (
        calls.read_text() == ""
        and preview["metadata"]["generation"] == 2
        and preview["spec"] == changed["spec"]
    )
    releases.apply(changed)
    args = calls.read_text().split()
    assert f"{LABEL_GENERATION}=2" in args[args.index("--labels") + 1]

    installed(1, digest, status="failed")
    calls.write_text("")
    releases.apply(obj)  # a failed release is retried, same generation
    assert f"{LABEL_GENERATION}=1" in calls.read_text()

    installed(2, digest, status="pending-upgrade", version=2)
    with pytest.raises(TransientError, match="another helm operation is in progress"):
        releases.apply(obj)
    with pytest.raises(ClusterError, match=r"must equal metadata\.name"):
        releases.apply({**obj, "spec": {**obj["spec"], "releaseName": "other"}})
