"""Slack messages for the ``notification`` step: blocks, their elements, and the webhook's JSON.

Field names are Slack's own (already snake_case); unset fields are left out of the payload.
"""

from __future__ import annotations

from typing import Any, cast

import attrs

from ._types import Checked


@attrs.frozen(kw_only=True)
class SlackText(Checked):
    """A Slack text object.

    Attributes:
        type: ``plain_text`` or ``mrkdwn``.
        text: The text.
        emoji: Turn ``:emoji:`` codes into emoji (plain_text only).
        verbatim: Leave links and mentions as written (mrkdwn only).
    """

    type: str
    text: str
    emoji: bool | None = None
    verbatim: bool | None = None


@attrs.frozen(kw_only=True)
class SlackConfirm(Checked):
    """A confirmation dialog shown before an element acts.

    Attributes:
        title: The dialog's title.
        text: The question asked.
        confirm: The label of the button that goes ahead.
        deny: The label of the button that cancels.
        style: ``primary`` or ``danger`` for the confirm button.
    """

    title: SlackText
    text: SlackText
    confirm: SlackText
    deny: SlackText
    style: str | None = None


@attrs.frozen(kw_only=True)
class SlackOption(Checked):
    """One choice of a select menu, checkbox group or radio group.

    Attributes:
        text: What the choice shows.
        value: What the choice sends back.
        description: A line under the choice.
        url: A link the choice opens (overflow menus).
    """

    text: SlackText
    value: str
    description: SlackText | None = None
    url: str | None = None


@attrs.frozen(kw_only=True)
class SlackDispatchConfig(Checked):
    """When a plain-text input sends its value.

    Attributes:
        trigger_actions_on: ``on_enter_pressed`` and/or ``on_character_entered``.
    """

    trigger_actions_on: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class SlackElement(Checked):
    """An interactive or display element of a block (a button, menu, image, input...).

    Attributes:
        type: The element's kind (``button``, ``static_select``, ``image``...).
        action_id: Names the action the element triggers.
        url: A link a button opens.
        value: What a button sends back.
        style: ``primary`` or ``danger`` for a button.
        text: The element's text (a button's label).
        confirm: A dialog asking for confirmation first.
        options: The choices of a menu or group.
        initial_options: The choices selected at first.
        placeholder: Text shown while nothing is chosen or typed.
        initial_date: The date shown at first by a date picker (``YYYY-MM-DD``).
        image_url: The address of an image.
        alt_text: The image's description for screen readers.
        option_groups: Choices in groups (select menus).
        max_selected_items: How many choices a multi-select allows.
        initial_value: The text an input holds at first.
        multiline: Whether a text input takes several lines.
        min_length: The fewest characters an input accepts.
        max_length: The most characters an input accepts.
        dispatch_action_config: When an input sends its value.
        initial_time: The time shown at first by a time picker (``HH:mm``).
    """

    type: str
    action_id: str | None = None
    url: str | None = None
    value: str | None = None
    style: str | None = None
    text: SlackText | None = None
    confirm: SlackConfirm | None = None
    options: tuple[SlackOption, ...] | None = None
    initial_options: tuple[SlackOption, ...] | None = None
    placeholder: SlackText | None = None
    initial_date: str | None = None
    image_url: str | None = None
    alt_text: str | None = None
    option_groups: tuple[SlackOption, ...] | None = None
    max_selected_items: int | None = None
    initial_value: str | None = None
    multiline: bool | None = None
    min_length: int | None = None
    max_length: int | None = None
    dispatch_action_config: SlackDispatchConfig | None = None
    initial_time: str | None = None


@attrs.frozen(kw_only=True)
class SlackBlock(Checked):
    """A layout block of a Slack message.

    Attributes:
        type: The block's kind (``section``, ``actions``, ``context``, ``divider``...).
        block_id: Names the block in the interactions it sends.
        elements: The block's elements.
    """

    type: str
    block_id: str | None = None
    elements: tuple[SlackElement, ...] | None = None


@attrs.frozen(kw_only=True)
class SlackAttachments(Checked):
    """Secondary content shown under the message, with a colour bar.

    Attributes:
        blocks: The attachment's blocks.
        color: The bar's colour (``#36a64f``, or ``good``/``warning``/``danger``).
    """

    blocks: tuple[SlackBlock, ...] | None = None
    color: str | None = None


@attrs.frozen(kw_only=True)
class SlackMessage(Checked):
    """A Slack incoming-webhook message.

    Attributes:
        text: The message text (also the notification's text when there are blocks).
        blocks: Layout blocks shown instead of ``text``.
        attachments: Secondary content under the message.
        thread_ts: Reply in the thread of this message timestamp.
        mrkdwn: Format ``text`` as Slack markdown.
    """

    text: str
    blocks: tuple[SlackBlock, ...] | None = None
    attachments: SlackAttachments | None = None
    thread_ts: str | None = None
    mrkdwn: bool = True


def _json(value: object) -> Any:
    cls: type[object] = type(value)
    if attrs.has(cls):
        found = {f.name: getattr(value, f.name) for f in attrs.fields(cls)}
        return {k: _json(v) for k, v in found.items() if v is not None}
    if isinstance(value, tuple):
        return [_json(item) for item in cast(tuple[object, ...], value)]
    return value


def slack_body(m: SlackMessage) -> dict[str, Any]:
    """The incoming webhook's JSON. Slack takes ``attachments`` as a list: the one given is
    sent as a list of one (KubeVela sends the object itself, which Slack does not read)."""
    body: dict[str, Any] = _json(m)
    if "attachments" in body:
        body["attachments"] = [body["attachments"]]
    return body
