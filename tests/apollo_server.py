"""A loopback Apollo for tests: the portal's Open API and the config service in one server.

It keeps Apollo's documented contract (docs/en/portal/apollo-open-api-platform.md, the
open-api and config-service controllers, the access-key filter):

- Open API under ``/openapi/v1``: the consumer token in ``Authorization`` (401 with the
  servlet error body when missing or unknown), per-token app grants (403), operators
  checked against the portal's users (400 ``user not exists for userName:...``), 404
  ``namespace not found`` for a missing app / cluster / namespace (as the admin service
  answers), items (edits) kept apart from releases, releases
  with release keys, ``releases/latest`` (200 with an empty body before the first one);
- the config service under ``/configs/{appId}/{cluster}/{namespace}``: 404 before the
  first release, 304 when ``releaseKey`` is current, falling back to the ``default``
  cluster as Apollo does, and access-key signature checks with a clock-skew window
  (401 outside it);
- error bodies as Apollo sends them: ``{"exception", "message", "status", "timestamp"}``
  from controllers, ``{"timestamp", "status", "error", "path"}`` from filters.

For tests: :meth:`ApolloServer.fail_next` injects failures, :attr:`ApolloServer.requests`
logs every request with its headers, and :meth:`ApolloServer.items` /
:meth:`ApolloServer.releases` show the state.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pyvela._configcentre.apollo import ApolloSettings, RetryPolicy

__all__ = [
    "DEFAULT_TOKEN",
    "FAST_RETRY",
    "ApolloServer",
    "Fault",
    "LoggedRequest",
    "RecordedSleeps",
    "ReleaseRecord",
    "apollo_server_fixture",
    "apollo_settings",
    "running_apollo_server",
    "start_apollo_server",
]

DEFAULT_TOKEN = "e16e5cd903fd0c97a116c873b448544b9d086de9"

_BAD_REQUEST = "com.ctrip.framework.apollo.common.exception.BadRequestException"
_NOT_FOUND = "com.ctrip.framework.apollo.common.exception.NotFoundException"
_ACCESS_DENIED = "org.springframework.security.access.AccessDeniedException"
_REASONS = {
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

_NS = (
    r"/openapi/v1/envs/(?P<env>[^/]+)/apps/(?P<app>[^/]+)"
    r"/clusters/(?P<cluster>[^/]+)/namespaces/(?P<ns>[^/]+)"
)
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(_NS + r"$"), "get_namespace"),
    ("GET", re.compile(_NS + r"/releases/latest$"), "latest_release"),
    ("POST", re.compile(_NS + r"/releases$"), "publish"),
    ("POST", re.compile(_NS + r"/items$"), "create_item"),
    ("GET", re.compile(_NS + r"/(?P<kind>items|encodedItems)/(?P<key>[^/]+)$"), "get_item"),
    ("PUT", re.compile(_NS + r"/(?P<kind>items|encodedItems)/(?P<key>[^/]+)$"), "update_item"),
    ("DELETE", re.compile(_NS + r"/(?P<kind>items|encodedItems)/(?P<key>[^/]+)$"), "delete_item"),
]
_CONFIGS = re.compile(r"^/configs/(?P<app>[^/]+)/(?P<cluster>[^/]+)/(?P<ns>[^/]+)$")


@dataclass
class Item:
    """An item as edited in the portal."""

    key: str
    value: str
    comment: str
    created_by: str
    modified_by: str
    created_time: str
    modified_time: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "comment": self.comment,
            "dataChangeCreatedBy": self.created_by,
            "dataChangeLastModifiedBy": self.modified_by,
            "dataChangeCreatedTime": self.created_time,
            "dataChangeLastModifiedTime": self.modified_time,
        }


@dataclass
class ReleaseRecord:
    """A published release: a snapshot of the items at publish time."""

    id: int
    release_key: str
    app_id: str
    cluster: str
    namespace: str
    name: str
    comment: str
    released_by: str
    configurations: dict[str, str]
    created_time: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "appId": self.app_id,
            "clusterName": self.cluster,
            "namespaceName": self.namespace,
            "name": self.name,
            "configurations": dict(self.configurations),
            "comment": self.comment,
            "dataChangeCreatedBy": self.released_by,
            "dataChangeLastModifiedBy": self.released_by,
            "dataChangeCreatedTime": self.created_time,
            "dataChangeLastModifiedTime": self.created_time,
        }


@dataclass
class _Namespace:
    app_id: str
    cluster: str
    name: str
    format: str = "properties"
    items: dict[str, Item] = field(default_factory=dict)
    releases: list[ReleaseRecord] = field(default_factory=list)


@dataclass
class LoggedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: str
    status: int = 0
    reject_reason: str = ""


@dataclass
class Fault:
    """Answer the next ``remaining`` matching requests with ``status``.

    With ``after``, the request is processed first (state changes) and only the answer is
    replaced, as when a server fails after committing.
    """

    status: int
    remaining: int
    path_contains: str = ""
    method: str | None = None
    after: bool = False
    retry_after: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method)
            and self.path_contains in path
        )


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class _ApolloError(Exception):
    def __init__(self, status: int, message: str, exception: str = _BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.exception = exception


def _now_apollo() -> str:
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0800"


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


class ApolloServer:
    """A loopback Apollo portal + config service.

    Args:
        tokens: Open API consumer tokens, each mapped to the appIds it is granted (None:
            every app). Defaults to ``{DEFAULT_TOKEN: None}``.
        users: Portal users accepted as operators.
        config_env: The env the config service serves.
        skew_tolerance: Seconds of clock difference accepted on signed requests.
    """

    def __init__(
        self,
        *,
        tokens: Mapping[str, Iterable[str] | None] | None = None,
        users: Iterable[str] = ("apollo",),
        config_env: str = "DEV",
        skew_tolerance: float = 60.0,
    ) -> None:
        raw_tokens = {DEFAULT_TOKEN: None} if tokens is None else tokens
        self.tokens: dict[str, frozenset[str] | None] = {
            token: None if apps is None else frozenset(apps) for token, apps in raw_tokens.items()
        }
        self.users = set(users)
        self.config_env = config_env
        self.skew_tolerance = skew_tolerance
        #: Seconds added to this server's clock (to test clock skew).
        self.clock_offset = 0.0
        self.requests: list[LoggedRequest] = []
        self._lock = threading.RLock()
        self._namespaces: dict[tuple[str, str, str, str], _Namespace] = {}
        self._access_keys: dict[str, list[str]] = {}
        self._faults: list[Fault] = []
        self._holds: list[tuple[str, str | None, threading.Event, threading.Event]] = []
        self._next_release_id = 1
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- setup and inspection ---------------------------------------------------------

    def add_app(
        self,
        app_id: str,
        *,
        envs: Iterable[str] = ("DEV",),
        clusters: Iterable[str] = ("default",),
        namespaces: Iterable[str] = ("application",),
    ) -> None:
        """Create an app with namespaces in every env and cluster (Apollo creates ``application``)."""
        cluster_names, namespace_names = tuple(clusters), tuple(namespaces)
        with self._lock:
            for env in envs:
                for cluster in cluster_names:
                    for namespace in namespace_names:
                        key = (env.upper(), app_id, cluster, namespace)
                        self._namespaces.setdefault(key, _Namespace(app_id, cluster, namespace))

    def set_access_key(self, app_id: str, secret: str | None) -> None:
        """Enable an access key (signed config-service reads) for ``app_id``; None disables."""
        with self._lock:
            if secret is None:
                self._access_keys.pop(app_id, None)
            else:
                self._access_keys[app_id] = [secret]

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        path_contains: str = "",
        method: str | None = None,
        after: bool = False,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests whose path contains ``path_contains`` with ``status``."""
        with self._lock:
            self._faults.append(Fault(status, count, path_contains, method, after, retry_after))

    def hold(self, path_contains: str, method: str | None = None) -> tuple[threading.Event, threading.Event]:
        """Stall the next matching request until released, then drop it (answer 503 unprocessed).

        Returns ``(reached, release)``: ``reached`` is set when a request is stalled; set
        ``release`` to let it go. This is a client killed while its request was in flight.
        """
        reached, release = threading.Event(), threading.Event()
        with self._lock:
            self._holds.append((path_contains, method, reached, release))
        return reached, release

    def items(
        self, app_id: str, *, env: str = "DEV", cluster: str = "default", namespace: str = "application"
    ) -> dict[str, str]:
        """The namespace's current (edited) items."""
        with self._lock:
            ns = self._namespaces[(env.upper(), app_id, cluster, namespace)]
            return {key: item.value for key, item in ns.items.items()}

    def releases(
        self, app_id: str, *, env: str = "DEV", cluster: str = "default", namespace: str = "application"
    ) -> list[ReleaseRecord]:
        """Every release of the namespace, oldest first."""
        with self._lock:
            return list(self._namespaces[(env.upper(), app_id, cluster, namespace)].releases)

    def put_item(
        self,
        app_id: str,
        key: str,
        value: str,
        *,
        env: str = "DEV",
        cluster: str = "default",
        namespace: str = "application",
    ) -> None:
        """Edit an item directly (as someone in the portal would), without publishing."""
        with self._lock:
            ns = self._namespaces[(env.upper(), app_id, cluster, namespace)]
            now = _now_apollo()
            ns.items[key] = Item(key, value, "", "apollo", "apollo", now, now)

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL; the portal and the config service share it."""
        if self._httpd is None:
            raise RuntimeError("the Apollo test server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    portal_url = url
    config_url = url

    def start(self) -> ApolloServer:
        """Listen on a free port of 127.0.0.1, serving from a background thread."""
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.apollo = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="apollo-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ApolloServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- request handling ---------------------------------------------------------------

    def handle(self, method: str, raw_target: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        """Answer one request (called from the handler threads)."""
        logged = LoggedRequest(method, raw_target, dict(headers), body.decode("utf-8", "replace"))
        with self._lock:
            held = next((h for h in self._holds if h[0] in raw_target and h[1] in (None, method)), None)
            if held is not None:
                self._holds.remove(held)
        if held is not None:
            held[2].set()
            held[3].wait(60)
            with self._lock:
                self.requests.append(logged)
                logged.status = 503
                return self._servlet_error(503, urlsplit(raw_target).path)
        with self._lock:
            self.requests.append(logged)
            fault = next((f for f in self._faults if f.matches(method, raw_target)), None)
            if fault is not None:
                fault.remaining -= 1
            path = urlsplit(raw_target).path
            if fault is not None and not fault.after:
                reply = self._fault_reply(fault, path)
            else:
                reply = self._dispatch(method, raw_target, headers, body, logged)
                if fault is not None:
                    reply = self._fault_reply(fault, path)
            logged.status = reply.status
            return reply

    def _fault_reply(self, fault: Fault, path: str) -> _Reply:
        reply = self._servlet_error(fault.status, path)
        if fault.retry_after is not None:
            reply.headers.append(("Retry-After", fault.retry_after))
        return reply

    def _dispatch(
        self, method: str, raw_target: str, headers: Mapping[str, str], body: bytes, logged: LoggedRequest
    ) -> _Reply:
        split = urlsplit(raw_target)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if split.path.startswith("/configs/"):
            return self._config_service(method, split.path, split.query, query, headers, logged)
        if not split.path.startswith("/openapi/"):
            return self._servlet_error(404, split.path)
        token = headers.get("Authorization") or headers.get("authorization") or ""
        if token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        if token not in self.tokens:
            logged.reject_reason = "token"
            return self._servlet_error(401, split.path)
        for route_method, pattern, handler_name in _ROUTES:
            match = pattern.match(split.path)
            if match is None:
                continue
            if route_method != method:
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                granted = self.tokens[token]
                if granted is not None and params["app"] not in granted:
                    raise _ApolloError(403, "Access Denied", _ACCESS_DENIED)
                handler: Callable[[dict[str, str], dict[str, str], bytes], _Reply] = getattr(
                    self, "_" + handler_name
                )
                return handler(params, query, body)
            except _ApolloError as err:
                return self._exception_reply(err)
        if any(pattern.match(split.path) for _, pattern, _ in _ROUTES):
            return self._servlet_error(405, split.path)
        return self._servlet_error(404, split.path)

    # -- replies ------------------------------------------------------------------------

    @staticmethod
    def _exception_reply(err: _ApolloError) -> _Reply:
        # Apollo's GlobalDefaultExceptionHandler body.
        body = {
            "exception": err.exception,
            "message": err.message,
            "status": err.status,
            "timestamp": dt.datetime.now().isoformat(timespec="milliseconds"),
        }
        return _Reply(err.status, _json(body), [("Content-Type", "application/json")])

    @staticmethod
    def _servlet_error(status: int, path: str) -> _Reply:
        # The servlet container's error body for filters' sendError (message is not included).
        body = {
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "status": status,
            "error": _REASONS.get(status, "Error"),
            "path": path,
        }
        return _Reply(status, _json(body), [("Content-Type", "application/json")])

    @staticmethod
    def _ok(data: Any = None) -> _Reply:
        if data is None:
            return _Reply(200)
        return _Reply(200, _json(data), [("Content-Type", "application/json")])

    # -- Open API -------------------------------------------------------------------------

    def _namespace(self, params: Mapping[str, str]) -> _Namespace:
        # The admin service looks the namespace up directly: a missing app or cluster
        # reads as a missing namespace too.
        env, app, cluster, name = params["env"].upper(), params["app"], params["cluster"], params["ns"]
        ns = self._namespaces.get((env, app, cluster, name))
        if ns is None:
            raise _ApolloError(
                404,
                f"namespace not found for appId:{app} clusterName:{cluster} namespaceName:{name}",
                _NOT_FOUND,
            )
        return ns

    def _operator(self, query: Mapping[str, str], payload_operator: str | None) -> str:
        operator = query.get("operator") or payload_operator or ""
        if not operator.strip():
            raise _ApolloError(400, "operator should not be null or empty")
        if operator not in self.users:
            raise _ApolloError(400, f"user not exists for userName:{operator}")
        return operator

    @staticmethod
    def _payload(body: bytes, what: str) -> dict[str, Any]:
        try:
            data = json.loads(body) if body else None
        except ValueError:
            raise _ApolloError(400, "JSON parse error: request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _ApolloError(400, f"{what} payload can not be empty")
        return data

    @staticmethod
    def _key(params: Mapping[str, str]) -> str:
        if params.get("kind") != "encodedItems":
            return params["key"]
        raw = params["key"].encode()
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                return decode(raw + b"=" * (-len(raw) % 4)).decode()
            except (binascii.Error, ValueError):
                continue
        raise _ApolloError(400, f"Invalid base64 encoded key:{params['key']}")

    def _get_namespace(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        ns = self._namespace(params)
        return self._ok(
            {
                "appId": ns.app_id,
                "clusterName": ns.cluster,
                "namespaceName": ns.name,
                "comment": "",
                "format": ns.format,
                "isPublic": False,
                "items": [item.to_json() for item in ns.items.values()],
                "dataChangeCreatedBy": "apollo",
                "dataChangeLastModifiedBy": "apollo",
            }
        )

    def _get_item(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        ns = self._namespace(params)
        key = self._key(params)
        item = ns.items.get(key)
        if item is None:
            raise _ApolloError(404, self._item_not_found(ns, key), _NOT_FOUND)
        return self._ok(item.to_json())

    @staticmethod
    def _item_not_found(ns: _Namespace, key: str) -> str:
        return (
            f"item not found for appId:{ns.app_id} clusterName:{ns.cluster} "
            f"namespaceName:{ns.name} itemKey:{key}"
        )

    @staticmethod
    def _check_item(data: Mapping[str, Any]) -> tuple[str, str, str]:
        key, value, comment = data.get("key"), data.get("value"), data.get("comment") or ""
        if not isinstance(key, str) or not key.strip():
            raise _ApolloError(400, "key should not be null or empty")
        if value is None:
            raise _ApolloError(400, "value should not be null")
        if len(str(comment)) > 256:
            raise _ApolloError(400, "Comment length should not exceed 256 characters")
        if len(key) > 128:
            raise _ApolloError(400, "key too long. length limit:128")
        if len(str(value)) > 20000:
            raise _ApolloError(400, "value too long. length limit:20000")
        return key, str(value), str(comment)

    def _create_item(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        data = self._payload(body, "item")
        key, value, comment = self._check_item(data)
        operator = self._operator(query, data.get("dataChangeCreatedBy"))
        ns = self._namespace(params)
        if key in ns.items:
            raise _ApolloError(400, f"item already exists for itemKey:{key}")
        now = _now_apollo()
        ns.items[key] = Item(key, value, comment, operator, operator, now, now)
        return self._ok(ns.items[key].to_json())

    def _update_item(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        data = self._payload(body, "item")
        create = query.get("createIfNotExists", "false").lower() == "true"
        key, value, comment = self._check_item(data)
        if key != self._key(params):
            raise _ApolloError(400, "Key in path and payload is not consistent")
        payload_operator = data.get("dataChangeLastModifiedBy")
        if create and not payload_operator:
            payload_operator = data.get("dataChangeCreatedBy")
        operator = self._operator(query, payload_operator)
        ns = self._namespace(params)
        now = _now_apollo()
        existing = ns.items.get(key)
        if existing is None:
            if not create:
                raise _ApolloError(404, self._item_not_found(ns, key), _NOT_FOUND)
            creator = data.get("dataChangeCreatedBy") or operator
            if creator not in self.users:
                raise _ApolloError(400, f"user not exists for userName:{creator}")
            ns.items[key] = Item(key, value, comment, creator, operator, now, now)
        else:
            existing.value, existing.comment = value, comment
            existing.modified_by, existing.modified_time = operator, now
        return self._ok()

    def _delete_item(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        self._operator(query, None)
        ns = self._namespace(params)
        key = self._key(params)
        if key not in ns.items:
            raise _ApolloError(404, self._item_not_found(ns, key), _NOT_FOUND)
        del ns.items[key]
        return self._ok()

    def _publish(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        data = self._payload(body, "release")
        title = data.get("releaseTitle")
        if not isinstance(title, str) or not title.strip():
            raise _ApolloError(400, "Params(releaseTitle) can not be empty")
        operator = self._operator(query, data.get("releasedBy"))
        ns = self._namespace(params)
        # Apollo's release keys: yyyyMMddHHmmss-<hash>.
        release_key = time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(8)
        record = ReleaseRecord(
            id=self._next_release_id,
            release_key=release_key,
            app_id=ns.app_id,
            cluster=ns.cluster,
            namespace=ns.name,
            name=title,
            comment=str(data.get("releaseComment") or ""),
            released_by=operator,
            configurations={key: item.value for key, item in ns.items.items()},
            created_time=_now_apollo(),
        )
        self._next_release_id += 1
        ns.releases.append(record)
        return self._ok(record.to_json())

    def _latest_release(self, params: dict[str, str], query: dict[str, str], body: bytes) -> _Reply:
        key = (params["env"].upper(), params["app"], params["cluster"], params["ns"])
        ns = self._namespaces.get(key)
        # Apollo answers 200 with no body when nothing was released, even for a namespace
        # that does not exist (the admin service just finds no release).
        return self._ok(ns.releases[-1].to_json() if ns is not None and ns.releases else None)

    # -- config service -----------------------------------------------------------------

    def _config_service(
        self,
        method: str,
        path: str,
        raw_query: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        logged: LoggedRequest,
    ) -> _Reply:
        match = _CONFIGS.match(path)
        if match is None:
            return self._servlet_error(404, path)
        if method != "GET":
            return self._servlet_error(405, path)
        app, cluster, namespace = (unquote(match[name]) for name in ("app", "cluster", "ns"))
        secrets_of_app = self._access_keys.get(app)
        if secrets_of_app:
            reason = self._check_signature(app, path, raw_query, headers, secrets_of_app)
            if reason:
                logged.reject_reason = reason
                return self._servlet_error(401, path)
        if namespace.endswith(".properties"):
            namespace = namespace[: -len(".properties")]
        release = self._released(app, cluster, namespace)
        if release is None:
            return self._servlet_error(404, path)
        if query.get("releaseKey") == release.release_key:
            return _Reply(304)
        return self._ok(
            {
                "appId": app,
                "cluster": release.cluster,
                "namespaceName": namespace,
                "configurations": dict(release.configurations),
                "releaseKey": release.release_key,
            }
        )

    def _released(self, app: str, cluster: str, namespace: str) -> ReleaseRecord | None:
        # Apollo looks in the requested cluster, then falls back to "default".
        for candidate in dict.fromkeys((cluster, "default")):
            ns = self._namespaces.get((self.config_env, app, candidate, namespace))
            if ns is not None and ns.releases:
                return ns.releases[-1]
        return None

    def _check_signature(
        self, app: str, path: str, raw_query: str, headers: Mapping[str, str], secrets_of_app: list[str]
    ) -> str:
        """Apollo's access-key check: the rejection reason, or "" when the request is signed."""
        lowered = {k.lower(): v for k, v in headers.items()}
        timestamp = lowered.get("timestamp", "")
        try:
            millis = int(timestamp)
        except ValueError:
            millis = 0
        now_millis = (time.time() + self.clock_offset) * 1000
        if abs(now_millis - millis) >= self.skew_tolerance * 1000:
            return "RequestTimeTooSkewed"
        authorization = lowered.get("authorization", "")
        parts = authorization.split(":")
        signature = parts[1] if len(parts) > 1 else None
        path_with_query = path + (f"?{raw_query}" if raw_query else "")
        for secret in secrets_of_app:
            digest = hmac.new(
                secret.encode(), f"{timestamp}\n{path_with_query}".encode(), hashlib.sha1
            ).digest()
            if signature is not None and hmac.compare_digest(signature, base64.b64encode(digest).decode()):
                return ""
        return "Unauthorized"


