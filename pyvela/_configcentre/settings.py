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
from typing import Any
from urllib.parse import urlsplit

import attrs

from pyvela.errors import ConfigAuthError, ConfigCentreError, redact

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
        total_timeout: The one deadline of a whole operation (a registration: read, write,
            publish; or a read), every request and retry of it included. The client is the
            only place that retries these failures: the runner does not retry them again.
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


def checked_url(url: str, name: str) -> str:
    """``url`` without its trailing slash; a ConfigCentreError naming ``name`` unless http(s)://host.

    URL credentials are refused, not redacted: Apollo authenticates with a token header,
    and a password in a URL would travel into every message, log line and state record.
    """
    parts = urlsplit(url.strip())
    shown = redact(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigCentreError(
            f"{name} is not an http(s) URL",
            expected="http://host:port or https://host (scheme and host)",
            got=repr(shown),
            fix=f"set {name} to e.g. http://{shown.split('://')[-1] or 'apollo-portal:8070'}",
        )
    if parts.username is not None or parts.password is not None:
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        raise ConfigCentreError(
            f"{name} holds credentials (user:password@), which pyvela does not send or store",
            expected="a URL without user:password@",
            got=repr(shown),
            fix=f"set {name} to {parts.scheme}://{host}{parts.path} and put the Open API token "
            "in PYVELA_APOLLO_TOKEN (or PYVELA_APOLLO_TOKEN_SECRET)",
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigCentreError(
            f"{name} has an invalid port", expected="a port number", got=repr(shown), fix=f"fix {name}"
        ) from None
    return url.strip().rstrip("/")


def _portal_url(url: str) -> str:
    return checked_url(url, "ApolloSettings.portal_url")


def _config_url(url: str | None) -> str | None:
    return None if url is None else checked_url(url, "ApolloSettings.config_url")


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

    portal_url: str = attrs.field(converter=_portal_url)
    config_url: str | None = attrs.field(default=None, converter=_config_url)
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
        portal = checked_url(portal, "PYVELA_APOLLO_PORTAL_URL")
        config = source.get("PYVELA_APOLLO_CONFIG_URL", "").strip() or None
        if config is not None:
            config = checked_url(config, "PYVELA_APOLLO_CONFIG_URL")
        return cls(
            portal_url=portal,
            config_url=config,
            env=text("PYVELA_APOLLO_ENV", "DEV"),
            app_id=text("PYVELA_APOLLO_APP_ID", ""),
            namespace=text("PYVELA_APOLLO_NAMESPACE", "application"),
            operator=text("PYVELA_APOLLO_OPERATOR", "apollo"),
            token_provider=token_provider,
            secret_provider=secret_provider,
        )

    def _token(self) -> _Secret | None:
        return _resolve(self.token_provider, self.token_env, self._token_source())

    def _secret(self) -> _Secret | None:
        return _resolve(self.secret_provider, self.secret_env, self._secret_source())

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


def _resolve(provider: SecretProvider | None, env_name: str, source: str) -> _Secret | None:
    """The credential, checked; a ConfigAuthError naming ``source`` (never the value) if unusable.

    A credential that cannot go into an HTTP header (a newline inside, non-ASCII or
    undecodable bytes) is a configuration error, not a transient failure to retry.
    """
    raw: Any
    if provider is None:
        raw = os.environ.get(env_name)
    else:
        try:
            raw = provider()
        except ConfigCentreError:
            raise
        except Exception as exc:  # the provider's own message may quote what it read
            raise ConfigAuthError(
                f"the credential from {source} could not be read ({type(exc).__name__})",
                expected="a credential provider that returns a str or None",
                got=type(exc).__name__,
                fix=f"check {source}",
            ) from None
    if raw is None:
        return None
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            raise _unusable(source, "bytes that are not ASCII") from None
    if not isinstance(raw, str):
        raise _unusable(source, f"a {type(raw).__name__}, not a str")
    value = raw.strip()
    if not value:
        return None
    if not value.isascii() or not value.isprintable():
        what = "a line break" if "\n" in value or "\r" in value else "non-printable or non-ASCII characters"
        raise _unusable(source, what)
    if any(c.isspace() for c in value):
        raise _unusable(source, "whitespace inside")
    return _Secret(value)


def _unusable(source: str, what: str) -> ConfigAuthError:
    return ConfigAuthError(
        f"the credential in {source} is unusable: it holds {what}",
        expected="printable ASCII without spaces or line breaks (as an HTTP header carries it)",
        got=what,
        fix=f"set {source} again to exactly the token or secret (e.g. without a trailing newline "
        "inside quotes, not a file's binary content)",
    )
