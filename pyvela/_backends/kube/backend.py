"""The Kubernetes backend: a real cluster behind the :class:`~pyvela._backends.protocol.Backend` protocol.

The only module of pyvela that imports ``kubernetes`` (lazily, in :meth:`KubeBackend.connect`):
the official client loads the kubeconfig (contexts, certificates, exec plugins, in-cluster
service accounts) and owns the connection pool; requests are plain JSON over that pool,
with a small per-group-version discovery cache, so any kind the cluster serves works,
custom resources included.

- ``apply`` is server-side apply (field manager ``pyvela``); ``wait`` and ``delete``
  follow objects through watches (``_kube_watch``), never by polling.
- Reads and idempotent writes are retried with exponential backoff on 429, 5xx and
  connection failures; after the budget a TransientError goes to the runner.
- ``pyvela.dev/v1alpha1 HelmRelease`` objects go to the helm CLI (``_kube_release``).
- No credential ever reaches a message: errors are built from the API server's Status
  with the token and key material redacted (``_kube_errors``), and the client's debug
  logging stays off.
"""

from __future__ import annotations

import builtins
import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from pyvela._backends.kube.discovery import Discovery, Kind
from pyvela._backends.kube.errors import TRANSIENT_STATUS, Redactor, error_for, parse_status, transport_error
from pyvela._backends.kube.helm import KubeTarget
from pyvela._backends.kube.watch import Backoff, Gone, follow, key_of
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._core.objects import (
    HELM_API_VERSION,
    HELM_KIND,
    MANAGER,
    Obj,
    ObjectRef,
    deep_copy,
    is_helm_release,
)
from pyvela.errors import (
    ClusterError,
    NotFoundError,
    NotReadyError,
    PyvelaError,
    StepTimeout,
    TransientError,
    WorkflowError,
)

if TYPE_CHECKING:
    from pyvela._backends.kube.release import HelmReleases

__all__ = ["KubeBackend"]

