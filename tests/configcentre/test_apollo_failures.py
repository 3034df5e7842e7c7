"""The Apollo config centre when Apollo refuses or fails: auth, signing, retries, secrecy."""

from __future__ import annotations

import logging
import socket

import pytest
from apollo_server import (
    DEFAULT_TOKEN,
    FAST_RETRY,
    ApolloServer,
    RecordedSleeps,
    apollo_settings,
)

from pyvela._configcentre.apollo import (
    ApolloClient,
    ApolloConfigCentre,
    ApolloSettings,
    RetryPolicy,
    apollo_signature,
)
from pyvela._configcentre.protocol import ConfigTarget
from pyvela.errors import (
    ConfigAuthError,
    ConfigCentreError,
    ConfigNotFoundError,
    ConfigTransientError,
)

APP = "base-server"
TARGET = ConfigTarget(app_id=APP)
ITEMS = {"base-server.ip": "10.96.0.12", "base-server.port": "11223"}
SECRET = "df23df3f59884980844ff3dada30fa97"


# -- refusals -------------------------------------------------------------------------------


def test_wrong_token_is_auth_error(apollo_server: ApolloServer) -> None:
    with (
        ApolloConfigCentre(apollo_settings(apollo_server, token_provider=lambda: "wrong-token")) as centre,
        pytest.raises(ConfigAuthError, match="rejected the Open API token") as info,
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    err = info.value
    assert err.context["status"] == 401
    assert "the token provider" in str(err)
    assert "wrong-token" not in str(err)
    assert apollo_server.requests[0].reject_reason == "token"
    assert apollo_server.releases(APP) == []


def test_missing_token_fails_before_any_request(
    apollo_server: ApolloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYVELA_APOLLO_TOKEN", raising=False)
    with (
        ApolloConfigCentre(apollo_settings(apollo_server, token_provider=None)) as centre,
        pytest.raises(ConfigAuthError, match="no Apollo Open API token") as info,
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    assert "$PYVELA_APOLLO_TOKEN" in str(info.value)
    assert apollo_server.requests == []


def test_token_from_environment_variable(
    apollo_server: ApolloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYVELA_TEST_APOLLO_TOKEN", DEFAULT_TOKEN)
    settings = apollo_settings(apollo_server, token_provider=None, token_env="PYVELA_TEST_APOLLO_TOKEN")
    with ApolloConfigCentre(settings) as centre:
        assert centre.register(TARGET, ITEMS, release_title="t").changed is True


def test_token_without_grant_on_app_is_forbidden() -> None:
    server = ApolloServer(tokens={DEFAULT_TOKEN: ["other-app"]})
    server.add_app(APP)
    with (
        server,
        ApolloConfigCentre(apollo_settings(server)) as centre,
        pytest.raises(ConfigAuthError, match="may not") as info,
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    assert info.value.context["status"] == 403
    assert "Access Denied" in str(info.value)


def test_unknown_operator_is_reported_with_apollos_message(apollo_server: ApolloServer) -> None:
    with (
        ApolloConfigCentre(apollo_settings(apollo_server, operator="ghost")) as centre,
        pytest.raises(ConfigCentreError) as info,
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    err = info.value
    assert type(err) is ConfigCentreError
    assert "operator 'ghost'" in err.message
    assert err.got is not None and "user not exists for userName:ghost" in err.got
    assert err.fix is not None and "PYVELA_APOLLO_OPERATOR" in err.fix
    assert err.context["status"] == 400
    assert apollo_server.items(APP) == {}


def test_unknown_namespace_is_not_found(centre: ApolloConfigCentre) -> None:
    target = ConfigTarget(app_id=APP, namespace="no-such-namespace")
    with pytest.raises(ConfigNotFoundError) as info:
        centre.register(target, ITEMS, release_title="t")
    text = str(info.value)
    assert "no-such-namespace" in text
    assert (
        "namespace not found for appId:base-server clusterName:default namespaceName:no-such-namespace"
        in text
    )


def test_unknown_app_is_not_found(centre: ApolloConfigCentre) -> None:
    with pytest.raises(ConfigNotFoundError, match="namespace not found for appId:nobody"):
        centre.register(ConfigTarget(app_id="nobody"), ITEMS, release_title="t")


def test_read_before_first_release_is_not_found(centre: ApolloConfigCentre) -> None:
    with pytest.raises(ConfigNotFoundError, match="released no configuration") as info:
        centre.read(TARGET)
    assert info.value.context["status"] == 404


def test_read_of_other_env_than_config_service(centre: ApolloConfigCentre) -> None:
    with pytest.raises(ConfigCentreError, match="serves env DEV") as info:
        centre.read(ConfigTarget(app_id=APP, env="PRO"))
    assert info.value.got == "env PRO"


def test_read_without_config_url(apollo_server: ApolloServer) -> None:
    with ApolloConfigCentre(apollo_settings(apollo_server, config_url=None)) as centre:
        release = centre.register(TARGET, ITEMS, release_title="t")
        assert release.release_key == f"apollo-release-{apollo_server.releases(APP)[0].id}"
        with pytest.raises(ConfigCentreError, match="no Apollo config service URL"):
            centre.read(TARGET)


@pytest.mark.parametrize(
    ("items", "title", "comment", "expected"),
    [
        ({"": "v"}, "t", "", "non-empty string key"),
        ({"k" * 129: "v"}, "t", "", "at most 128"),
        ({"k": 1}, "t", "", "a str value"),
        ({"k": "v" * 20001}, "t", "", "at most 20000"),
        ({"k": "v"}, "", "", "release title"),
        ({"k": "v"}, "t" * 65, "", "release title"),
        ({"k": "v"}, "t", "c" * 257, "at most 256"),
    ],
)
def test_invalid_registration_is_refused_before_any_request(
    centre: ApolloConfigCentre,
    apollo_server: ApolloServer,
    items: dict[str, object],
    title: str,
    comment: str,
    expected: str,
) -> None:
    with pytest.raises(ConfigCentreError) as info:
        centre.register(TARGET, items, release_title=title, comment=comment)  # type: ignore[arg-type]
    assert expected in str(info.value)
    assert apollo_server.requests == []


# -- access-key signing ---------------------------------------------------------------------


def test_signed_read(apollo_server: ApolloServer) -> None:
    apollo_server.set_access_key(APP, SECRET)
    settings = apollo_settings(apollo_server, secret_provider=lambda: SECRET, client_ip="10.0.0.1")
    with ApolloConfigCentre(settings) as centre:
        centre.register(TARGET, ITEMS, release_title="t")
        assert dict(centre.read(TARGET)) == ITEMS
    reads = [r for r in apollo_server.requests if r.path.startswith("/configs/")]
    assert reads and all(r.status == 200 for r in reads)
    headers = {k.lower(): v for k, v in reads[-1].headers.items()}
    assert headers["authorization"].startswith(f"Apollo {APP}:")
    assert reads[-1].path == f"/configs/{APP}/default/application?ip=10.0.0.1"
    expected = apollo_signature(headers["timestamp"], reads[-1].path, SECRET)
    assert headers["authorization"] == f"Apollo {APP}:{expected}"


def test_signature_with_wrong_secret_is_rejected(apollo_server: ApolloServer) -> None:
    apollo_server.set_access_key(APP, SECRET)
    with ApolloConfigCentre(
        apollo_settings(apollo_server, secret_provider=lambda: "not-the-secret")
    ) as centre:
        centre.register(TARGET, ITEMS, release_title="t", comment="")
        with pytest.raises(ConfigAuthError, match="access-key signature") as info:
            centre.read(TARGET)
    assert apollo_server.requests[-1].reject_reason == "Unauthorized"
    assert "not-the-secret" not in str(info.value)
    assert "the secret provider" in str(info.value)


def test_unsigned_read_of_protected_app_is_rejected(apollo_server: ApolloServer) -> None:
    apollo_server.set_access_key(APP, SECRET)
    with (
        ApolloConfigCentre(apollo_settings(apollo_server, secret_env="PYVELA_TEST_UNSET_SECRET")) as centre,
        pytest.raises(ConfigAuthError) as info,
    ):
        centre.read(TARGET)
    assert "no secret configured" in str(info.value)
    assert "$PYVELA_TEST_UNSET_SECRET" in str(info.value)


@pytest.mark.parametrize(("offset", "accepted"), [(30.0, True), (-30.0, True), (61.0, False), (-61.0, False)])
def test_clock_skew_window(apollo_server: ApolloServer, offset: float, accepted: bool) -> None:
    apollo_server.set_access_key(APP, SECRET)
    settings = apollo_settings(apollo_server, secret_provider=lambda: SECRET)
    with ApolloConfigCentre(settings) as centre:
        centre.register(TARGET, ITEMS, release_title="t")
        apollo_server.clock_offset = offset
        if accepted:
            assert dict(centre.read(TARGET)) == ITEMS
        else:
            with pytest.raises(ConfigAuthError):
                centre.read(TARGET)
            assert apollo_server.requests[-1].reject_reason == "RequestTimeTooSkewed"


def test_each_retry_is_signed_afresh(apollo_server: ApolloServer, sleeps: RecordedSleeps) -> None:
    apollo_server.set_access_key(APP, SECRET)
    ticks = iter([1_000.0, 1_001.0, 1_002.0])
    settings = apollo_settings(apollo_server, secret_provider=lambda: SECRET)
    with ApolloClient(settings, sleep=sleeps, clock=lambda: next(ticks)) as client:
        apollo_server.fail_next(2, 503, path_contains="/configs/")
        with pytest.raises(ConfigAuthError):  # the third try is signed at t=1002 s: far too old
            client.read_config(TARGET)
    stamps = [r.headers.get("Timestamp") for r in apollo_server.requests]
    assert stamps == ["1000000", "1001000", "1002000"]


# -- transient failures -----------------------------------------------------------------------


def test_500_then_success_is_retried(
    centre: ApolloConfigCentre, apollo_server: ApolloServer, sleeps: RecordedSleeps
) -> None:
    apollo_server.fail_next(2, 500, path_contains="/items/")
    release = centre.register(TARGET, ITEMS, release_title="t")
    assert release.changed is True
    assert apollo_server.items(APP) == ITEMS
    assert sleeps.delays == [0.001, 0.002]
    assert len(apollo_server.releases(APP)) == 1


def test_persistent_500_gives_transient_error_after_bounded_attempts(
    centre: ApolloConfigCentre, apollo_server: ApolloServer, sleeps: RecordedSleeps
) -> None:
    apollo_server.fail_next(100, 500, path_contains="/releases/latest")
    with pytest.raises(ConfigTransientError) as info:
        centre.register(TARGET, ITEMS, release_title="t")
    err = info.value
    assert err.transient is True
    assert "4 attempt(s)" in err.message
    assert err.got is not None and err.got.startswith("HTTP 500")
    assert len(apollo_server.requests) == 4
    assert sleeps.delays == [0.001, 0.002, 0.004]


def test_total_timeout_bounds_retries(apollo_server: ApolloServer, sleeps: RecordedSleeps) -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.001, max_delay=0.01, total_timeout=0.0)
    with ApolloConfigCentre(apollo_settings(apollo_server, retry=policy), sleep=sleeps) as centre:
        apollo_server.fail_next(100, 502)
        with pytest.raises(ConfigTransientError, match="1 attempt"):
            centre.register(TARGET, ITEMS, release_title="t")
    assert len(apollo_server.requests) == 1


def test_429_is_retried_honouring_retry_after(
    centre: ApolloConfigCentre, apollo_server: ApolloServer, sleeps: RecordedSleeps
) -> None:
    apollo_server.fail_next(1, 429, path_contains="/releases", method="POST", retry_after="0.005")
    centre.register(TARGET, ITEMS, release_title="t")
    assert sleeps.delays == [0.005]
    assert len(apollo_server.releases(APP)) == 1


def test_persistent_429_is_transient(centre: ApolloConfigCentre, apollo_server: ApolloServer) -> None:
    apollo_server.fail_next(100, 429)
    with pytest.raises(ConfigTransientError, match="kept failing") as info:
        centre.read(TARGET)
    assert info.value.got is not None and "HTTP 429" in info.value.got


def test_publish_failing_before_commit_is_retried_once(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    apollo_server.fail_next(1, 500, path_contains="/releases", method="POST")
    release = centre.register(TARGET, ITEMS, release_title="t")
    assert release.changed is True
    assert len(apollo_server.releases(APP)) == 1
    assert len([r for r in apollo_server.requests if r.method == "POST"]) == 2


def test_publish_failing_after_commit_is_not_repeated(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    apollo_server.fail_next(1, 500, path_contains="/releases", method="POST", after=True)
    release = centre.register(TARGET, ITEMS, release_title="t")
    assert release.changed is True
    [published] = apollo_server.releases(APP)
    assert release.release_key == published.release_key
    assert len([r for r in apollo_server.requests if r.method == "POST"]) == 1


def test_connection_refused_is_transient(sleeps: RecordedSleeps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = ApolloSettings(
        portal_url=url, config_url=url, token_provider=lambda: DEFAULT_TOKEN, retry=FAST_RETRY
    )
    with (
        ApolloConfigCentre(settings, sleep=sleeps) as centre,
        pytest.raises(ConfigTransientError, match="4 attempt") as info,
    ):
        centre.register(TARGET, ITEMS, release_title="t")
    assert info.value.got is not None and "ConnectError" in info.value.got
    assert len(sleeps.delays) == 3


# -- secrets never leak -----------------------------------------------------------------------


def test_token_and_secret_never_leak(
    apollo_server: ApolloServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    apollo_server.set_access_key(APP, SECRET)
    token_values = [DEFAULT_TOKEN, "wrong-" + DEFAULT_TOKEN]
    errors: list[BaseException] = []
    returned: list[object] = []

    good = apollo_settings(apollo_server, secret_provider=lambda: SECRET)
    with ApolloConfigCentre(good) as centre:
        returned.append(centre.register(TARGET, ITEMS, release_title="t"))
        returned.append(centre.read(TARGET))
        returned.append(centre.client.get_namespace(TARGET))
        returned.append(centre.client.latest_release(TARGET))
        returned.extend([good, centre, centre.client])
        apollo_server.fail_next(FAST_RETRY.attempts, 500, path_contains="/releases/latest")
        with pytest.raises(ConfigTransientError) as transient:
            centre.register(TARGET, {"k": "v"}, release_title="t")
        errors.append(transient.value)
        for target in (ConfigTarget(app_id=APP, namespace="missing"), ConfigTarget(app_id="nobody")):
            with pytest.raises(ConfigNotFoundError) as missing:
                centre.register(target, ITEMS, release_title="t")
            errors.append(missing.value)

    bad_token = apollo_settings(
        apollo_server, token_provider=lambda: token_values[1], secret_provider=lambda: "x" + SECRET
    )
    with ApolloConfigCentre(bad_token) as centre:
        returned.extend([bad_token, centre])
        with pytest.raises(ConfigAuthError) as auth:
            centre.register(TARGET, ITEMS, release_title="t")
        errors.append(auth.value)
        with pytest.raises(ConfigAuthError) as signature:
            centre.read(TARGET)
        errors.append(signature.value)
    with ApolloConfigCentre(apollo_settings(apollo_server, operator="ghost")) as centre:
        with pytest.raises(ConfigCentreError) as operator:
            centre.register(TARGET, {"changed": "yes"}, release_title="t")
        errors.append(operator.value)

    secret_values = [*token_values, SECRET, "x" + SECRET]
    texts: list[str] = []
    for err in errors:
        assert err.__cause__ is None and err.__context__ is None
        texts += [str(err), repr(err), repr(getattr(err, "to_dict", dict)()), repr(vars(err))]
    texts += [repr(obj) for obj in returned]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    assert any("HTTP Request" in record.getMessage() for record in caplog.records)  # httpx did log
    for value in secret_values:
        for text in texts:
            assert value not in text

    # On the wire: the token only in the portal's Authorization header, the secret never.
    for request in apollo_server.requests:
        assert SECRET not in repr(request)
        for name, value in request.headers.items():
            if name.lower() == "authorization" and request.path.startswith("/openapi/"):
                continue
            assert DEFAULT_TOKEN not in value
        assert DEFAULT_TOKEN not in request.path
        assert DEFAULT_TOKEN not in request.body


def test_settings_repr_names_sources_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_APOLLO_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("PYVELA_APOLLO_SECRET", SECRET)
    settings = ApolloSettings(portal_url="http://apollo-portal:8070/")
    assert settings.portal_url == "http://apollo-portal:8070"
    assert "PYVELA_APOLLO_TOKEN" in repr(settings)
    assert DEFAULT_TOKEN not in repr(settings) and SECRET not in repr(settings)
