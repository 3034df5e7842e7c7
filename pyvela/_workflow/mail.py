"""Sending the e-mail a step asks for (``SendMail``) over SMTP, under the step's deadline.

The dialogue follows what KubeVela's notification step does (gomail's dialer): implicit TLS
on port 465, otherwise STARTTLS whenever the server offers it, then AUTH when a password is
given and the server offers it. Unlike it, a password is never sent over a connection that
is not encrypted, except to a loopback host. The password and the server's replies never
reach an error message unscrubbed.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from pyvela._core import actions as a
from pyvela.errors import StepError, TransientError

#: Port on which SMTP speaks TLS from the first byte (SMTPS), as gomail decides.
SMTPS_PORT = 465
#: No single SMTP exchange may wait longer than this, whatever the step's deadline.
MAX_WAIT = 30.0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def message(action: a.SendMail) -> EmailMessage:
    """The e-mail as it goes on the wire (an HTML body, as KubeVela sends it)."""
    msg = EmailMessage()
    msg["From"] = action.sender
    msg["To"] = ", ".join(action.to)
    msg["Subject"] = action.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=parseaddr(action.sender)[1].rpartition("@")[2] or None)
    msg.set_content(action.body, subtype="html")
    return msg


def send_mail(action: a.SendMail, *, timeout: float) -> dict[str, Any]:
    """Send ``action``'s e-mail; returns ``{"recipients", "message_id"}``.

    Raises:
        TransientError: the server could not be reached, dropped the connection, or answered
            with a temporary (4xx) reply.
        StepError: the server refused the login, the sender or a recipient (5xx), or TLS
            could not be set up.
    """
    wait = min(MAX_WAIT, max(timeout, 0.1))
    what = action.describe()
    scrub = action.password.scrub if action.password is not None else (lambda text: text)
    msg = message(action)
    address = parseaddr(action.sender)[1] or action.sender
    try:
        client = _connect(action, wait)
    except ssl.SSLError as exc:
        raise StepError(f"{what}: TLS with the server failed: {_why(exc, scrub)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientError(f"{what}: cannot reach the server: {_why(exc, scrub)}") from None
    try:
        _secure(client, action)
        if action.password is not None:
            client.login(address, action.password.reveal())
        refused = client.send_message(msg, from_addr=address, to_addrs=list(action.to))
    except smtplib.SMTPRecipientsRefused as exc:
        raise StepError(
            f"{what}: the server refused every recipient: {_refusals(exc.recipients, scrub)}",
            fix="check the addresses in email.to",
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise StepError(
            f"{what}: the server refused the login of {address}: {_why(exc, scrub)}",
            fix="check email.from.address and the password (or the Secret it is read from)",
        ) from None
    except smtplib.SMTPResponseException as exc:
        text = f"{what}: the server answered {_why(exc, scrub)}"
        if 400 <= exc.smtp_code < 500:
            raise TransientError(text) from None
        raise StepError(text) from None
    except ssl.SSLError as exc:
        raise StepError(f"{what}: TLS with the server failed: {_why(exc, scrub)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise StepError(
            f"{what}: {_why(exc, scrub)}",
            fix="check email.from.host and port (a submission port offers AUTH, often after STARTTLS)",
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        # Dropped before the message was accepted (an accepted one returns above).
        raise TransientError(f"{what}: {_why(exc, scrub)}") from None
    finally:
        _close(client)
    if refused:
        # The message went to the others: not retried (they would get it twice), but not a success.
        raise StepError(
            f"{what}: sent, but the server refused {_refusals(refused, scrub)}",
            fix="check the addresses in email.to",
        )
    return {"recipients": list(action.to), "message_id": msg["Message-ID"]}


def _connect(action: a.SendMail, wait: float) -> smtplib.SMTP:
    if action.port == SMTPS_PORT:
        return smtplib.SMTP_SSL(action.host, action.port, timeout=wait, context=ssl.create_default_context())
    return smtplib.SMTP(action.host, action.port, timeout=wait)


def _secure(client: smtplib.SMTP, action: a.SendMail) -> None:
    """STARTTLS when offered; refuse to send a password in clear text off the machine."""
    client.ehlo()
    encrypted = isinstance(client, smtplib.SMTP_SSL)
    if not encrypted and client.has_extn("starttls"):
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
        encrypted = True
    if action.password is not None and not encrypted and not _loopback(action.host):
        raise StepError(
            f"{action.describe()}: the server offers no TLS, and the password is not sent in clear text",
            fix="use the server's TLS port (465) or a server that offers STARTTLS",
        )


def _close(client: smtplib.SMTP) -> None:
    # The message is accepted (or the step failed already): a QUIT the server answers badly
    # changes nothing, and must not turn a sent mail into a retried one.
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _why(exc: BaseException, scrub: Any) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        text = f"{exc.smtp_code} {reply}"
    else:
        text = str(exc) or type(exc).__name__
    return str(scrub(" ".join(text.split())))[:200]


def _refusals(refused: dict[str, Any], scrub: Any) -> str:
    parts = []
    for rcpt, (code, reply) in sorted(refused.items()):
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        parts.append(f"{rcpt} ({code} {scrub(text)[:80]})")
    return ", ".join(parts)