T = TypeVar("T")
USER_AGENT = "pyvela/0.1"
APPLY_PATCH = "application/apply-patch+yaml"
_SERVER_FIELDS = (
    "managedFields",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
_CACHE_SIZE = 2048


class _Watch:
    """An open watch response (see :class:`pyvela._backends.kube.watch.Stream`)."""

    def __init__(self, response: Any) -> None:
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
            response.release_conn()
        except Exception:  # best effort: the connection is dropped either way
            pass


class KubeBackend:
    """A Kubernetes cluster (implements :class:`~pyvela._backends.protocol.Backend`); use :meth:`connect`.

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
        self._lock = threading.Lock()
        self.discovery = Discovery(self.call, self.error, self.description)
        self._seen: OrderedDict[ObjectRef, Obj] = OrderedDict()
        self._helm: HelmReleases | None = None

    @classmethod
    def connect(
        cls, *, context: str | None = None, kubeconfig: str | None = None, in_cluster: bool = False
    ) -> KubeBackend:
        """Load the kubeconfig (``kubeconfig`` or $KUBECONFIG or ~/.kube/config, ``context`` or its
        current context) or the pod's service account, and connect (lazily: no request yet)."""
        from kubernetes import client, config

        cfg = client.Configuration()
        try:
            if in_cluster:
                config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
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
        redact = Redactor([token, token.removeprefix("Bearer ").strip(), cfg.password or None])
        api = client.ApiClient(cfg)
        api.user_agent = USER_AGENT
        return cls(
            api, server=str(cfg.host), context=name, target=KubeTarget(kubeconfig, context), redact=redact
        )

    def __enter__(self) -> KubeBackend:
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
        with self._lock:
            self.requests["WATCH" if ("watch", "1") in query else method] += 1
        return self._pool.request(
            method,
            url,
            body=body,
            headers=headers,
            timeout=timeout,
            retries=False,
            redirect=False,
            preload_content=("watch", "1") not in query,
        )

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

    def error(self, code: int, data: bytes, *, what: str, verb: str) -> PyvelaError:
        return error_for(code, data, what=what, verb=verb, server=self.server, redact=self.redact)

    def _open_watch(self, path: str, query: list[tuple[str, str]], what: str) -> _Watch:
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
        return _Watch(response)

    # ------------------------------------------------------------------ cache of objects seen
    def _remember(self, obj: Obj) -> Obj:
        """Keep ``obj`` as the last version seen (a wait can start watching from it); a copy."""
        ref = ObjectRef.of(obj)
        with self._lock:
            self._seen[ref] = obj
            self._seen.move_to_end(ref)
            while len(self._seen) > _CACHE_SIZE:
                self._seen.popitem(last=False)
        copy: Obj = deep_copy(obj)
        return copy

    def _recalled(self, ref: ObjectRef) -> Obj | None:
        with self._lock:
            return self._seen.get(ref)

    def _forget(self, ref: ObjectRef) -> None:
        with self._lock:
            self._seen.pop(ref, None)

    # ------------------------------------------------------------------ Backend
    @property
    def helm(self) -> HelmReleases:
        if self._helm is None:
            from pyvela._backends.kube.release import HelmReleases

            self._helm = HelmReleases(self)
        return self._helm

    def get(self, ref: ObjectRef) -> Obj | None:
        if ref.api_version == HELM_API_VERSION and ref.kind == HELM_KIND:
            return self.helm.get(ref)
        kind = self.discovery.kind(ref.api_version, ref.kind)
        what = str(ref)
        code, data = self.call("GET", kind.path(kind.namespace(ref.namespace), ref.name), what=what)
        if code == 404:
            if parse_status(data) is None:
                self.discovery.stale(ref.api_version, ref.kind)
            self._forget(ref)
            return None
        if code >= 300:
            raise self.error(code, data, what=what, verb="GET")
        return self._remember(data)

    def list_versioned(
        self,
        api_version: str,
        kind_name: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        fields: str | None = None,
    ) -> tuple[list[Obj], str]:
        """Objects of a kind and the resourceVersion the list is current at (pages followed)."""
        kind = self.discovery.kind(api_version, kind_name)
        query = [("limit", "500")]
        if labels:
            query.append(("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))))
        if fields:
            query.append(("fieldSelector", fields))
        items: list[Obj] = []
        what = f"{kind_name} list"
        path = kind.path(namespace if kind.namespaced else None)
        while True:
            code, data = self.call("GET", path, query=query, what=what)
            if code >= 300:
                raise self.error(code, data, what=what, verb="LIST")
            for item in data.get("items") or []:
                item["apiVersion"], item["kind"] = kind.api_version, kind.kind
                items.append(item)
            meta = data.get("metadata") or {}
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion") or "")
            query = [q for q in query if q[0] != "continue"] + [("continue", meta["continue"])]

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        if api_version == HELM_API_VERSION and kind == HELM_KIND:
            return self.helm.list(namespace, labels)
        items, _ = self.list_versioned(api_version, kind, namespace, labels)
        return sorted(items, key=key_of)

    def _body(self, obj: Mapping[str, Any]) -> tuple[Kind, Obj, str]:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("metadata"), Mapping):
            raise ClusterError("an object must be a mapping with metadata", got=type(obj).__name__)
        kind = self.discovery.kind(obj.get("apiVersion"), obj.get("kind"))  # type: ignore[arg-type]
        body: Obj = deep_copy(dict(obj))
        body.pop("status", None)
        meta = body["metadata"]
        for field in _SERVER_FIELDS:
            meta.pop(field, None)
        if not meta.get("resourceVersion"):
            meta.pop("resourceVersion", None)
        namespace = kind.namespace(meta.get("namespace"))
        if namespace:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return kind, body, f"{kind.kind} {namespace + '/' if namespace else ''}{meta.get('name') or ''}"

    def _written(self, code: int, data: Any, kind: Kind, what: str, verb: str) -> Obj:
        if 200 <= code < 300:
            return self._remember(data)
        if code == 404 and parse_status(data) is None:
            self.discovery.stale(kind.api_version, kind.kind)
        error = self.error(code, data, what=what, verb=verb)
        if isinstance(error, NotFoundError) and "namespaces" in str(error.message):
            error.fix = "create the Namespace first"
        raise error

    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        if is_helm_release(obj):
            return self.helm.apply(obj, force=force, dry_run=dry_run)
        kind, body, what = self._body(obj)
        meta = body["metadata"]
        if not meta.get("name"):
            raise ClusterError(f"{kind.kind}: metadata.name: Required value", object=kind.kind)
        query = (
            [("fieldManager", MANAGER)]
            + ([("force", "true")] if force else [])
            + ([("dryRun", "All")] if dry_run else [])
        )
        code, data = self.call(
            "PATCH",
            kind.path(meta.get("namespace"), meta["name"]),
            query=query,
            body=body,
            content_type=APPLY_PATCH,
            what=what,
        )
        if dry_run and 200 <= code < 300:
            preview: Obj = data
            return preview
        return self._written(code, data, kind, what, "apply")

    def create(self, obj: Mapping[str, Any]) -> Obj:
        kind, body, what = self._body(obj)
        code, data = self.call(
            "POST", kind.path(body["metadata"].get("namespace")), body=body, what=what, retry=False
        )
        return self._written(code, data, kind, what, "create")

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        kind, body, what = self._body(obj)
        meta = body["metadata"]
        code, data = self.call(
            "PUT", kind.path(meta.get("namespace"), meta.get("name")), body=body, what=what, retry=False
        )
        return self._written(code, data, kind, what, "replace")

    def delete(self, ref: ObjectRef, *, wait: bool = True, timeout: float = 60.0) -> bool:
        if ref.api_version == HELM_API_VERSION and ref.kind == HELM_KIND:
            return self.helm.delete(ref, wait=wait, timeout=timeout)
        deadline = time.monotonic() + timeout
        kind = self.discovery.kind(ref.api_version, ref.kind)
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Foreground" if wait else "Background",
        }
        code, data = self.call(
            "DELETE", kind.path(kind.namespace(ref.namespace), ref.name), body=options, what=str(ref)
        )
        self._forget(ref)
        if code == 404 and parse_status(data) is not None:
            return False
        if code >= 300:
            if code == 404:
                self.discovery.stale(ref.api_version, ref.kind)
            raise self.error(code, data, what=str(ref), verb="DELETE")
        if wait and data.get("kind") != "Status":
            self.wait_gone(ref, uid=(data.get("metadata") or {}).get("uid"), deadline=deadline)
        return True

    def wait_gone(
        self, ref: ObjectRef, *, uid: str | None, deadline: float, cancel: threading.Event | None = None
    ) -> None:
        """Until ``ref`` (that very object, when ``uid`` is given) no longer exists."""

        def gone(obj: Obj | None) -> Readiness:
            if obj is None or (uid and (obj.get("metadata") or {}).get("uid") != uid):
                return Readiness(True, "deleted")
            finalizers = ", ".join((obj.get("metadata") or {}).get("finalizers") or []) or "none"
            return Readiness(False, f"still deleting (finalizers: {finalizers})")

        self.follow_one(ref, gone, deadline=deadline, cancel=cancel, cached=False)

    def wait(
        self,
        ref: ObjectRef,
        rule: ReadinessRule,
        *,
        timeout: float,
        on_progress: Callable[[Readiness], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Obj:
        deadline = time.monotonic() + timeout
        if ref.api_version == HELM_API_VERSION and ref.kind == HELM_KIND:
            return self.helm.wait(
                ref,
                rule,
                deadline=deadline,
                on_progress=on_progress,
                cancel=cancel,
            )
        live = self.follow_one(ref, rule, deadline=deadline, on_progress=on_progress, cancel=cancel)
        out: Obj = deep_copy(live)
        return out

    # ------------------------------------------------------------------ watches
    def follow_one(
        self,
        ref: ObjectRef,
        rule: ReadinessRule,
        *,
        deadline: float,
        on_progress: Callable[[Readiness], None] | None = None,
        cancel: threading.Event | None = None,
        cached: bool = True,
    ) -> Obj:
        """Watch one object until ``rule`` says ready (returns it; ``{}`` for an absent object)."""
        kind = self.discovery.kind(ref.api_version, ref.kind)
        namespace = kind.namespace(ref.namespace)
        key = f"{namespace or ''}/{ref.name}"
        seen = self._recalled(ref) if cached else None
        version = str((seen or {}).get("metadata", {}).get("resourceVersion") or "")
        start = ({key: seen}, version) if seen and version else None
        last: builtins.list[str | None] = [None]

        def evaluate(objects: Mapping[str, Obj]) -> Obj | None:
            obj = objects.get(key)
            verdict = rule(obj)
            if verdict.message != last[0]:
                last[0] = verdict.message
                if on_progress is not None:
                    on_progress(verdict)
            if verdict.failed:
                raise NotReadyError(
                    f"{ref} will not become ready: {verdict.message}", object=str(ref), got=verdict.message
                )
            if verdict.ready:
                return self._remember(obj) if obj is not None else {}
            return None

        return self.follow(
            kind,
            namespace,
            evaluate,
            deadline=deadline,
            cancel=cancel,
            what=ref,
            fields=f"metadata.name={ref.name}",
            start=start,
            last=last,
        )

    def follow(
        self,
        kind: Kind,
        namespace: str | None,
        evaluate: Callable[[Mapping[str, Obj]], T | None],
        *,
        deadline: float,
        cancel: threading.Event | None,
        what: ObjectRef | str,
        fields: str | None = None,
        labels: Mapping[str, str] | None = None,
        start: tuple[dict[str, Obj], str] | None = None,
        last: builtins.list[str | None] | None = None,
    ) -> T:
        """Watch the objects of ``kind`` picked by ``fields``/``labels`` until ``evaluate`` returns."""
        total = round(max(0.0, deadline - time.monotonic()), 2)
        query: list[tuple[str, str]] = [("allowWatchBookmarks", "true")]
        if fields:
            query.append(("fieldSelector", fields))
        if labels:
            query.append(("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))))
        path = kind.path(namespace)

        def relist() -> tuple[dict[str, Obj], str]:
            items, version = self.list_versioned(kind.api_version, kind.kind, namespace, labels, fields)
            return {key_of(i): i for i in items}, version

        def open_watch(version: str, seconds: int) -> _Watch:
            return self._open_watch(
                path, [*query, ("resourceVersion", version), ("timeoutSeconds", str(seconds))], str(what)
            )

        def timed_out() -> PyvelaError:
            message = (last or [None])[0] or "no answer from the cluster"
            return StepTimeout(
                f"timed out after {total:g}s waiting for {what}: {message}",
                object=str(what),
                timeout=total,
                last_message=message,
            )

        return follow(
            relist=relist,
            open_watch=open_watch,
            evaluate=evaluate,
            deadline=deadline,
            cancel=cancel,
            on_timeout=timed_out,
            on_cancel=lambda: WorkflowError(f"cancelled while waiting for {what}", object=str(what)),
            status_error=lambda s: self.error(
                int(s.get("code") or 500), json.dumps(s).encode(), what=str(what), verb="WATCH"
            ),
            start=start,
            backoff=Backoff(budget=self.retry_budget),
        )
