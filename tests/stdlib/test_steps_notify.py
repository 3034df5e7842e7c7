"""The standard ``notification`` step through the real runner on the sandbox: Slack, DingTalk
and Lark against loopback webhooks that check the bodies those services document, e-mail
against a loopback SMTP server (aiosmtpd) with STARTTLS and AUTH; secrets never shown or
stored; nothing sent twice after a failure or a SIGKILL.

It follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/notification.cue.
"""

from __future__ import annotations

import email
import email.policy
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela import stdlib as s
from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.events import Recorder
from pyvela._workflow.results import RunResult
from pyvela.errors import ParameterError
from tests.conftest import ROOT
from tests.runner_helpers import ops_for, sandbox
from tests.stdlib.outbound_servers import (
    DING_TOKEN,
    PASSWORD,
    TOKEN,
    Hooks,
    Mailbox,
    everything,
    plant_secret,
    running_hooks,
    running_smtp,
)

WriteApp = Callable[..., Path]
pytestmark = [
    # aiosmtpd itself sets the attribute it deprecates, on every successful AUTH.
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
    # The plain-text server (AUTH without TLS) is the loopback case on purpose.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

HEAD = """
from pyvela import Application
from pyvela.stdlib import *
SLACK = SecretOrValue(secret_ref=SecretRef(name="hooks", key="slack"))
DING = SecretOrValue(secret_ref=SecretRef(name="hooks", key="ding"))
LARK = SecretOrValue(secret_ref=SecretRef(name="hooks", key="lark"))
PASSWORD = SecretOrValue(secret_ref=SecretRef(name="mail", key="password"))
"""


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    with running_hooks() as running:
        yield running


@pytest.fixture
def plain_smtp() -> Iterator[Mailbox]:
    with running_smtp() as box:
        yield box


@pytest.fixture
def tls_smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with running_smtp(tmp_path) as box:
        # The client trusts the server's self-signed certificate the way an operator would.
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "smtp.crt"))
        yield box


class World:
    """A sandbox with the hooks' and the mail password's Secrets, and apps deployed on it."""

    def __init__(self, root: Path, write_app: WriteApp, hooks: Hooks, password: str = PASSWORD) -> None:
        self.box = sandbox(root)
        self.write_app = write_app
        plant_secret(self.box, "hooks", slack=hooks.slack_url(), ding=hooks.ding_url(), lark=hooks.lark_url())
        plant_secret(self.box, "mail", password=password)
        self.events = Recorder()

    def deploy(self, workflow: str, *, app: str = "notify") -> tuple[RunResult, str]:
        source = HEAD + f'app = Application("{app}", components=[], workflow=[{workflow}])\n'
        result = ops_for(self.write_app(source), self.box, events=self.events).deploy()
        return result, everything(self.box, self.events, result, app=app)


@pytest.fixture
def world(tmp_path: Path, write_app: WriteApp, hooks: Hooks) -> Iterator[World]:
    made = World(tmp_path / "sb", write_app, hooks)
    yield made
    made.box.close()


def no_secret_in(text: str) -> None:
    for secret in (TOKEN, DING_TOKEN, PASSWORD):
        assert secret not in text


# --------------------------------------------------------------------------- Slack


def test_slack_message_with_blocks_goes_out_as_slack_documents_it(world: World, hooks: Hooks) -> None:
    result, text = world.deploy("""notification("tell", slack=Slack(url=SLACK, message=SlackMessage(
        text="deployed *web*",
        blocks=(SlackBlock(type="section", block_id="b1"),
                SlackBlock(type="actions", elements=(SlackElement(type="button", action_id="open",
                    url="https://example.com",
                    text=SlackText(type="plain_text", text="Open", emoji=True)),))),
        attachments=SlackAttachments(color="#36a64f", blocks=(SlackBlock(type="divider"),)),
        thread_ts="1700000000.000100")))""")
    assert result.ok, result.message
    (seen,) = hooks.to("/services/")
    assert seen.path.endswith(TOKEN) and seen.headers["Content-Type"] == "application/json"
    assert seen.body == {
        "text": "deployed *web*",
        "mrkdwn": True,
        "thread_ts": "1700000000.000100",
        "blocks": [
            {"type": "section", "block_id": "b1"},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "open",
                        "url": "https://example.com",
                        "text": {"type": "plain_text", "text": "Open", "emoji": True},
                    }
                ],
            },
        ],
        "attachments": [{"color": "#36a64f", "blocks": [{"type": "divider"}]}],
    }
    no_secret_in(text)


