"""DingTalk robot messages for the ``notification`` step, and the robot API's JSON.

Python names are snake_case; the JSON sent uses DingTalk's own names (``actionCard``,
``singleURL``, ``atMobiles``...).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ._types import Checked

DingMsgType = Literal["text", "link", "markdown", "actionCard", "feedCard"]


@attrs.frozen(kw_only=True)
class DingText(Checked):
    """A DingTalk text message.

    Attributes:
        content: The text.
    """

    content: str


@attrs.frozen(kw_only=True)
class DingLink(Checked):
    """A DingTalk link (a message of its own, or an item of a feed card).

    Attributes:
        text: The text under the title.
        title: The title.
        message_url: Where a click leads.
        pic_url: The picture shown with it.
    """

    text: str | None = None
    title: str | None = None
    message_url: str | None = None
    pic_url: str | None = None


@attrs.frozen(kw_only=True)
class DingMarkdown(Checked):
    """A DingTalk markdown message.

    Attributes:
        text: The markdown text.
        title: The title shown in the conversation list.
    """

    text: str
    title: str


@attrs.frozen(kw_only=True)
class DingAt(Checked):
    """Whom a DingTalk message mentions.

    Attributes:
        at_mobiles: Mobile numbers of the people mentioned.
        is_at_all: Mention everyone in the group.
    """

    at_mobiles: tuple[str, ...] | None = None
    is_at_all: bool | None = None


@attrs.frozen(kw_only=True)
class DingButton(Checked):
    """A button of a DingTalk action card.

    Attributes:
        title: The button's label.
        action_url: Where the button leads.
    """

    title: str
    action_url: str


@attrs.frozen(kw_only=True)
class DingActionCard(Checked):
    """A DingTalk action card.

    Attributes:
        text: The card's markdown text.
        title: The title shown in the conversation list.
        hide_avatar: ``"1"`` hides the sender's avatar, ``"0"`` shows it.
        btn_orientation: ``"0"`` stacks the buttons, ``"1"`` puts them side by side.
        single_title: The label of the card's single button.
        single_url: Where the single button leads.
        btns: Several buttons instead of the single one.
    """

    text: str
    title: str
    hide_avatar: str
    btn_orientation: str
    single_title: str
    single_url: str
    btns: tuple[DingButton, ...] | None = None


@attrs.frozen(kw_only=True)
class DingFeedCard(Checked):
    """A DingTalk feed card: a list of links.

    Attributes:
        links: The links, in order.
    """

    links: tuple[DingLink, ...]


_DING_PART = {
    "text": "text",
    "link": "link",
    "markdown": "markdown",
    "actionCard": "action_card",
    "feedCard": "feed_card",
}


@attrs.frozen(kw_only=True)
class DingMessage(Checked):
    """A DingTalk robot message: ``msgtype`` says which of the parts is sent.

    Attributes:
        msgtype: The kind of message.
        text: The text message.
        link: The link message.
        markdown: The markdown message.
        at: Whom the message mentions.
        action_card: The action card.
        feed_card: The feed card.
    """

    msgtype: DingMsgType = "text"
    text: DingText | None = None
    link: DingLink | None = None
    markdown: DingMarkdown | None = None
    at: DingAt | None = None
    action_card: DingActionCard | None = None
    feed_card: DingFeedCard | None = None

    def validate(self) -> None:
        part = _DING_PART[self.msgtype]
        if getattr(self, part) is None:
            raise ValueError(f"msgtype {self.msgtype!r} needs {part}")


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _ding_link(link: DingLink, *, feed: bool = False) -> dict[str, Any]:
    # DingTalk spells these messageUrl/picUrl in a link message, messageURL/picURL in a feed card.
    url, pic = ("messageURL", "picURL") if feed else ("messageUrl", "picUrl")
    return _drop_none({"text": link.text, "title": link.title, url: link.message_url, pic: link.pic_url})


def dingding_body(m: DingMessage) -> dict[str, Any]:
    """The robot API's JSON for ``m`` (DingTalk's own field names)."""
    body: dict[str, Any] = {"msgtype": m.msgtype}
    if m.text is not None:
        body["text"] = {"content": m.text.content}
    if m.link is not None:
        body["link"] = _ding_link(m.link)
    if m.markdown is not None:
        body["markdown"] = {"title": m.markdown.title, "text": m.markdown.text}
    if m.at is not None:
        body["at"] = _drop_none(
            {
                "atMobiles": list(m.at.at_mobiles) if m.at.at_mobiles is not None else None,
                "isAtAll": m.at.is_at_all,
            }
        )
    if m.action_card is not None:
        card = m.action_card
        body["actionCard"] = _drop_none(
            {
                "title": card.title,
                "text": card.text,
                "hideAvatar": card.hide_avatar,
                "btnOrientation": card.btn_orientation,
                "singleTitle": card.single_title,
                "singleURL": card.single_url,
                "btns": [{"title": b.title, "actionURL": b.action_url} for b in card.btns]
                if card.btns is not None
                else None,
            }
        )
    if m.feed_card is not None:
        body["feedCard"] = {"links": [_ding_link(link, feed=True) for link in m.feed_card.links]}
    return body
