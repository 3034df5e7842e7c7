"""Loopback servers for the HTTP and notification steps: one HTTP server that speaks Slack's
incoming webhooks, DingTalk's custom robot, Lark's custom bot and plain webhooks/APIs, and an
SMTP server (aiosmtpd) with STARTTLS and AUTH.

Each webhook route checks the body the service documents and answers as the service does:
Slack with ``400 invalid_payload`` (``200 ok`` when fine), DingTalk with ``200`` and
``{"errcode": ..., "errmsg": ...}``, Lark with ``200`` and ``{"code": ..., "msg": ...}``.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: The token a hook's URL carries (what must never show up in output or state).
TOKEN = "T0KEN-3f9a1c77e2b4d6085a1e"
DING_TOKEN = "d1ng-acc3ss-9e8d7c6b5a493827"
PASSWORD = "smtp-pa55-7c1e9b24d3a6"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Hooks:
    """The HTTP server's state: what it received, and failures to answer with."""

    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    #: ``(status, body)`` answered (instead of the route's) to the next requests, in order.
    failures: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Requests to paths starting with ``hold`` wait (``held`` set) until ``release`` is set.
    hold: str | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def to(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if urlsplit(s.path).path.startswith(path)]

    def slack_url(self) -> str:
        return f"{self.base}/services/T0001/B0002/{TOKEN}"

    def ding_url(self) -> str:
        return f"{self.base}/robot/send?access_token={DING_TOKEN}"

    def lark_url(self) -> str:
        return f"{self.base}/open-apis/bot/v2/hook/{TOKEN}"

    def hook_url(self) -> str:
        return f"{self.base}/hook/{TOKEN}"


def _slack_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "no_text"
    if not isinstance(body.get("text"), str) and not isinstance(body.get("blocks"), list):
        return "no_text"
    for block in body.get("blocks") or []:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return "invalid_blocks"
    if "attachments" in body and not isinstance(body["attachments"], list):
        return "invalid_attachments"
    if "mrkdwn" in body and not isinstance(body["mrkdwn"], bool):
        return "invalid_payload"
    return None


_DING_REQUIRED = {
    "text": ("text", ("content",)),
    "link": ("link", ("text", "title", "messageUrl")),
    "markdown": ("markdown", ("title", "text")),
    "actionCard": ("actionCard", ("title", "text")),
    "feedCard": ("feedCard", ("links",)),
}


def _ding_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("msgtype") not in _DING_REQUIRED:
        return "msgtype is missing or unknown"
    part, keys = _DING_REQUIRED[body["msgtype"]]
    value = body.get(part)
    if not isinstance(value, dict) or any(k not in value for k in keys):
        return f"{part} needs {', '.join(keys)}"
    if part == "actionCard" and not ("btns" in value or {"singleTitle", "singleURL"} <= set(value)):
        return "actionCard needs singleTitle and singleURL, or btns"
    if part == "feedCard":
        for link in value["links"]:
            if not {"title", "messageURL", "picURL"} <= set(link):
                return "feedCard links need title, messageURL and picURL"
    at = body.get("at")
    if at is not None and not (isinstance(at, dict) and isinstance(at.get("atMobiles", []), list)):
        return "at.atMobiles must be a list"
    return None


def _lark_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("msg_type"), str):
        return "msg_type is missing"
    if body["msg_type"] == "interactive":
        return None if isinstance(body.get("card"), dict) else "card must be an object"
    content = body.get("content")
    if not isinstance(content, dict):
        return "content must be an object"
    if body["msg_type"] == "text" and not isinstance(content.get("text"), str):
        return "content.text must be a string"
    if body["msg_type"] == "post" and not isinstance(content.get("post"), dict):
        return "content.post must be an object"
    return None