class _HTTPServer(ThreadingHTTPServer):
    # Handler threads are joined on close, so no request outlives the server.
    daemon_threads = False
    apollo: ApolloServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "ApolloTestServer/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.apollo.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(reply.status, _REASONS.get(reply.status))
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body and reply.status != 304:
            self.wfile.write(reply.body)

    do_GET = do_PUT = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: tests read ApolloServer.requests instead of stderr.
        return


def start_apollo_server(
    *,
    app_ids: Iterable[str] = ("base-server",),
    tokens: Mapping[str, Iterable[str] | None] | None = None,
    users: Iterable[str] = ("apollo",),
    config_env: str = "DEV",
) -> ApolloServer:
    """A started server with ``app_ids`` created (``application`` namespace, ``default`` cluster).

    Stop it with :meth:`ApolloServer.stop` (or use it as a context manager).
    """
    server = ApolloServer(tokens=tokens, users=users, config_env=config_env)
    for app_id in app_ids:
        server.add_app(app_id)
    return server.start()


@contextmanager
def running_apollo_server(**kwargs: Any) -> Iterator[ApolloServer]:
    """:func:`start_apollo_server` as a context manager."""
    server = start_apollo_server(**kwargs)
    try:
        yield server
    finally:
        server.stop()


def apollo_server_fixture() -> Iterator[ApolloServer]:
    """Body of the ``apollo_server`` pytest fixture: a started server, stopped afterwards.

    Wire it with ``apollo_server = pytest.fixture(apollo_server_fixture, name="apollo_server")``.
    """
    with running_apollo_server() as server:
        yield server


# -- client side: settings that point pyvela at a running server --------------------------------

#: Retries that keep tests fast: 4 attempts, 1 ms base delay.
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01, total_timeout=5.0)


def apollo_settings(server: ApolloServer, *, app_id: str = "base-server", **overrides: Any) -> ApolloSettings:
    """:class:`ApolloSettings` for ``server``: its URLs, :data:`DEFAULT_TOKEN`, fast retries.

    ``overrides`` replace any other field (``operator=``, ``secret_provider=``, ``retry=``...).
    """
    values: dict[str, Any] = {
        "portal_url": server.portal_url,
        "config_url": server.config_url,
        "app_id": app_id,
        "token_provider": lambda: DEFAULT_TOKEN,
        "retry": FAST_RETRY,
        "propagation_timeout": 0.5,
    }
    values.update(overrides)
    return ApolloSettings(**values)


class RecordedSleeps:
    """A ``sleep`` replacement recording the delays asked for, without sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
