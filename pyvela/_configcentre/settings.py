"""Settings, credential sources and request signing for the Apollo client.

Secret *values* (the Open API token, the access-key secret) are never stored here: the
settings only say where to find them (an environment variable name, or a provider
callable), and :class:`_Secret` wraps a value for the few lines that put it on the wire,
so that a repr, a log line or a traceback's locals never show it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping

import attrs

__all__ = [
    "ApolloSettings",
    "RetryPolicy",
    "SecretProvider",
    "apollo_signature",
]

#: Returns the secret value, or None when it is not configured.
SecretProvider = Callable[[], "str | None"]

#: Apollo rejects a signed request whose timestamp is this far from its clock.
SIGNATURE_SKEW_SECONDS = 60.0


def apollo_signature(timestamp_millis: str, path_with_query: str, secret: str) -> str:
    """The access-key signature Apollo's config service expects.

    ``base64(HMAC-SHA1(secret, timestamp + "\\n" + pathWithQuery))``, sent as
    ``Authorization: Apollo {appId}:{signature}`` with a ``Timestamp`` header.

    Args:
        timestamp_millis: Milliseconds since the epoch, as sent in the ``Timestamp`` header.
        path_with_query: The raw request path plus ``?query`` when there is one, exactly as
            it goes on the wire (the server signs its raw request URI and query string).
        secret: The access-key secret.

    Returns:
        The signature, base64 encoded.
    """
    string_to_sign = f"{timestamp_millis}\n{path_with_query}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class _Secret:
    """A secret value that does not show itself in repr/str (tracebacks print locals)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the secret replaced (server messages may echo it)."""
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self) -> str:
        # A secret must not travel through pickling (e.g. into a subprocess's state).
        raise TypeError("secrets cannot be pickled")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How transient failures (429, 5xx, connection errors) are retried.

    Attributes:
        attempts: Total tries per request, the first one included.
        base_delay: Seconds before the first retry; doubled after each further failure.
        max_delay: Cap on one delay (also caps a server's ``Retry-After``).
        total_timeout: No retry starts once this many seconds have passed since the first try.
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    base_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    total_timeout: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        backoff = self.base_delay * 2.0 ** (retry_number - 1)
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_delay)


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


def _optional_strip_slash(url: str | None) -> str | None:
    return None if url is None else url.rstrip("/")


@attrs.frozen(kw_only=True)
class ApolloSettings:
    """Where Apollo is and how to authenticate; holds no secret value.

    Attributes:
        portal_url: Base URL of the portal (Open API at ``{portal_url}/openapi/v1``).
        config_url: Base URL of the config service of ``env`` (readers' side); None when
            only the portal is reachable (then :meth:`read` cannot work).
        env: Apollo environment (DEV, FAT, UAT, PRO...) the config service serves.
        app_id: Default Apollo appId for targets built from these settings.
        namespace: Default namespace.
        cluster: Default cluster.
        operator: Portal user recorded as creator / modifier / publisher; Apollo rejects
            users it does not know.
        token_env: Environment variable holding the Open API token.
        secret_env: Environment variable holding the access-key secret (optional).
        token_provider: Called for the token (at each request) instead of reading
            ``token_env``; a ``description`` attribute, if any, names it in error messages.
        secret_provider: Called for the access-key secret instead of reading ``secret_env``.
        client_ip: Sent as ``ip`` to the config service (Apollo records it per instance).
        timeout: Seconds for one HTTP request.
        retry: Retry policy for transient failures.
        propagation_timeout: Seconds to wait, after publishing, for the config service to
            serve the new release (to report the release key readers see).
    """

    portal_url: str = attrs.field(converter=_strip_slash)
    config_url: str | None = attrs.field(default=None, converter=_optional_strip_slash)
    env: str = "DEV"
    app_id: str = ""
    namespace: str = "application"
    cluster: str = "default"
    operator: str = "apollo"
    token_env: str = "PYVELA_APOLLO_TOKEN"
    secret_env: str = "PYVELA_APOLLO_SECRET"
    token_provider: SecretProvider | None = attrs.field(default=None, eq=False)
    secret_provider: SecretProvider | None = attrs.field(default=None, eq=False)
    client_ip: str | None = None
    timeout: float = 10.0
    retry: RetryPolicy = RetryPolicy()
    propagation_timeout: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApolloSettings | None:
        """Settings from ``PYVELA_APOLLO_*`` variables; None when no portal URL is set.

        Reads ``PYVELA_APOLLO_PORTAL_URL``, ``PYVELA_APOLLO_CONFIG_URL``,
        ``PYVELA_APOLLO_ENV``, ``PYVELA_APOLLO_APP_ID``, ``PYVELA_APOLLO_NAMESPACE`` and
        ``PYVELA_APOLLO_OPERATOR``. When ``environ`` is given (not the process
        environment), the token and secret are also looked up in it, at request time.
        """
        source: Mapping[str, str] = os.environ if environ is None else environ
        portal = source.get("PYVELA_APOLLO_PORTAL_URL", "").strip()
        if not portal:
            return None

        def text(name: str, default: str) -> str:
            return source.get(name, "").strip() or default

        token_provider: SecretProvider | None = None
        secret_provider: SecretProvider | None = None
        if environ is not None:
            token_env, secret_env = "PYVELA_APOLLO_TOKEN", "PYVELA_APOLLO_SECRET"
            token_provider = _mapping_lookup(environ, token_env)
            secret_provider = _mapping_lookup(environ, secret_env)
        return cls(
            portal_url=portal,
            config_url=source.get("PYVELA_APOLLO_CONFIG_URL", "").strip() or None,
            env=text("PYVELA_APOLLO_ENV", "DEV"),
            app_id=text("PYVELA_APOLLO_APP_ID", ""),
            namespace=text("PYVELA_APOLLO_NAMESPACE", "application"),
            operator=text("PYVELA_APOLLO_OPERATOR", "apollo"),
            token_provider=token_provider,
            secret_provider=secret_provider,
        )

    def _token(self) -> _Secret | None:
        return _resolve(self.token_provider, self.token_env)

    def _secret(self) -> _Secret | None:
        return _resolve(self.secret_provider, self.secret_env)

    def _token_source(self) -> str:
        return _source(self.token_provider, self.token_env, "token")

    def _secret_source(self) -> str:
        return _source(self.secret_provider, self.secret_env, "secret")


class _MappingLookup:
    """A provider reading one variable of a given environment mapping, at call time."""

    def __init__(self, environ: Mapping[str, str], name: str) -> None:
        self._environ = environ
        self.description = f"${name}"

    def __call__(self) -> str | None:
        return self._environ.get(self.description[1:])

    def __repr__(self) -> str:
        # Never the mapping itself: it holds the values.
        return f"<environment variable {self.description}>"


def _mapping_lookup(environ: Mapping[str, str], name: str) -> SecretProvider:
    return _MappingLookup(environ, name)


def _source(provider: SecretProvider | None, env_name: str, kind: str) -> str:
    if provider is None:
        return f"${env_name}"
    description = getattr(provider, "description", None)
    return description if isinstance(description, str) else f"the {kind} provider"


def _resolve(provider: SecretProvider | None, env_name: str) -> _Secret | None:
    value = provider() if provider is not None else os.environ.get(env_name)
    if value is None:
        return None
    value = value.strip()
    return _Secret(value) if value else None
