"""HTTP to a Kubernetes API server: the one place pyvela imports ``kubernetes`` (lazily).

The official client loads the kubeconfig (contexts, certificates, exec plugins, in-cluster
service accounts) and owns the connection pool; requests are plain JSON over that pool.
Reads and idempotent writes are retried with exponential backoff on 429, 5xx and
connection failures; after the budget a TransientError goes to the runner. No credential
ever reaches a message: errors are built from the API server's Status with the token and
key material redacted (``errors``), and the client's debug logging stays off.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Self
from urllib.parse import urlencode

from pyvela._backends.kube.discovery import Discovery
from pyvela._backends.kube.errors import TRANSIENT_STATUS, Redactor, error_for, transport_error
from pyvela._backends.kube.helm import KubeTarget
from pyvela._backends.kube.watch import Backoff, Gone
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError, PyvelaError, TransientError

__all__ = ["USER_AGENT", "KubeTransport", "Watch", "resource_of"]

USER_AGENT = "pyvela/0.1"


def resource_of(path: str) -> str:
    """The resource an API path names, as ``PLURAL[.GROUP][/SUBRESOURCE]`` (``deployments.apps``,
    ``secrets``, ``applications.pyvela.dev/status``); ``discovery`` for the group and version
    lists, the path's first part otherwise (``version``)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"]:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[3:]
    else:
        return parts[0] if parts else "discovery"
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # a namespaced resource (or a namespace's own subresource: finalize)
    if not rest:
        return "discovery"
    name = rest[0] + (f".{group}" if group else "")
    return name + (f"/{rest[2]}" if len(rest) >= 3 else "")


class Watch:
    """An open watch response (see :class:`pyvela._backends.kube.watch.Stream`)."""

    def __init__(self, response: Any) -> None:
        # The reader thread and stop() (another thread) both clean this response up. Were its
        # connection returned to the pool, one of them could close it after another request
        # had taken it from the pool, under that request's feet (urllib3 then fails with
        # "file descriptor cannot be a negative integer"). A watch's connection is dropped
        # instead: one connection per watch, never shared.
        if getattr(response, "_pool", None) is not None:
            response._pool = None
        self._response = response

    def chunks(self) -> Iterable[bytes]:
        chunks: Iterable[bytes] = self._response.stream(None, decode_content=True)
        return chunks

    def stop(self) -> None:
        response = self._response
        try:
            if hasattr(response, "shutdown"):  # urllib3 >= 2.3: unblocks the reading thread
                response.shutdown()
            response.close()
        except Exception:  # best effort: the connection is dropped either way
            pass


