"""What the HTTP and notification steps share: values given inline or read from a Secret,
JSON POSTs that must succeed, and short excerpts of what a server answered.

A value read from a Secret travels as a :class:`pyvela.Secret`, so the step's progress
lines, errors, journal and state never show it (the executor reveals it on the wire only).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela import HttpResponse, ObjectRef, Secret, StepContext
from pyvela.errors import StepError

from ._types import Checked, as_map

#: How much of a server's answer an error quotes.
EXCERPT = 200


@attrs.frozen(kw_only=True)
class SecretRef(Checked):
    """A key of a Secret in the app's namespace.

    Attributes:
        name: The Secret's name.
        key: The key (of the Secret's ``data``) that holds the value.
    """

    name: str
    key: str


@attrs.frozen(kw_only=True)
class SecretOrValue(Checked):
    """A value written inline, or read from a Secret when the step runs (give exactly one).

    Attributes:
        value: The value itself, in plain text (it is then part of the app, as in KubeVela).
        secret_ref: The Secret key to read the value from; the value is never shown or stored.
    """

    value: str | None = None
    secret_ref: SecretRef | None = None

    def validate(self) -> None:
        if (self.value is None) == (self.secret_ref is None):
            raise ValueError("give exactly one of value and secret_ref")


async def resolve(given: SecretOrValue, ctx: StepContext, *, parameter: str, url: bool) -> Secret:
    """The value of ``given``, wrapped as a Secret (a URL keeps its scheme and host visible)."""
    if given.secret_ref is None:
        text = given.value or ""
    else:
        text = await _read_secret(given.secret_ref, ctx, parameter=parameter)
    return Secret.url(text) if url else Secret(text)


async def _read_secret(ref: SecretRef, ctx: StepContext, *, parameter: str) -> str:
    where = f"{parameter}.secret_ref: Secret {ctx.namespace}/{ref.name}"
    secret = await ctx.read(ObjectRef("v1", "Secret", ctx.namespace, ref.name))
    if secret is None:
        raise StepError(
            f"{where} does not exist",
            step=ctx.step_name,
            parameter=parameter,
            fix=f"create the Secret in namespace {ctx.namespace!r}, or fix secret_ref.name",
        )
    data = as_map(secret.get("data"))
    if ref.key not in data:
        raise StepError(
            f"{where} has no key {ref.key!r}",
            step=ctx.step_name,
            parameter=parameter,
            expected=f"one of its keys: {', '.join(sorted(str(k) for k in data)) or 'none'}",
            got=repr(ref.key),
            fix="fix secret_ref.key, or add the key to the Secret",
        )
    try:
        text = base64.b64decode(str(data[ref.key]), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise StepError(
            f"{where}: key {ref.key!r} does not hold base64 of UTF-8 text",
            step=ctx.step_name,
            parameter=parameter,
        ) from None
    # A trailing newline (``echo url | kubectl create secret``) would break the URL or password.
    return text.strip()


def excerpt(text: str) -> str:
    """The start of a server's answer, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT] + "..."


async def post_json(ctx: StepContext, url: Secret | str, body: Any, *, what: str) -> HttpResponse:
    """POST ``body`` as JSON (journaled: not sent again on resume); a non-2xx answer fails the step."""
    response = await ctx.http("POST", url, json=body, headers={"Content-Type": "application/json"})
    if not 200 <= response.status < 300:
        raise StepError(
            f"{what}: POST {url} answered {response.status}: {excerpt(response.text)}", step=ctx.step_name
        )
    return response


def json_answer(response: HttpResponse) -> Mapping[str, Any]:
    """The answer's JSON object, or an empty map when it is not one."""
    try:
        return as_map(response.json())
    except ValueError:
        return {}
