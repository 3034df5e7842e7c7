"""The standard ``notification`` step: Lark, DingTalk and Slack webhooks, and e-mail over SMTP.

Each message goes out as the service's robot/webhook API documents it, once: every POST and
the e-mail are journaled, so a resumed run sends only what had not been sent yet.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import attrs

from pyvela import StepContext, step
from pyvela.errors import StepError

from ._dingtalk import (
    DingActionCard,
    DingAt,
    DingButton,
    DingFeedCard,
    DingLink,
    DingMarkdown,
    DingMessage,
    DingText,
    dingding_body,
)
from ._outbound import SecretOrValue, excerpt, json_answer, post_json, resolve
from ._slack import (
    SlackAttachments,
    SlackBlock,
    SlackConfirm,
    SlackDispatchConfig,
    SlackElement,
    SlackMessage,
    SlackOption,
    SlackText,
    slack_body,
)
from ._types import Checked, Params

__all__ = [
    "DingActionCard",
    "DingAt",
    "DingButton",
    "DingFeedCard",
    "DingLink",
    "DingMarkdown",
    "DingMessage",
    "DingTalk",
    "DingText",
    "Email",
    "EmailContent",
    "EmailSender",
    "Lark",
    "LarkMessage",
    "NotificationParams",
    "Slack",
    "SlackAttachments",
    "SlackBlock",
    "SlackConfirm",
    "SlackDispatchConfig",
    "SlackElement",
    "SlackMessage",
    "SlackOption",
    "SlackText",
    "notification",
]

LarkMsgType = Literal[
    "text", "post", "image", "interactive", "share_chat", "share_user", "audio", "media", "file", "sticker"
]


@attrs.frozen(kw_only=True)
class LarkMessage(Checked):
    """A Lark (Feishu) bot message.

    Attributes:
        msg_type: The kind of message.
        content: The message's content as a JSON object in a string, e.g. ``'{"text": "hi"}'``
            (for ``interactive``, the card).
    """

    msg_type: LarkMsgType
    content: str

    def validate(self) -> None:
        try:
            parsed = json.loads(self.content)
        except ValueError as exc:
            raise ValueError(f"content must be a JSON object in a string ({exc})") from None
        if not isinstance(parsed, dict):
            raise ValueError("content must be a JSON object in a string")


@attrs.frozen(kw_only=True)
class Lark(Checked):
    """Where and what to send on Lark.

    Attributes:
        url: The bot's webhook address, inline or from a Secret.
        message: The message.
    """

    url: SecretOrValue
    message: LarkMessage


@attrs.frozen(kw_only=True)
class DingTalk(Checked):
    """Where and what to send on DingTalk.

    Attributes:
        url: The robot's webhook address (with its access token), inline or from a Secret.
        message: The message.
    """

    url: SecretOrValue
    message: DingMessage


@attrs.frozen(kw_only=True)
class Slack(Checked):
    """Where and what to send on Slack.

    Attributes:
        url: The incoming webhook's address, inline or from a Secret.
        message: The message.
    """

    url: SecretOrValue
    message: SlackMessage


@attrs.frozen(kw_only=True)
class EmailSender(Checked):
    """Who sends the e-mail, and through which server.

    Attributes:
        address: The sender's address (also the login name).
        alias: The sender's name shown to the recipients.
        password: The login password, inline or from a Secret.
        host: The SMTP server.
        port: The SMTP port: 465 speaks TLS at once; others use STARTTLS when offered.
    """

    address: str
    password: SecretOrValue
    host: str
    alias: str | None = None
    port: int = 587

    def validate(self) -> None:
        if "@" not in self.address:
            raise ValueError(f"address must be an e-mail address (got {self.address!r:.80})")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535 (got {self.port})")


@attrs.frozen(kw_only=True)
class EmailContent(Checked):
    """What the e-mail says.

    Attributes:
        subject: The subject line.
        body: The body (sent as HTML).
    """

    subject: str
    body: str


@attrs.frozen(kw_only=True)
class Email(Checked):
    """An e-mail to send.

    Attributes:
        from_: The sender and its server (KubeVela's ``from``).
        to: The recipients' addresses.
        content: The subject and body.
    """

    from_: EmailSender
    to: tuple[str, ...]
    content: EmailContent

    def validate(self) -> None:
        if not self.to:
            raise ValueError("to needs at least one address")
        bad = [a for a in self.to if "@" not in a]
        if bad:
            raise ValueError(f"to holds addresses that are not e-mail addresses: {bad!r:.80}")


@attrs.frozen(kw_only=True)
class NotificationParams(Params):
    """Parameters of ``notification`` (give at least one channel).

    Attributes:
        lark: A Lark message.
        dingding: A DingTalk message.
        slack: A Slack message.
        email: An e-mail.
    """

    lark: Lark | None = None
    dingding: DingTalk | None = None
    slack: Slack | None = None
    email: Email | None = None

    def validate(self) -> None:
        if self.lark is None and self.dingding is None and self.slack is None and self.email is None:
            raise ValueError("give at least one of lark, dingding, slack and email")


@step(name="notification", params=NotificationParams)
async def notification(p: NotificationParams, ctx: StepContext) -> None:
    """Send an e-mail and/or a message to DingTalk, Lark and Slack; each must be accepted.

    They go out in that order, each once (journaled: a resumed or re-run step sends only what
    was not accepted yet); a service that answers with an error (a non-2xx status, or
    DingTalk's ``errcode`` / Lark's ``code`` other than 0) fails the step with its answer.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/notification.cue.
    """
    if p.email is not None:
        sender = p.email.from_
        password = await resolve(sender.password, ctx, parameter="email.from.password", url=False)
        await ctx.send_mail(
            host=sender.host,
            port=sender.port,
            sender=_address(sender.alias, sender.address),
            password=password,
            to=p.email.to,
            subject=p.email.content.subject,
            body=p.email.content.body,
        )
    if p.dingding is not None:
        url = await resolve(p.dingding.url, ctx, parameter="dingding.url", url=True)
        response = await post_json(ctx, url, dingding_body(p.dingding.message), what="dingding")
        _service_ok(ctx, "dingding", json_answer(response), "errcode", "errmsg")
    if p.lark is not None:
        url = await resolve(p.lark.url, ctx, parameter="lark.url", url=True)
        response = await post_json(ctx, url, lark_body(p.lark.message), what="lark")
        answer = json_answer(response)
        _service_ok(ctx, "lark", answer, "code" if "code" in answer else "StatusCode", "msg")
    if p.slack is not None:
        url = await resolve(p.slack.url, ctx, parameter="slack.url", url=True)
        await post_json(ctx, url, slack_body(p.slack.message), what="slack")


def _service_ok(ctx: StepContext, what: str, answer: Any, code: str, text: str) -> None:
    value = answer.get(code, 0)
    if value not in (0, "0", None):
        message = answer.get(text) or answer.get("StatusMessage") or ""
        raise StepError(
            f"{what}: the service refused the message: {code} {value}: {excerpt(str(message))}",
            step=ctx.step_name,
        )


def _address(alias: str | None, address: str) -> str:
    from email.utils import formataddr

    return formataddr((alias, address)) if alias else address


def lark_body(m: LarkMessage) -> dict[str, Any]:
    """The bot webhook's JSON: the content as an object (a card goes in ``card``)."""
    content = json.loads(m.content)
    if m.msg_type == "interactive":
        return {"msg_type": m.msg_type, "card": content}
    return {"msg_type": m.msg_type, "content": content}