class KubeTransport:
    """HTTP to one API server: credentials, the connection pool, retries, redaction; use :meth:`connect`.

    Attributes:
        description: ``cluster <server> (context <name>)``; never credentials.
        requests: API requests made so far by verb (``GET``, ``PATCH``..., ``WATCH``).
        retry_budget: Seconds a request keeps being retried on transient failures.
    """

    def __init__(
        self,
        api_client: Any,
        *,
        server: str,
        context: str | None,
        target: KubeTarget,
        redact: Redactor,
        retry_budget: float = 20.0,
    ) -> None:
        self._client = api_client
        self._pool = api_client.rest_client.pool_manager
        self._host = str(api_client.configuration.host).rstrip("/")
        self.server = server
        self.context = context
        self.target = target
        self.redact = redact
        self.retry_budget = retry_budget
        self.description = f"cluster {server}" + (f" (context {context})" if context else " (in-cluster)")
        self.requests: Counter[str] = Counter()
        #: Called after every request with (verb, resource, HTTP status; None: no response),
        #: e.g. the controller's ``pyvela_api_requests_total``; must be quick and never raise.
        self.observers: list[Callable[[str, str, int | None], None]] = []
        self._lock = threading.Lock()
        self.discovery = Discovery(self.call, self.error, self.description)
        # The subclass's cache of objects last seen (KubeReads): one constructor for the stack.
        self._seen: OrderedDict[ObjectRef, Obj] = OrderedDict()

    @classmethod
    def connect(
        cls, *, context: str | None = None, kubeconfig: str | None = None, in_cluster: bool = False
    ) -> Self:
        """Load the kubeconfig (``kubeconfig`` or $KUBECONFIG or ~/.kube/config, ``context`` or its
        current context) or the pod's service account, and connect (lazily: no request yet)."""
        from kubernetes import client, config

        cfg = client.Configuration()
        try:
            if in_cluster:
                from pyvela._backends.kube.incluster import service_account

                account = service_account()  # its token is re-read as the kubelet rotates it
                loader = config.incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
                    token_filename=str(account.token_file), cert_filename=str(account.ca_file)
                )
                loader.load_and_set(client_configuration=cfg)  # type: ignore[no-untyped-call]
                name = None
            else:
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False
                )
                name = context or str(config.list_kube_config_contexts(kubeconfig)[1]["name"])  # type: ignore[no-untyped-call]
        except (config.ConfigException, OSError, KeyError, TypeError, ValueError) as exc:
            where = (
                "the in-cluster service account" if in_cluster else f"kubeconfig {kubeconfig or '(default)'}"
            )
            raise ClusterError(
                f"cannot load {where}: {Redactor()(str(exc))}",
                context=context,
                fix="check --kubeconfig and --context (kubectl config get-contexts)",
            ) from None
        cfg.debug = False  # the client would log request headers (the token) at DEBUG
        cfg.connection_pool_maxsize = max(int(cfg.connection_pool_maxsize or 0), 32)
        token = str(cfg.api_key.get("authorization") or cfg.api_key.get("BearerToken") or "")
        # The in-cluster loader spells the scheme "bearer": the bare token is what must not show.
        bare = token.split(" ", 1)[1].strip() if token.lower().startswith("bearer ") else token
        redact = Redactor([token, bare, cfg.password or None])
        api = client.ApiClient(cfg)
        api.user_agent = USER_AGENT
        return cls(
            api, server=str(cfg.host), context=name, target=KubeTarget(kubeconfig, context), redact=redact
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ HTTP
    def _send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        body: bytes | None,
        content_type: str | None,
        timeout: Any,
    ) -> Any:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        self._client.update_params_for_auth(headers, [], ["BearerToken"], path, method, None)
        credential = headers.get("authorization", "")
        if credential:  # an exec plugin may have refreshed the token: never let it show
            self.redact.add(credential.partition(" ")[2] or credential)
        url = self._host + path + ("?" + urlencode(query) if query else "")
        verb = "WATCH" if ("watch", "1") in query else method
        code: int | None = None
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=headers,
                timeout=timeout,
                retries=False,
                redirect=False,
                preload_content=("watch", "1") not in query,
            )
            code = int(response.status)
            return response
        finally:
            self._counted(verb, path, code)

    def _counted(self, verb: str, path: str, code: int | None) -> None:
        """Every request, whoever sent it (here, or a pod's logs and websockets in ``podio``),
        in ``requests`` and to the observers."""
        with self._lock:
            self.requests[verb] += 1
        if self.observers:
            resource = resource_of(path)
            for observe in self.observers:
                observe(verb, resource, code)

    def call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        what: str,
        retry: bool = True,
    ) -> tuple[int, Any]:
        """One API request, retried on transient failures: (status, decoded JSON or raw bytes).

        ``retry=False`` (create, replace: not idempotent) retries only what surely did not
        reach the server: refused connections and 429.
        """
        import urllib3

        raw = json.dumps(body).encode() if body is not None else None
        timeout = urllib3.Timeout(connect=10.0, read=60.0)
        backoff = Backoff(budget=self.retry_budget)
        while True:
            try:
                response = self._send(method, path, query or [], raw, content_type if raw else None, timeout)
            except urllib3.exceptions.HTTPError as exc:
                error = transport_error(exc, what=what, verb=method, server=self.server, redact=self.redact)
                sent = not isinstance(exc, urllib3.exceptions.NewConnectionError)
                if not isinstance(error, TransientError) or (sent and not retry):
                    raise error from None
                time.sleep(backoff.failed(error))
                continue
            code, data = response.status, response.data
            if code in TRANSIENT_STATUS and code != 410 and (retry or code == 429):
                time.sleep(backoff.failed(self.error(code, data, what=what, verb=method)))
                continue
            if 200 <= code < 300:
                return code, json.loads(data) if data else {}
            return code, data

    def version(self, timeout: float) -> str:
        """The API server's ``gitVersion``: one ``GET /version`` within ``timeout``, never retried
        (``pyvela clusters`` asks every cluster at once and must not wait out a retry budget)."""
        import urllib3

        try:
            response = self._send("GET", "/version", [], None, None, urllib3.Timeout(total=timeout))
        except urllib3.exceptions.HTTPError as exc:
            raise transport_error(
                exc, what="the API server's version", verb="GET", server=self.server, redact=self.redact
            ) from None
        if response.status != 200:
            raise self.error(response.status, response.data, what="the API server's version", verb="GET")
        data = json.loads(response.data or b"{}")
        return str(data.get("gitVersion") or "") if isinstance(data, dict) else ""

    def error(self, code: int, data: bytes, *, what: str, verb: str) -> PyvelaError:
        return error_for(code, data, what=what, verb=verb, server=self.server, redact=self.redact)

    def _open_watch(self, path: str, query: list[tuple[str, str]], what: str) -> Watch:
        import urllib3

        timeout = urllib3.Timeout(connect=10.0, read=float(dict(query)["timeoutSeconds"]) + 30.0)
        try:
            response = self._send("GET", path, [*query, ("watch", "1")], None, None, timeout)
        except urllib3.exceptions.HTTPError as exc:
            error = transport_error(exc, what=what, verb="WATCH", server=self.server, redact=self.redact)
            raise error from None
        if response.status != 200:
            data = response.read()
            response.release_conn()
            if response.status == 410:
                raise Gone()
            raise self.error(response.status, data, what=what, verb="WATCH")
        return Watch(response)