class _Handler(BaseHTTPRequestHandler):
    hooks: Hooks

    def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        hooks = self.hooks
        with hooks.lock:
            hooks.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            failure = hooks.failures.pop(0) if hooks.failures else None
        if hooks.hold is not None and self.path.startswith(hooks.hold) and not hooks.release.is_set():
            hooks.held.set()
            hooks.release.wait(120)
        if failure is not None:
            self._answer(failure[0], failure[1], "text/plain")
            return
        url = urlsplit(self.path)
        if url.path.startswith("/services/"):
            problem = _slack_problem(body)
            self._answer(400 if problem else 200, problem or "ok", "text/plain")
        elif url.path == "/robot/send":
            if parse_qs(url.query).get("access_token") != [DING_TOKEN]:
                self._answer(200, {"errcode": 300005, "errmsg": "token is not exist"})
                return
            problem = _ding_problem(body)
            self._answer(200, {"errcode": 40035 if problem else 0, "errmsg": problem or "ok"})
        elif url.path.startswith("/open-apis/bot/v2/hook/"):
            problem = _lark_problem(body)
            self._answer(200, {"code": 19002 if problem else 0, "msg": problem or "success", "data": {}})
        elif url.path.startswith("/hook/"):
            self._answer(200, {"received": True})
        elif url.path == "/api/repo":
            self._answer(200, {"stargazers_count": 42, "method": self.command, "got": body})
        elif url.path == "/api/text":
            self._answer(200, "plain words", "text/plain")
        elif url.path.startswith("/api/status/"):
            status = int(url.path.rsplit("/", 1)[1])
            self._answer(status, {"error": "no such thing", "detail": "x" * 500})
        else:
            self._answer(404, {"error": "not found"})

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def running_hooks() -> Iterator[Hooks]:
    hooks = Hooks()
    handler = type("Handler", (_Handler,), {"hooks": hooks})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    hooks.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()


def plant_secret(box: Any, name: str, **data: str) -> None:
    """A Secret in the sandbox's ``default`` namespace holding ``data`` (base64, as stored)."""
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": "default"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


def everything(box: Any, events: Any, result: Any, *, app: str) -> str:
    """All a run showed or stored (events, its result as JSON, the decoded state record,
    index and parts) as one text, to grep for a planted secret."""
    from pyvela._workflow.state import StateStore

    record = StateStore(box, app, "default").load()
    shown = [f"{e.kind} {e.step} {e.message} {json.dumps(e.data, default=str)}" for e in events.events]
    return "\n".join([*shown, json.dumps(result.to_dict(), default=str), json.dumps(record, default=str)])


# --------------------------------------------------------------------------- SMTP


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), to trust through SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyvela test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    #: ``(mail_from, rcpt_tos, raw message, logged-in user, over TLS)`` per accepted mail.
    mails: list[tuple[str, list[str], bytes, str | None, bool]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)


@contextmanager
def running_smtp(
    tls: Path | None = None, *, password: str = PASSWORD, implicit_tls: bool = False, port: int = 0
) -> Iterator[Mailbox]:
    """An SMTP server on loopback; with ``tls`` (a directory) it offers STARTTLS and AUTH
    only over TLS, as a real submission server does (``implicit_tls``: TLS from the first
    byte, SMTPS); without, AUTH over plain text. ``port`` 0: any free port."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox()

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in box.refuse:
                return "550 5.1.1 no such user here"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            user = getattr(session, "pyvela_user", None)
            box.mails.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    user if isinstance(user, str) else None,
                    # An SMTPS server speaks nothing but TLS (aiosmtpd notes only STARTTLS).
                    implicit_tls or session.ssl is not None,
                )
            )
            return "250 Message accepted"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, given = data.login.decode(), data.password.decode()
            box.logins.append((login, given))
            if given == password:
                session.pyvela_user = login
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    context = None
    if tls is not None:
        cert, key = self_signed(tls)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    if not port:
        with socket.socket() as probe:  # aiosmtpd needs a port it can connect to itself: not 0
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        ssl_context=context if implicit_tls else None,
        tls_context=None if implicit_tls else context,
        require_starttls=tls is not None and not implicit_tls,
        authenticator=authenticator,
        # aiosmtpd counts only STARTTLS as TLS for AUTH; SMTPS is TLS from the first byte.
        auth_require_tls=tls is not None and not implicit_tls,
        auth_required=True,
    )
    controller.start()
    box.port = port
    try:
        yield box
    finally:
        controller.stop()