def test_slack_refusal_fails_the_step_with_its_answer_scrubbed(world: World, hooks: Hooks) -> None:
    hooks.failures = [(404, f"no_service: /services/T0001/B0002/{TOKEN}")]
    result, text = world.deploy(
        'notification("tell", slack=Slack(url=SLACK, message=SlackMessage(text="x")))'
    )
    assert not result.ok
    message = result.steps["tell"]["message"]
    assert "slack: POST http://127.0.0.1:" in message and "answered 404: no_service: ***" in message
    no_secret_in(text)


# --------------------------------------------------------------------------- DingTalk

DING_MESSAGES = {
    "text": (
        'DingMessage(text=DingText(content="v2 is live"), '
        'at=DingAt(at_mobiles=("13800000000",), is_at_all=False))',
        {
            "msgtype": "text",
            "text": {"content": "v2 is live"},
            "at": {"atMobiles": ["13800000000"], "isAtAll": False},
        },
    ),
    "link": (
        'DingMessage(msgtype="link", link=DingLink(text="t", title="T", message_url="https://e.x/a", '
        'pic_url="https://e.x/p.png"))',
        {
            "msgtype": "link",
            "link": {"text": "t", "title": "T", "messageUrl": "https://e.x/a", "picUrl": "https://e.x/p.png"},
        },
    ),
    "markdown": (
        'DingMessage(msgtype="markdown", markdown=DingMarkdown(title="T", text="# v2"))',
        {"msgtype": "markdown", "markdown": {"title": "T", "text": "# v2"}},
    ),
    "actionCard": (
        'DingMessage(msgtype="actionCard", action_card=DingActionCard(text="t", title="T", hide_avatar="0", '
        'btn_orientation="1", single_title="", single_url="", '
        'btns=(DingButton(title="OK", action_url="https://e.x/ok"),)))',
        {
            "msgtype": "actionCard",
            "actionCard": {
                "text": "t",
                "title": "T",
                "hideAvatar": "0",
                "btnOrientation": "1",
                "singleTitle": "",
                "singleURL": "",
                "btns": [{"title": "OK", "actionURL": "https://e.x/ok"}],
            },
        },
    ),
    "feedCard": (
        'DingMessage(msgtype="feedCard", feed_card=DingFeedCard(links=(DingLink(title="a", '
        'message_url="https://e.x/a", pic_url="https://e.x/a.png"),)))',
        {
            "msgtype": "feedCard",
            "feedCard": {
                "links": [{"title": "a", "messageURL": "https://e.x/a", "picURL": "https://e.x/a.png"}]
            },
        },
    ),
}


@pytest.mark.parametrize("msgtype", sorted(DING_MESSAGES))
def test_dingtalk_message_types(world: World, hooks: Hooks, msgtype: str) -> None:
    message, body = DING_MESSAGES[msgtype]
    result, text = world.deploy(f'notification("tell", dingding=DingTalk(url=DING, message={message}))')
    assert result.ok, result.message
    (seen,) = hooks.to("/robot/send")
    assert seen.body == body
    no_secret_in(text)


def test_dingtalk_errcode_fails_the_step(world: World, hooks: Hooks) -> None:
    # DingTalk answers 200 with an errcode: the step must not call that a success.
    wrong = hooks.ding_url().replace(DING_TOKEN, "not-the-token")
    result, _ = world.deploy(
        f'notification("tell", dingding=DingTalk(url=SecretOrValue(value="{wrong}"), '
        'message=DingMessage(text=DingText(content="x"))))'
    )
    assert not result.ok
    assert (
        "dingding: the service refused the message: errcode 300005: token is not exist"
        in (result.steps["tell"]["message"])
    )


# --------------------------------------------------------------------------- Lark


