"""One deadline per config-centre operation, retries that do not nest, checked URLs and credentials."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from apollo_server import DEFAULT_TOKEN, ApolloServer, RecordedSleeps, apollo_settings

from pyvela._configcentre.apollo import ApolloConfigCentre, ApolloSettings, RetryPolicy
from pyvela._configcentre.protocol import ConfigTarget
from pyvela._core import actions as a
from pyvela._workflow.driver import StepRun, _with_retries
from pyvela.errors import ConfigAuthError, ConfigCentreError, ConfigTransientError, PyvelaError, redact

TARGET = ConfigTarget(app_id="base-server")
ITEMS = {"base-server.ip": "10.96.0.12"}


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung Apollo)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_silent_server_fails_the_operation_at_its_one_deadline(silent_server: str) -> None:
    # Each request may take 30 s and 4 tries: only the operation's deadline (1 s) bounds it.
    policy = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01, total_timeout=1.0)
    settings = ApolloSettings(
        portal_url=silent_server,
        config_url=silent_server,
        token_provider=lambda: DEFAULT_TOKEN,
        timeout=30.0,
        retry=policy,
    )
    started = time.monotonic()
    with ApolloConfigCentre(settings) as centre, pytest.raises(ConfigTransientError) as info:
        centre.register(TARGET, ITEMS, release_title="t")
    elapsed = time.monotonic() - started
    assert elapsed < 20.0  # far below one request's own timeout: the deadline cut it
    assert info.value.retried is True
    assert info.value.got is not None and "Timeout" in info.value.got
    assert "deadline" in (info.value.expected or "")


def test_requests_of_one_registration_share_the_deadline(
    apollo_server: ApolloServer, sleeps: RecordedSleeps
) -> None:
    # The first request fails until the deadline has passed; no later request may start.
    policy = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01, total_timeout=0.0)
    apollo_server.fail_next(1, 502, path_contains="/releases/latest")
    with (
        ApolloConfigCentre(apollo_settings(apollo_server, retry=policy), sleep=sleeps) as centre,
        pytest.raises(ConfigTransientError, match="1 attempt"),
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    assert len(apollo_server.requests) == 1
    assert apollo_server.items("base-server") == {}


def _run_retries(error: PyvelaError) -> int:
    calls = 0

    def perform(_action: a.Action[object]) -> object:
        nonlocal calls
        calls += 1
        raise error

    run = StepRun(name="register", definition="d", journal=[], retries=3, backoff=0.0)
    with pytest.raises(PyvelaError):
        _with_retries(a.Log(message="x"), run, perform, time.monotonic() + 60, threading.Event())
    return calls


def test_the_runner_does_not_retry_what_the_client_already_retried() -> None:
    retried = ConfigTransientError("Apollo kept failing")
    retried.retried = True
    assert _run_retries(retried) == 1
    assert _run_retries(ConfigTransientError("one failure")) == 4  # unmarked: the runner retries


@pytest.mark.parametrize("url", ["apollo.example:8070", "ftp://apollo", "http://", "http://host:port"])
def test_malformed_url_is_a_configuration_error_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigCentreError) as info:
        ApolloSettings.from_env({"PYVELA_APOLLO_PORTAL_URL": url, "PYVELA_APOLLO_TOKEN": DEFAULT_TOKEN})
    assert "PYVELA_APOLLO_PORTAL_URL" in info.value.message
    assert info.value.transient is False
    with pytest.raises(ConfigCentreError, match="PYVELA_APOLLO_CONFIG_URL"):
        ApolloSettings.from_env({"PYVELA_APOLLO_PORTAL_URL": "http://ok", "PYVELA_APOLLO_CONFIG_URL": url})
    with pytest.raises(ConfigCentreError, match=r"ApolloSettings\.portal_url"):
        ApolloSettings(portal_url=url)


def test_url_credentials_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigCentreError) as info:
        ApolloSettings.from_env({"PYVELA_APOLLO_PORTAL_URL": "http://admin:s3cr3t-pw@apollo:8070/"})
    err = info.value
    text = str(err) + repr(err.to_dict()) + repr(err.args)
    assert "s3cr3t-pw" not in text and "admin" not in text
    assert "PYVELA_APOLLO_PORTAL_URL" in err.message and "PYVELA_APOLLO_TOKEN" in (err.fix or "")
    assert "http://apollo:8070" in (err.fix or "")


@pytest.mark.parametrize(
    ("token", "what"),
    [
        ("abc\ndef-planted-token", "line break"),
        ("abc\udcffdef-planted-token", "non-printable or non-ASCII"),
        (b"\xff\xfeplanted-token", "not ASCII"),
        ("abc def-planted-token", "whitespace"),
    ],
)
def test_unusable_token_is_refused_before_any_request(
    apollo_server: ApolloServer, token: str | bytes, what: str
) -> None:
    settings = apollo_settings(apollo_server, token_provider=lambda: token)  # type: ignore[arg-type,return-value]
    with ApolloConfigCentre(settings) as centre, pytest.raises(ConfigAuthError) as info:
        centre.register(TARGET, ITEMS, release_title="t")
    err = info.value
    assert err.transient is False and what in err.message
    assert "the token provider" in err.message or "$" in err.message
    assert "planted-token" not in str(err) + repr(err.to_dict())
    assert apollo_server.requests == []


def test_unusable_secret_from_the_environment_names_the_variable(
    apollo_server: ApolloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYVELA_APOLLO_SECRET", "se\ncret-planted")
    settings = apollo_settings(apollo_server)
    with ApolloConfigCentre(settings) as centre, pytest.raises(ConfigAuthError) as info:
        centre.read(TARGET)
    assert "$PYVELA_APOLLO_SECRET" in info.value.message
    assert "planted" not in str(info.value)


def test_a_provider_that_raises_is_reported_without_its_message(apollo_server: ApolloServer) -> None:
    def provider() -> str:
        raise ValueError("could not parse planted-token-value")

    with (
        ApolloConfigCentre(apollo_settings(apollo_server, token_provider=provider)) as centre,
        pytest.raises(ConfigAuthError) as info,
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    assert "ValueError" in str(info.value) and "planted" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET http://user:pw-planted@host:8070/x failed", "pw-planted"),
        ("echo: Authorization: Basic dXNlcjpwdy1wbGFudGVk", "dXNlcjpwdy1wbGFudGVk"),
        ('{"authorization": "Bearer planted.jwt.value"}', "planted.jwt.value"),
        ("header Authorization=Apollo app:c2lnbmF0dXJl", "c2lnbmF0dXJl"),
        ("token: planted-token", "planted-token"),
    ],
)
def test_redactor_removes_credentials(text: str, secret: str) -> None:
    assert secret not in redact(text)
    err = ConfigCentreError(text, got=text, fix=text, expected=text, detail=text)
    assert secret not in str(err) + repr(err.to_dict()) + repr(err.args)


def test_redactor_leaves_ordinary_text_alone() -> None:
    text = "set $PYVELA_APOLLO_TOKEN to the token of an app at http://apollo:8070/open/manage.html"
    assert redact(text) == text


def test_apollo_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("pyvela.apollo").warning("server echoed %s", "Authorization: Basic cGxhbnRlZDpwdw==")
    assert all("cGxhbnRlZDpwdw==" not in r.getMessage() for r in caplog.records)
    assert caplog.records
