"""pyvela.Secret: what str, repr, JSON, attrs and the journal's fingerprint see of a secret value."""

from __future__ import annotations

import copy
import json
import pickle

import attrs
import pytest

from pyvela import HttpRequest, SendMail
from pyvela._core.secret import Secret, reveal
from pyvela._workflow.driver import fingerprint

URL = "https://hooks.example.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx?token=zyxwvutsrq"


def test_a_url_shows_its_scheme_and_host_only() -> None:
    secret = Secret.url(URL)
    assert str(secret) == "https://hooks.example.com/***"
    assert repr(secret) == "Secret('https://hooks.example.com/***')"
    assert secret.reveal() == URL and reveal(secret) == URL and reveal("plain") == "plain"
    assert str(Secret.url("https://user:pw@h.example:8443/x")) == "https://h.example:8443/***"
    assert str(Secret.url("not a url")) == "***" and str(Secret("pw")) == "***"


def test_actions_describe_and_fingerprint_without_the_value() -> None:
    request = HttpRequest(method="POST", url=Secret.url(URL), json={"a": 1})
    mail = SendMail(
        host="smtp.example.com",
        sender="a@b.c",
        password=Secret("hunter2-long"),
        to=("x@y.z",),
        subject="s",
        body="b",
    )
    for action in (request, mail):
        shown = action.describe() + repr(action) + json.dumps(attrs.asdict(action), default=str)
        assert "abcdefghijklmnop" not in shown and "hunter2" not in shown
    # The fingerprint hashes the label: the same action matches, a different host does not.
    assert fingerprint(request) == fingerprint(HttpRequest(method="POST", url=Secret.url(URL), json={"a": 1}))
    other = HttpRequest(method="POST", url=Secret.url(URL.replace("hooks.", "other.")), json={"a": 1})
    assert fingerprint(request) != fingerprint(other)
    assert request.describe() == "POST https://hooks.example.com/***"


def test_scrub_removes_the_value_and_what_a_server_echoes_of_it() -> None:
    secret = Secret.url(URL)
    echoed = (
        f"no hook at {URL}; path /services/T0001/B0002/abcdefghijklmnopqrstuvwx; "
        "bad token zyxwvutsrq; segment abcdefghijklmnopqrstuvwx alone"
    )
    scrubbed = secret.scrub(echoed)
    assert "abcdefghijklmnopqrstuvwx" not in scrubbed and "zyxwvutsrq" not in scrubbed
    assert scrubbed.startswith("no hook at ***;") and "services" not in scrubbed.split(";")[0]
    assert Secret.url(URL).scrub("the services are down") == "the services are down"  # short words stay
    assert Secret("pa55word-xyz").scrub("login pa55word-xyz refused") == "login *** refused"


def test_equality_copies_and_pickling() -> None:
    assert Secret("abc-123456") == Secret("abc-123456") != Secret("abc-654321")
    assert hash(Secret("abc-123456")) == hash(Secret("abc-123456"))
    secret = Secret("abc-123456")
    assert copy.copy(secret) is secret and copy.deepcopy(secret) is secret
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
