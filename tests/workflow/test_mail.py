"""The SMTP side of ``SendMail`` (pyvela/_workflow/mail.py) below the runner; the whole path, with
a real SMTP server, is tested in tests/stdlib/test_steps_notify.py."""

from __future__ import annotations

import email.policy
import smtplib
from email import message_from_bytes

import pytest

from pyvela import Secret, SendMail
from pyvela._workflow import mail
from pyvela.errors import StepError


def action(host: str = "smtp.example.com", password: Secret | None = None) -> SendMail:
    return SendMail(
        host=host,
        port=587,
        sender="Deploy Bot <ci@example.org>",
        password=password,
        to=("a@example.org", "b@example.org"),
        subject="v2 is live",
        body="<p>done</p>",
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("smtp.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert mail._loopback(host) is loopback


def test_the_message_is_html_from_the_alias() -> None:
    raw = mail.message(action()).as_bytes()
    msg = message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "Deploy Bot <ci@example.org>" and msg["To"] == "a@example.org, b@example.org"
    assert msg["Subject"] == "v2 is live" and msg["Message-ID"].endswith("@example.org>")
    assert msg.get_content_type() == "text/html" and msg["Date"]


class NoTlsServer(smtplib.SMTP):
    """The client's view of a server whose EHLO offers neither STARTTLS nor anything else
    (no connection is made: the refusal comes before any byte of the password would)."""

    def ehlo(self, name: str = "") -> tuple[int, bytes]:
        self.esmtp_features = {"auth": "PLAIN LOGIN"}
        self.does_esmtp = True
        return 250, b"ok"

    def starttls(self, *args: object, **kwargs: object) -> tuple[int, bytes]:
        raise AssertionError("STARTTLS was not offered")


def test_no_password_in_clear_text_to_a_host_off_the_machine() -> None:
    with pytest.raises(StepError, match="offers no TLS, and the password is not sent in clear text"):
        mail._secure(NoTlsServer(), action(password=Secret("pa55word-xyz")))
    mail._secure(NoTlsServer(), action(host="127.0.0.1", password=Secret("pa55word-xyz")))  # loopback
    mail._secure(NoTlsServer(), action())  # no password: nothing to protect
