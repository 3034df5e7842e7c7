"""How the Kubernetes API server's answers become pyvela errors (no ``kubernetes`` import here).

The API server answers errors with a ``Status`` object (``reason``, ``message``,
``details.causes``); proxies and a missing resource path answer with plain text. Both
are read here. Credentials never reach a message: every text that leaves this module
went through a :class:`Redactor` that knows the token and client-key material in use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pyvela._backends.protocol import refuses_update
from pyvela.errors import (
    AlreadyExistsError,
    ClusterError,
    ConflictError,
    ImmutableFieldError,
    NotFoundError,
    PyvelaError,
    TransientError,
)

__all__ = [
    "TRANSIENT_STATUS",
    "Redactor",
    "conflict_error",
    "error_for",
    "parse_status",
    "transport_error",
]

#: HTTP statuses worth retrying: throttled, server busy or restarting, watch expired.
TRANSIENT_STATUS = frozenset({410, 429, 500, 502, 503, 504})
_MAX_MESSAGE = 1500
_BEARER = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)
_MANAGER = re.compile(r'conflict with "(?P<manager>[^"]*)"(?: using (?P<version>\S+))?')


class Redactor:
    """Removes known secret values (and anything shaped like a credential) from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 6 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
        return _PEM.sub("***private key***", text)

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._secrets)} secret(s)>"


def parse_status(body: bytes | str) -> dict[str, Any] | None:
    """The ``Status`` object in an error body, or None when the body is not one."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == "Status" else None


def _text(body: bytes | str) -> str:
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(raw.split())[:_MAX_MESSAGE]


def _causes(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    causes = (status.get("details") or {}).get("causes")
    return [c for c in causes if isinstance(c, Mapping)] if isinstance(causes, list) else []


def conflict_error(status: Mapping[str, Any], *, what: str, redact: Redactor) -> ConflictError:
    """A 409 on server-side apply: which fields, owned by which field manager, and the fix."""
    owners: dict[str, list[str]] = {}
    for cause in _causes(status):
        if (cause.get("reason") or cause.get("type")) != "FieldManagerConflict":
            continue
        found = _MANAGER.search(str(cause.get("message", "")))
        manager = found.group("manager") if found else "another field manager"
        owners.setdefault(manager, []).append(str(cause.get("field", "?")))
    message = redact(str(status.get("message") or "conflict"))
    if not owners:  # a resourceVersion precondition, not a field-manager conflict
        return ConflictError(
            message, object=what, fix="re-read the object and apply again (someone changed it)"
        )
    parts = [f"{', '.join(fields)} (owned by field manager {mgr!r})" for mgr, fields in owners.items()]
    managers = ", ".join(repr(m) for m in owners)
    return ConflictError(
        f"server-side apply conflict: fields {'; '.join(parts)} are managed by someone else",
        object=what,
        expected="pyvela (field manager 'pyvela') to own the fields it sets",
        got=f"fields owned by {managers}",
        fix="deploy with --force-conflicts to take the fields over, or remove them from the component "
        f"so that {managers} keeps managing them",
        fields=", ".join(f for fields in owners.values() for f in fields),
        managers=managers,
    )


def error_for(
    code: int, body: bytes | str, *, what: str, verb: str, server: str, redact: Redactor
) -> PyvelaError:
    """The pyvela error for an API error answer (``code`` is the HTTP status)."""
    status = parse_status(body)
    reason = str(status.get("reason") or "") if status else ""
    message = redact(str(status.get("message") or "") if status else _text(body)) or f"HTTP {code}"
    where = f"{verb} {what} on {server}"
    if code == 409 and reason == "AlreadyExists":
        return AlreadyExistsError(message, object=what)
    if code == 409 and status is not None:
        return conflict_error(status, what=what, redact=redact)
    if code == 404:
        return NotFoundError(message, object=what)
    if code in TRANSIENT_STATUS:
        if code == 410:
            message = f"{message} (the watch or list expired; it is re-listed)"
        return TransientError(f"{where}: {message}", object=what, status=code)
    if code == 401:
        return ClusterError(
            f"{where}: unauthorized: {message}",
            object=what,
            fix="check the credentials of the kubeconfig context (expired token or certificate?)",
        )
    if code == 403:
        return ClusterError(
            f"{where}: forbidden: {message}",
            object=what,
            fix="grant pyvela's user the RBAC permission named in the message",
        )
    details = [
        redact(f"{c.get('field', '')}: {c.get('message', '')}".strip(": ")) for c in _causes(status or {})
    ]
    got = "; ".join(d for d in details if d and d not in message) or None
    # The API server's validation says so in its own words, for every kind and field.
    if code == 422 and refuses_update(message):
        # The class says more than the API's reason ("Invalid"): steps report it, as on the sandbox.
        return ImmutableFieldError(f"{where}: {message}", object=what, got=got, status=code)
    return ClusterError(f"{where}: {message}", object=what, got=got, status=code, reason=reason or None)


def transport_error(
    exc: BaseException, *, what: str, verb: str, server: str, redact: Redactor
) -> PyvelaError:
    """A connection-level failure (refused, reset, timed out, TLS)."""
    name = type(exc).__name__
    text = redact(str(exc))[:_MAX_MESSAGE]
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return ClusterError(
            f"{verb} {what}: the API server's certificate is not trusted ({server}): {text}",
            object=what,
            fix="check certificate-authority(-data) of the kubeconfig cluster",
        )
    return TransientError(f"{verb} {what}: cannot reach the API server {server}: {name}: {text}", object=what)
