"""How Apollo's answers become pyvela errors.

Apollo's portal answers errors with ``{"exception", "message", "status", "timestamp"}``
(its GlobalDefaultExceptionHandler); filters that reject early (token, rate limit, access
key) answer with the servlet container's error body (``{"status", "error", "path"}``).
Both are read here; any secret the server might echo is redacted from the message.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx

from pyvela._configcentre.protocol import ConfigTarget
from pyvela._configcentre.settings import ApolloSettings, _Secret
from pyvela.errors import ConfigAuthError, ConfigCentreError, ConfigNotFoundError
from pyvela.errors import redact as redact_credentials

__all__ = [
    "Service",
    "error_for",
    "json_object",
    "key_label",
    "redact",
    "retry_after_seconds",
    "server_message",
    "server_message_suffix",
]

Service = Literal["portal", "config"]


def key_label(key: str | None) -> str:
    return "" if key is None else f" key {key!r}"


def redact(text: str, secrets: list[_Secret]) -> str:
    """``text`` without the values of ``secrets`` nor anything credential-shaped (URL userinfo...)."""
    for secret in secrets:
        text = secret.redact(text)
    return redact_credentials(text)


def retry_after_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def json_object(response: httpx.Response, *, allow_empty: bool) -> dict[str, Any] | None:
    if not response.content.strip():
        if allow_empty:
            return None
        raise ConfigCentreError(
            "Apollo answered with an empty body",
            expected="a JSON object",
            got="empty body",
            fix="check that the URL points at Apollo",
        )
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigCentreError(
            f"Apollo answered HTTP {response.status_code} with a body that is not a JSON object",
            expected="a JSON object",
            got=response.text[:200],
            fix="check that the URL points at Apollo (not a proxy or login page)",
        )
    return data


def server_message(response: httpx.Response, secrets: list[_Secret]) -> tuple[str, str]:
    """Apollo's error message and exception class (short name) from an error body."""
    message, exception = "", ""
    try:
        data = json.loads(response.content) if response.content else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = str(data.get("message") or data.get("error") or "")
        exception = str(data.get("exception") or "").rsplit(".", 1)[-1]
    elif response.content:
        message = response.text.strip()[:300]
    return redact(message, secrets), exception


def server_message_suffix(response: httpx.Response, secrets: list[_Secret]) -> str:
    message, _ = server_message(response, secrets)
    return f": {message}" if message else ""


def error_for(
    response: httpx.Response,
    settings: ApolloSettings,
    what: str,
    target: ConfigTarget,
    key: str | None,
    service: Service,
    secrets: list[_Secret],
) -> ConfigCentreError:
    """The pyvela error for a non-2xx, non-retryable answer: what, where, Apollo's message, the fix."""
    status = response.status_code
    message, exception = server_message(response, secrets)
    got = f"HTTP {status}" + (f" {exception}" if exception else "") + (f": {message}" if message else "")
    where = f"{target}{key_label(key)}"
    context: dict[str, Any] = {"target": str(target), "key": key, "status": status}
    if status == 401 and service == "config":
        has_secret = bool(secrets)
        return ConfigAuthError(
            f"Apollo's config service rejected the access-key signature reading {where}",
            expected="a request signed with the app's current access-key secret, timestamp within 60 s",
            got=got + ("" if has_secret else " (the request was not signed: no secret configured)"),
            fix=f"check {settings._secret_source()}: it must give an enabled access-key secret of "
            f"app {target.app_id!r} in env {target.env}; and check this machine's clock",
            **context,
        )
    if status == 401:
        return ConfigAuthError(
            f"Apollo rejected the Open API token ({what} {where})",
            expected="a valid, unexpired third-party app token",
            got=got,
            fix=f"check {settings._token_source()}: copy the token of the third-party app from "
            f"{settings.portal_url}/open/manage.html",
            **context,
        )
    if status == 403:
        return ConfigAuthError(
            f"the Apollo token may not {what} in {where}",
            expected=f"a token authorized to modify and release namespace {target.namespace!r} "
            f"of app {target.app_id!r}",
            got=got,
            fix="grant the third-party app rights on this app/namespace in the Apollo portal "
            f"({settings.portal_url}/open/manage.html)",
            **context,
        )
    if status == 404:
        if service == "config":
            return ConfigNotFoundError(
                f"Apollo has released no configuration for {target}",
                expected="at least one published release",
                got=got,
                fix="register (write and publish) the configuration first, and check appId, "
                "cluster and namespace",
                **context,
            )
        item_missing = key is not None and "item not found" in message.lower()
        return ConfigNotFoundError(
            f"Apollo could not {what} {where}: not found",
            expected=f"an existing item {key!r} in {target}"
            if item_missing
            else f"an existing app {target.app_id!r}, env {target.env}, cluster "
            f"{target.cluster!r} and namespace {target.namespace!r}",
            got=got,
            fix="write the item first, or check the key"
            if item_missing
            else "create the app / cluster / namespace in the Apollo portal, or fix the target",
            **context,
        )
    if 300 <= status < 400:
        location = redact(response.headers.get("Location", ""), secrets)
        return ConfigCentreError(
            f"Apollo redirected the request to {what} {where}" + (f" to {location}" if location else ""),
            expected="an answer from Apollo itself",
            got=f"HTTP {status}",
            fix=f"check that {settings.portal_url if service == 'portal' else settings.config_url} is "
            "Apollo's base URL and not behind a login page or proxy",
            **context,
        )
    if status == 400 and "user not exist" in message.lower():
        return ConfigCentreError(
            f"Apollo does not know the operator {settings.operator!r} ({what} {where})",
            expected="an existing Apollo portal user as operator",
            got=got,
            fix="set PYVELA_APOLLO_OPERATOR (ApolloSettings.operator) to an existing portal user",
            **context,
        )
    return ConfigCentreError(
        f"Apollo refused to {what} {where}",
        expected="a request Apollo accepts",
        got=got,
        fix="see Apollo's message under 'got'; check the values sent and the Apollo version",
        **context,
    )