@pytest.mark.parametrize(
    ("msg_type", "content", "body"),
    [
        ("text", {"text": "v2 is live"}, {"msg_type": "text", "content": {"text": "v2 is live"}}),
        (
            "post",
            {"post": {"en_us": {"title": "v2", "content": [[{"tag": "text", "text": "live"}]]}}},
            {
                "msg_type": "post",
                "content": {
                    "post": {"en_us": {"title": "v2", "content": [[{"tag": "text", "text": "live"}]]}}
                },
            },
        ),
        (
            "interactive",
            {"elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "v2"}}]},
            {
                "msg_type": "interactive",
                "card": {"elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "v2"}}]},
            },
        ),
    ],
)
def test_lark_messages(world: World, hooks: Hooks, msg_type: str, content: Any, body: Any) -> None:
    result, text = world.deploy(
        f'notification("tell", lark=Lark(url=LARK, message=LarkMessage(msg_type="{msg_type}", '
        f"content={json.dumps(json.dumps(content))})))"
    )
    assert result.ok, result.message
    (seen,) = hooks.to("/open-apis/bot/v2/hook/")
    assert seen.body == body
    no_secret_in(text)


def test_lark_error_code_fails_the_step(world: World, hooks: Hooks) -> None:
    result, text = world.deploy(
        'notification("tell", lark=Lark(url=LARK, '
        'message=LarkMessage(msg_type="text", content=\'{"words": 1}\')))'
    )
    assert not result.ok
    assert (
        "lark: the service refused the message: code 19002: content.text must be a string"
        in (result.steps["tell"]["message"])
    )
    no_secret_in(text)


# --------------------------------------------------------------------------- e-mail

EMAIL = """Email(from_=EmailSender(address="ci@example.org", alias="Deploy Bot", password={password},
    host="127.0.0.1", port={port}), to=({to}),
    content=EmailContent(subject="v2 is live", body="<b>done</b>"))"""


def email_of(
    box: Mailbox, password: str = "PASSWORD", to: str = '"dev@example.org", "ops@example.org",'
) -> str:
    return EMAIL.format(password=password, port=box.port, to=to)


def test_email_over_starttls_with_the_password_from_a_secret(world: World, tls_smtp: Mailbox) -> None:
    result, text = world.deploy(f'notification("mail", email={email_of(tls_smtp)})')
    assert result.ok, result.message
    ((sender, rcpts, raw, user, over_tls),) = tls_smtp.mails
    assert (sender, rcpts, user, over_tls) == (
        "ci@example.org",
        ["dev@example.org", "ops@example.org"],
        "ci@example.org",
        True,
    )
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "Deploy Bot <ci@example.org>" and msg["Subject"] == "v2 is live"
    assert msg["To"] == "dev@example.org, ops@example.org"
    assert msg.get_content_type() == "text/html" and "<b>done</b>" in msg.get_content()
    assert tls_smtp.logins == [("ci@example.org", PASSWORD)]
    no_secret_in(text)


def test_email_to_a_loopback_server_without_tls(world: World, plain_smtp: Mailbox) -> None:
    result, text = world.deploy(f'notification("mail", email={email_of(plain_smtp)})')
    assert result.ok, result.message
    assert len(plain_smtp.mails) == 1 and plain_smtp.mails[0][3] == "ci@example.org"
    no_secret_in(text)


def test_a_wrong_password_fails_without_showing_it(tmp_path: Path, write_app: WriteApp, hooks: Hooks) -> None:
    wrong = "wr0ng-pa55-0d9e8f7a6b5c"
    made = World(tmp_path / "sb", write_app, hooks, password=wrong)
    try:
        with running_smtp() as box:
            result, text = made.deploy(f'notification("mail", email={email_of(box)})')
            assert not result.ok and box.mails == []
    finally:
        made.box.close()
    assert "refused the login of ci@example.org: 535" in result.steps["mail"]["message"]
    assert wrong not in text and PASSWORD not in text


def test_refused_recipients_are_reported(world: World, plain_smtp: Mailbox) -> None:
    plain_smtp.refuse = {"ops@example.org"}
    some, _ = world.deploy(f'notification("mail", email={email_of(plain_smtp)})', app="some")
    assert not some.ok
    assert "sent, but the server refused ops@example.org (550" in some.steps["mail"]["message"]
    assert plain_smtp.mails[0][1] == ["dev@example.org"]
    plain_smtp.refuse = {"dev@example.org", "ops@example.org"}
    every, _ = world.deploy(f'notification("mail", email={email_of(plain_smtp)})', app="every")
    assert not every.ok and "refused every recipient" in every.steps["mail"]["message"]


def test_email_over_smtps_on_port_465(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        context = running_smtp(tmp_path, implicit_tls=True, port=465)
        box = context.__enter__()
    except OSError as exc:  # port 465 taken (or not ours to bind) on this machine
        pytest.skip(f"cannot listen on 127.0.0.1:465: {exc}")
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "smtp.crt"))
        result, text = world.deploy(f'notification("mail", email={email_of(box)})')
        assert result.ok, result.steps["mail"]["message"]
        ((_sender, _rcpts, _raw, user, over_tls),) = box.mails
        assert user == "ci@example.org" and over_tls
        no_secret_in(text)
    finally:
        context.__exit__(None, None, None)


def test_an_untrusted_certificate_is_refused(
    world: World, tls_smtp: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    result, text = world.deploy(f'notification("mail", email={email_of(tls_smtp)})')
    assert not result.ok and "TLS with the server failed" in result.steps["mail"]["message"]
    assert tls_smtp.mails == [] and tls_smtp.logins == []
    no_secret_in(text)


def test_a_silent_server_holds_the_step_deadline(world: World) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel does) and never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mute = Mailbox(port=silent.getsockname()[1])
        result, _ = world.deploy(f'notification("mail", email={email_of(mute)}).with_timeout(3)')
    assert not result.ok
    step = result.steps["mail"]
    assert step["reason"] in ("Timeout", "StepTimeout") or "deadline" in step["message"], step


def test_an_unreachable_server_is_retried_then_fails(world: World) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Mailbox(port=port)
    result, _ = world.deploy(f'notification("mail", email={email_of(closed)})')
    assert not result.ok
    assert "cannot reach the server" in result.steps["mail"]["message"]
    assert "attempt" in result.steps["mail"]["message"]


# --------------------------------------------------------------------------- once only


def test_every_channel_at_once_and_nothing_sent_twice_when_the_step_runs_again(
    world: World, hooks: Hooks, plain_smtp: Mailbox
) -> None:
    workflow = f"""notification("all", email={email_of(plain_smtp)},
        dingding=DingTalk(url=DING, message=DingMessage(text=DingText(content="v2"))),
        lark=Lark(url=LARK, message=LarkMessage(msg_type="text", content='{{"text": "v2"}}')),
        slack=Slack(url=SLACK, message=SlackMessage(text="v2")))"""
    hooks.failures = [(200, '{"errcode": 0, "errmsg": "ok"}'), (200, '{"code": 0}'), (503, "down")] * 1
    hooks.failures += [(400, "invalid_payload")]  # Slack: retried once on 503, then refused
    first, text = world.deploy(workflow)
    assert not first.ok and "slack: POST" in first.steps["all"]["message"]
    second, text2 = world.deploy(workflow)  # the failed step runs again: only Slack is sent again
    assert second.ok, second.steps["all"]["message"]
    assert len(plain_smtp.mails) == 1
    assert len(hooks.to("/robot/send")) == 1 and len(hooks.to("/open-apis/")) == 1
    assert len(hooks.to("/services/")) == 3  # 503, then 400 in the first run; 200 in the second
    no_secret_in(text + text2)


def test_sigkill_then_rerun_sends_nothing_twice(
    write_app: WriteApp, sandbox_dir: Path, hooks: Hooks, plain_smtp: Mailbox
) -> None:
    path = write_app(
        HEAD
        + f"""app = Application("killed", components=[], workflow=[notification("all",
    email={email_of(plain_smtp)},
    dingding=DingTalk(url=DING, message=DingMessage(text=DingText(content="v2"))),
    slack=Slack(url=SLACK, message=SlackMessage(text="v2")))])
"""
    )
    box = Sandbox(sandbox_dir)
    try:
        plant_secret(box, "hooks", slack=hooks.slack_url(), ding=hooks.ding_url(), lark=hooks.lark_url())
        plant_secret(box, "mail", password=PASSWORD)
    finally:
        box.close()
    hooks.hold = "/services/"  # Slack's POST waits: the mail and DingTalk's POST are on record
    cmd = [sys.executable, "-m", "pyvela", "deploy", str(path)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert hooks.held.wait(120), "the run never reached Slack"
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        hooks.release.set()
    assert len(plain_smtp.mails) == 1 and len(hooks.to("/robot/send")) == 1
    rerun = subprocess.run([*cmd, "-o", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["steps"]["all"]["phase"] == "succeeded"
    assert len(plain_smtp.mails) == 1 and len(hooks.to("/robot/send")) == 1  # not sent again
    assert len(hooks.to("/services/")) == 2  # the one killed mid-request, and the one that finished
    no_secret_in(out + err + rerun.stdout + rerun.stderr)


# --------------------------------------------------------------------------- parameters

URL = s.SecretOrValue(value="https://hooks.example.com/x")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.notification("n"), "at least one of lark, dingding, slack and email"),
        (lambda: s.notification("n", slack=s.Slack(url=URL, message=s.SlackMessage(text=1))), "text"),  # type: ignore[arg-type]
        (
            lambda: s.notification(
                "n", slack=s.Slack(url=s.SecretOrValue(), message=s.SlackMessage(text="x"))
            ),
            "exactly one of value and secret_ref",
        ),
        (
            lambda: s.notification(
                "n",
                slack=s.Slack(url=URL, message=s.SlackMessage(text="x", blocks=(s.SlackBlock(type=3),))),  # type: ignore[arg-type]
            ),
            "blocks",
        ),
        (
            lambda: s.notification(
                "n", dingding=s.DingTalk(url=URL, message=s.DingMessage(msgtype="markdown"))
            ),
            "msgtype 'markdown' needs markdown",
        ),
        (
            lambda: s.notification("n", dingding=s.DingTalk(url=URL, message=s.DingMessage(msgtype="card"))),  # type: ignore[arg-type]
            "msgtype",
        ),
        (
            lambda: s.notification(
                "n", lark=s.Lark(url=URL, message=s.LarkMessage(msg_type="text", content="not json"))
            ),
            "content must be a JSON object in a string",
        ),
        (
            lambda: s.notification(
                "n", lark=s.Lark(url=URL, message=s.LarkMessage(msg_type="text", content="[1]"))
            ),
            "content must be a JSON object in a string",
        ),
        (
            lambda: s.notification(
                "n", lark=s.Lark(url=URL, message=s.LarkMessage(msg_type="video", content="{}"))
            ),  # type: ignore[arg-type]
            "msg_type",
        ),
        (lambda: s.notification("n", email=_email(to=())), "to needs at least one address"),
        (lambda: s.notification("n", email=_email(to=("nobody",))), "not e-mail addresses"),
        (lambda: s.notification("n", email=_email(address="ci")), "address must be an e-mail address"),
        (lambda: s.notification("n", email=_email(port=70000)), "port must be between 1 and 65535"),
        (lambda: s.notification("n", email=_email(port="587")), "port"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_refused_at_the_call_site(make: Any, words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)
    assert "test_steps_notify.py" in str(err.value.where)


def _email(*, to: tuple[str, ...] = ("a@b.org",), address: str = "ci@b.org", port: int = 587) -> s.Email:
    sender = s.EmailSender(
        address=address, password=s.SecretOrValue(value="pw"), host="smtp.b.org", port=port
    )
    return s.Email(from_=sender, to=to, content=s.EmailContent(subject="s", body="b"))


def test_defaults_and_documentation() -> None:
    assert s.EmailSender(address="a@b.c", password=URL, host="h").port == 587
    assert s.DingMessage().msgtype == "text" and s.SlackMessage(text="t").mrkdwn is True
    definition = s.notification
    for name, entry in definition.schema().items():
        assert entry.get("description"), f"notification.{name} has no description"
    assert "Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/notification.cue" in (
        definition.description
    )


def test_a_kubevela_yaml_app_notifies_unchanged(
    world: World, hooks: Hooks, plain_smtp: Mailbox, write_app: WriteApp
) -> None:
    yaml_app = f"""
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: from-yaml
spec:
  components: []
  workflow:
    steps:
    - name: tell
      type: notification
      properties:
        email:
          from:
            address: ci@example.org
            alias: Deploy Bot
            password:
              secretRef: {{name: mail, key: password}}
            host: 127.0.0.1
            port: {plain_smtp.port}
          to: [dev@example.org]
          content: {{subject: v2, body: live}}
        dingding:
          url:
            secretRef: {{name: hooks, key: ding}}
          message:
            msgtype: actionCard
            at: {{atMobiles: ["13800000000"], isAtAll: false}}
            actionCard:
              {{text: t, title: T, hideAvatar: "0", btnOrientation: "0", singleTitle: Open, singleURL: "https://e.x"}}
        slack:
          url:
            secretRef: {{name: hooks, key: slack}}
          message:
            text: v2 is live
"""
    path = write_app(yaml_app, "app.yaml")
    result = ops_for(path, world.box, events=world.events).deploy()
    assert result.ok, result.message
    assert len(plain_smtp.mails) == 1 and plain_smtp.mails[0][1] == ["dev@example.org"]
    (ding,) = hooks.to("/robot/send")
    assert ding.body["actionCard"]["singleURL"] == "https://e.x" and ding.body["at"]["atMobiles"] == [
        "13800000000"
    ]
    (slack,) = hooks.to("/services/")
    assert slack.body == {"text": "v2 is live", "mrkdwn": True}
    no_secret_in(everything(world.box, world.events, result, app="from-yaml"))
