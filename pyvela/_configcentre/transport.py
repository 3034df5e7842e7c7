"""HTTP to Apollo: credentials on each request, retries under one deadline per operation.

Failures become :mod:`pyvela.errors` exceptions; 429, 5xx and connection errors are retried
with exponential backoff first. This is the one place that retries them: every request of
one operation (see :meth:`ApolloTransport.operation`) shares one deadline, each attempt's
timeout is cut to what is left of it, and the error finally raised is marked ``retried`` so
that the runner does not retry it again.

Credentials are resolved per request and never stored, logged or put in an exception;
exceptions are raised outside ``except`` blocks so they do not chain to an httpx error
whose request still carries the headers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

import httpx

from pyvela._configcentre.errors import (
    Service,
    error_for,
    key_label,
    redact,
    retry_after_seconds,
    server_message_suffix,
)
from pyvela._configcentre.paths import app_id_from
from pyvela._configcentre.protocol import ConfigTarget
from pyvela._configcentre.settings import ApolloSettings, _Secret, apollo_signature
from pyvela.errors import ConfigAuthError, ConfigTransientError
from pyvela.errors import redact as redact_credentials

__all__ = ["ApolloTransport"]

log = logging.getLogger("pyvela.apollo")


class _RedactingFilter(logging.Filter):
    """Every record of this logger leaves without URL credentials or header values."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_credentials(record.getMessage())
        record.args = None
        return True


log.addFilter(_RedactingFilter())

