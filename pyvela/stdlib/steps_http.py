"""The standard HTTP workflow steps: ``request`` and ``webhook``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import attrs

from pyvela import StepContext, step
from pyvela.errors import StepError

from ._outbound import SecretOrValue, SecretRef, excerpt, post_json, resolve
from ._types import Params, as_map

__all__ = [
    "RequestOutputs",
    "RequestParams",
    "SecretOrValue",
    "SecretRef",
    "WebhookParams",
    "request",
    "webhook",
]

Method = Literal["GET", "POST", "PUT", "DELETE"]


def check_http_url(url: str, parameter: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{parameter} must be an http:// or https:// URL with a host (got {url!r:.80})")


@attrs.frozen(kw_only=True)
class RequestParams(Params):
    """Parameters of ``request``.

    Attributes:
        url: The address to call (http or https).
        method: The HTTP method.
        body: A JSON object sent as the request's body.
        header: Request headers, by name.
    """

    url: str
    method: Method = "GET"
    body: Mapping[str, Any] | None = None
    header: Mapping[str, str] | None = None

    def validate(self) -> None:
        check_http_url(self.url, "url")


@attrs.frozen(kw_only=True)
class RequestOutputs:
    """What ``request`` returns.

    Attributes:
        response: The answer's body parsed as JSON (KubeVela's ``response``); None when the
            body is empty or not JSON.
        status_code: The answer's HTTP status.
        body: The answer's body as text.
        header: The answer's headers (lowercase names; repeated headers joined with ``, ``).
    """

    response: Any
    status_code: int
    body: str
    header: Mapping[str, str]


@step(name="request", params=RequestParams)
async def request(p: RequestParams, ctx: StepContext) -> RequestOutputs:
    """Call a URL and return its answer; a status of 400 or more fails the step.

    POST requests are journaled: a resumed run does not send one again (KubeVela fails only
    above 400: a 400 answer fails here too).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/request.cue.
    """
    response = await ctx.http(p.method, p.url, json=p.body, headers=dict(p.header or {}))
    if response.status >= 400:
        raise StepError(
            f"request of {p.url} failed: {response.status}: {excerpt(response.text)}",
            step=ctx.step_name,
        )
    try:
        parsed = response.json() if response.text.strip() else None
    except ValueError:
        parsed = None
    return RequestOutputs(
        response=parsed,
        status_code=response.status,
        body=response.text,
        header={k.lower(): v for k, v in response.headers.items()},
    )


@attrs.frozen(kw_only=True)
class WebhookParams(Params):
    """Parameters of ``webhook``.

    Attributes:
        url: The webhook's address, inline or read from a Secret (its token stays hidden).
        data: The JSON object to POST; by default the application itself (its name,
            namespace, revision and components with their properties).
    """

    url: SecretOrValue
    data: Mapping[str, Any] | None = None

    def validate(self) -> None:
        if self.url.value is not None:
            check_http_url(self.url.value, "url.value")


@step(name="webhook", params=WebhookParams)
async def webhook(p: WebhookParams, ctx: StepContext) -> None:
    """POST JSON to a webhook; any answer but 2xx fails the step.

    The POST is journaled: a resumed run does not send it again.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/webhook.cue.
    """
    url = await resolve(p.url, ctx, parameter="url", url=True)
    if p.url.secret_ref is not None and not urlsplit(url.reveal()).scheme.startswith("http"):
        raise StepError(
            f"url.secret_ref: Secret {ctx.namespace}/{p.url.secret_ref.name} key "
            f"{p.url.secret_ref.key!r} does not hold an http(s) URL",
            step=ctx.step_name,
            parameter="url",
        )
    body = dict(p.data) if p.data is not None else application(ctx)
    await post_json(ctx, url, body, what="webhook")


def application(ctx: StepContext) -> dict[str, Any]:
    """The app as KubeVela's Application object would show it (what ``webhook`` sends by default)."""
    return {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": ctx.app_name, "namespace": ctx.namespace},
        "spec": {
            "components": [
                {"name": name, "properties": plain(params)} for name, params in ctx.components.items()
            ]
        },
        "status": {"latestRevision": {"name": ctx.app_revision}},
    }


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def plain(value: object) -> Any:
    """Parameters as JSON with KubeVela's camelCase names (unset fields left out)."""
    cls: type[object] = type(value)
    if attrs.has(cls):
        found = {f.name: getattr(value, f.name) for f in attrs.fields(cls)}
        return {_camel(k): plain(v) for k, v in found.items() if v is not None}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in as_map(value).items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in cast(Iterable[object], value)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