#: Failures after which the server may already have applied the request.
_AMBIGUOUS_TRANSPORT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError)
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ApolloTransport:
    """Requests to Apollo's two services, with error mapping and retries.

    Args:
        settings: Where Apollo is and where the credentials come from.
        transport: An httpx transport (tests use a mock or the loopback server).
        sleep: Called for backoff delays.
        clock: Seconds since the epoch; signs config-service requests.
    """

    def __init__(
        self,
        settings: ApolloSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(timeout=settings.timeout, transport=transport, follow_redirects=False)
        # Steps run in threads and share one client: each thread has its own operation.
        self._local = threading.local()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(portal={self.settings.portal_url!r}, config={self.settings.config_url!r})"
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One deadline (``retry.total_timeout``) for every request made inside, retries included.

        Nested operations keep the outer deadline. Outside any operation each request is
        an operation of its own.
        """
        if getattr(self._local, "deadline", None) is not None:
            yield
            return
        self._local.deadline = time.monotonic() + self.settings.retry.total_timeout
        self._local.attempted = False
        try:
            yield
        finally:
            self._local.deadline = None

    # -- requests ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        target: ConfigTarget,
        key: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        service: Service = "portal",
    ) -> httpx.Response:
        response = self._send(
            method, path, what=what, target=target, key=key, params=params, body=body, service=service
        )
        if response is None:  # only a check can make _send give up without a response
            raise AssertionError("no response without an ambiguity check")
        return response

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        target: ConfigTarget,
        key: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        service: Service = "portal",
        ambiguous_check: Callable[[], bool] | None = None,
    ) -> httpx.Response | None:
        """Send with retries; the response, or None when ``ambiguous_check`` found it applied.

        Returns 2xx and 304 responses; raises the mapped error for every other status.
        """
        with self.operation():
            return self._send_within(
                method, path, what, target, key, params, body, service, ambiguous_check, self._local
            )

    def _send_within(
        self,
        method: str,
        path: str,
        what: str,
        target: ConfigTarget,
        key: str | None,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        service: Service,
        ambiguous_check: Callable[[], bool] | None,
        operation: threading.local,
    ) -> httpx.Response | None:
        policy = self.settings.retry
        deadline: float = operation.deadline
        started = time.monotonic()
        failure = ""
        attempt = 0
        ambiguous = False
        while attempt < policy.attempts:
            remaining = deadline - time.monotonic()
            # The first request of an operation always gets one try (total_timeout may be 0).
            if remaining <= 0 and operation.attempted:
                break
            operation.attempted = True
            attempt += 1
            secrets: list[_Secret] = []
            request = self._build(method, path, service, params, body, secrets)
            if remaining > 0:
                request.extensions["timeout"] = httpx.Timeout(min(self.settings.timeout, remaining)).as_dict()
            retry_after: float | None = None
            transport_error: str | None = None
            ambiguous = False
            response: httpx.Response | None = None
            try:
                response = self._receive(request, deadline)
            except httpx.TransportError as exc:
                transport_error = redact(f"{type(exc).__name__}: {exc}", secrets)
                ambiguous = isinstance(exc, _AMBIGUOUS_TRANSPORT)
            if response is not None:
                status = response.status_code
                log.debug("apollo %s %s -> %d (attempt %d)", method, path, status, attempt)
                if status not in _RETRYABLE_STATUS:
                    if 200 <= status < 300 or status == 304:
                        return response
                    raise error_for(response, self.settings, what, target, key, service, secrets)
                failure = f"HTTP {status}{server_message_suffix(response, secrets)}"
                retry_after = retry_after_seconds(response)
                # A rate limiter rejects before the request is processed.
                ambiguous = status != 429
            else:
                failure = transport_error or "transport error"
                log.debug("apollo %s %s failed: %s (attempt %d)", method, path, failure, attempt)

            left = deadline - time.monotonic()
            if attempt == policy.attempts or left <= 0:
                break
            if ambiguous and ambiguous_check is not None and ambiguous_check():
                log.info("apollo %s for %s was applied despite %s", what, target, failure)
                return None
            delay = min(policy.delay(attempt, retry_after), max(0.0, deadline - time.monotonic()))
            log.warning(
                "apollo %s for %s failed (%s); retry %d/%d in %.2fs",
                what,
                target,
                failure,
                attempt,
                policy.attempts - 1,
                delay,
            )
            self._sleep(delay)
        elapsed = time.monotonic() - started
        if attempt and ambiguous and ambiguous_check is not None and ambiguous_check():
            return None
        budget = f"{policy.total_timeout:g}s"
        err = ConfigTransientError(
            f"Apollo {what} for {target}{key_label(key)} kept failing: {attempt} attempt(s) in {elapsed:.1f}s"
            if attempt
            else f"Apollo {what} for {target}{key_label(key)} not started: the operation's "
            f"deadline ({budget}) passed during its earlier requests",
            expected=f"a 2xx answer within the operation's deadline ({budget}, retry.total_timeout)",
            got=failure or "no time left",
            fix=f"check that Apollo at {self._base(service)} is up and not rate limiting, then retry",
            target=str(target),
            key=key,
        )
        err.retried = True  # the retries happened here, under the deadline: the runner adds none
        raise err

    def _receive(self, request: httpx.Request, deadline: float) -> httpx.Response:
        """The response with its whole body, read by the deadline (a server may trickle it)."""
        response = self._http.send(request, stream=True)
        if response.is_stream_consumed:  # an in-memory transport's answer (tests): already whole
            response.read()
            return response
        try:
            chunks: list[bytes] = []
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the body did not arrive by the deadline", request=request)
        finally:
            response.close()
        # Raw bytes: the new response decodes any Content-Encoding once, as send() would.
        return httpx.Response(
            response.status_code, headers=response.headers, content=b"".join(chunks), request=request
        )

    def _base(self, service: Service) -> str:
        return self.settings.portal_url if service == "portal" else (self.settings.config_url or "")

    def _build(
        self,
        method: str,
        path: str,
        service: Service,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        secrets: list[_Secret],
    ) -> httpx.Request:
        headers = httpx.Headers({"Accept": "application/json"})
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json;charset=UTF-8"
        request = self._http.build_request(
            method, self._base(service) + path, params=params, content=content, headers=headers
        )
        if service == "portal":
            token = self.settings._token()
            if token is None:
                raise ConfigAuthError(
                    "no Apollo Open API token is configured",
                    expected=f"a token in {self.settings._token_source()}",
                    got="nothing",
                    fix=f"set {self.settings._token_source()} to the token of an Apollo third-party "
                    f"app (created at {self.settings.portal_url}/open/manage.html)",
                )
            secrets.append(token)
            # Personal access tokens use the Bearer scheme; consumer tokens go as they are.
            scheme = "Bearer " if token.reveal().startswith("apollo_pat_") else ""
            request.headers["Authorization"] = scheme + token.reveal()
        else:
            secret = self.settings._secret()
            if secret is not None:
                secrets.append(secret)
                # Sign what goes on the wire: the server checks its raw URI and query string.
                timestamp = str(int(self._clock() * 1000))
                path_with_query = request.url.raw_path.decode("ascii")
                signature = apollo_signature(timestamp, path_with_query, secret.reveal())
                request.headers["Authorization"] = f"Apollo {app_id_from(path)}:{signature}"
                request.headers["Timestamp"] = timestamp
        return request
