"""The Apollo config centre against the loopback Apollo: signing, registration, reads, settings."""

from __future__ import annotations

import httpx
import pytest
from apollo_server import (
    DEFAULT_TOKEN,
    ApolloServer,
    apollo_settings,
)

from pyvela._configcentre.apollo import ApolloConfigCentre, ApolloSettings, apollo_signature
from pyvela._configcentre.protocol import ConfigCentre, ConfigTarget
from pyvela.errors import ConfigAuthError, ConfigCentreError, ConfigNotFoundError

APP = "base-server"
TARGET = ConfigTarget(app_id=APP)
ITEMS = {"base-server.ip": "10.96.0.12", "base-server.port": "11223"}
SECRET = "df23df3f59884980844ff3dada30fa97"


def writes(server: ApolloServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests if r.method in ("PUT", "POST", "DELETE")]


# -- signing -------------------------------------------------------------------------------


def test_signature_matches_apollo_core_vector() -> None:
    # apollo-java: apollo-core SignatureTest.testSignature
    path = "/configs/100004458/default/application?ip=10.0.0.1"
    assert apollo_signature("1576478257344", path, SECRET) == "EoKyziXvKqzHgwx+ijDJwgVTDgE="


def test_signature_matches_apollo_configservice_vector() -> None:
    # apollo: apollo-configservice AccessKeyUtilTest.buildSignature
    path = "/configs/someAppId/default/application?ip=10.0.0.1"
    assert apollo_signature("1575018989200", path, "someSecret") == "WYjjyJFei6DYiaMlwZjew2O/Yqk="


# -- happy path and idempotence ------------------------------------------------------------


def test_centre_satisfies_protocol(centre: ApolloConfigCentre) -> None:
    as_protocol: ConfigCentre = centre
    assert "Apollo" in as_protocol.description


def test_register_writes_publishes_and_reads_back(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    release = centre.register(TARGET, ITEMS, release_title="register base-server", comment="by pyvela")

    assert release.changed is True
    assert dict(release.items) == ITEMS
    [published] = apollo_server.releases(APP)
    assert published.name == "register base-server"
    assert published.comment == "by pyvela"
    assert published.released_by == "apollo"
    assert published.configurations == ITEMS
    assert release.release_key == published.release_key
    assert dict(centre.read(TARGET)) == ITEMS


def test_register_again_changes_nothing(centre: ApolloConfigCentre, apollo_server: ApolloServer) -> None:
    first = centre.register(TARGET, ITEMS, release_title="first")
    writes_before = writes(apollo_server)

    again = centre.register(TARGET, ITEMS, release_title="second")

    assert again.changed is False
    assert again.release_key == first.release_key
    assert len(apollo_server.releases(APP)) == 1
    assert writes(apollo_server) == writes_before


def test_register_subset_of_released_keys_is_unchanged(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    centre.register(TARGET, ITEMS, release_title="first")
    again = centre.register(TARGET, {"base-server.port": "11223"}, release_title="second")
    assert again.changed is False
    assert dict(again.items) == ITEMS
    assert len(apollo_server.releases(APP)) == 1


def test_register_writes_only_differing_items(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    centre.register(TARGET, ITEMS, release_title="first")
    before = len(apollo_server.requests)

    release = centre.register(TARGET, {**ITEMS, "base-server.port": "11224"}, release_title="second")

    assert release.changed is True
    puts = [r.path for r in apollo_server.requests[before:] if r.method == "PUT"]
    assert puts == [
        f"/openapi/v1/envs/DEV/apps/{APP}/clusters/default/namespaces/application/items/base-server.port?createIfNotExists=true"
    ]
    assert len(apollo_server.releases(APP)) == 2
    assert centre.read(TARGET)["base-server.port"] == "11224"


def test_killed_between_write_and_publish_rerun_publishes_once(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    # A run that wrote the items and died before publishing.
    for key, value in ITEMS.items():
        centre.client.put_item(TARGET, key, value)
    assert apollo_server.releases(APP) == []
    with pytest.raises(ConfigNotFoundError):
        centre.read(TARGET)
    before = len(apollo_server.requests)

    release = centre.register(TARGET, ITEMS, release_title="rerun")

    assert release.changed is True
    assert len(apollo_server.releases(APP)) == 1
    assert not [r for r in apollo_server.requests[before:] if r.method == "PUT"]
    assert dict(centre.read(TARGET)) == ITEMS
    assert centre.register(TARGET, ITEMS, release_title="third").changed is False
    assert len(apollo_server.releases(APP)) == 1


def test_killed_after_previous_release_rerun_publishes_once(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    centre.register(TARGET, ITEMS, release_title="v1")
    centre.client.put_item(TARGET, "base-server.ip", "10.96.0.99")

    release = centre.register(TARGET, {**ITEMS, "base-server.ip": "10.96.0.99"}, release_title="v2")

    assert release.changed is True
    assert [r.name for r in apollo_server.releases(APP)] == ["v1", "v2"]


def test_released_configuration_excludes_unpublished_edits(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    centre.register(TARGET, ITEMS, release_title="v1")
    apollo_server.put_item(APP, "draft", "not yet")
    assert "draft" not in centre.read(TARGET)
    namespace = centre.client.get_namespace(TARGET)
    assert namespace.values["draft"] == "not yet"


def test_key_with_slash_goes_through_encoded_items(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    centre.register(TARGET, {"routes/base": "/api"}, release_title="slash")
    assert apollo_server.items(APP) == {"routes/base": "/api"}
    assert any("/encodedItems/" in r.path for r in apollo_server.requests)
    assert centre.client.get_item(TARGET, "routes/base").value == "/api"


def test_item_get_and_delete(centre: ApolloConfigCentre, apollo_server: ApolloServer) -> None:
    centre.client.put_item(TARGET, "k", "v", comment="note")
    item = centre.client.get_item(TARGET, "k")
    assert (item.key, item.value, item.comment, item.created_by) == ("k", "v", "note", "apollo")
    centre.client.delete_item(TARGET, "k")
    with pytest.raises(ConfigNotFoundError, match="item not found"):
        centre.client.get_item(TARGET, "k")
    assert "operator=apollo" in next(r.path for r in apollo_server.requests if r.method == "DELETE")


def test_delete_failing_after_commit_is_not_reported_as_missing(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    centre.client.put_item(TARGET, "k", "v")
    apollo_server.fail_next(1, 502, method="DELETE", after=True)
    centre.client.delete_item(TARGET, "k")
    assert apollo_server.items(APP) == {}
    assert len([r for r in apollo_server.requests if r.method == "DELETE"]) == 1


def test_latest_release_is_none_before_first_publish(centre: ApolloConfigCentre) -> None:
    assert centre.client.latest_release(TARGET) is None


def test_read_config_304_when_release_key_is_current(centre: ApolloConfigCentre) -> None:
    release = centre.register(TARGET, ITEMS, release_title="v1")
    assert centre.client.read_config(TARGET, release_key=release.release_key) is None
    config = centre.client.read_config(TARGET, release_key="stale")
    assert config is not None
    assert config.release_key == release.release_key


def test_config_service_falls_back_to_default_cluster(centre: ApolloConfigCentre) -> None:
    centre.register(TARGET, ITEMS, release_title="v1")
    assert dict(centre.read(ConfigTarget(app_id=APP, cluster="SHAJQ"))) == ITEMS


def test_target_uses_settings_defaults(centre: ApolloConfigCentre) -> None:
    assert centre.target() == TARGET
    assert centre.target(namespace="ops").namespace == "ops"


# -- settings from the environment ------------------------------------------------------------


def test_from_env_without_portal_is_none() -> None:
    assert ApolloSettings.from_env({}) is None
    assert ApolloConfigCentre.from_env({"PYVELA_APOLLO_CONFIG_URL": "http://c"}) is None


def test_from_env_reads_every_variable(apollo_server: ApolloServer) -> None:
    environ = {
        "PYVELA_APOLLO_PORTAL_URL": apollo_server.portal_url + "/",
        "PYVELA_APOLLO_CONFIG_URL": apollo_server.config_url,
        "PYVELA_APOLLO_ENV": "DEV",
        "PYVELA_APOLLO_APP_ID": APP,
        "PYVELA_APOLLO_NAMESPACE": "application",
        "PYVELA_APOLLO_OPERATOR": "apollo",
        "PYVELA_APOLLO_TOKEN": DEFAULT_TOKEN,
    }
    settings = ApolloSettings.from_env(environ)
    assert settings is not None
    assert (settings.portal_url, settings.env, settings.app_id, settings.operator) == (
        apollo_server.portal_url,
        "DEV",
        APP,
        "apollo",
    )
    assert DEFAULT_TOKEN not in repr(settings)
    centre = ApolloConfigCentre.from_env(environ)
    assert centre is not None
    with centre:
        assert centre.register(centre.target(), ITEMS, release_title="from env").changed is True


def test_from_env_without_token_names_the_variable(apollo_server: ApolloServer) -> None:
    environ = {"PYVELA_APOLLO_PORTAL_URL": apollo_server.portal_url, "PYVELA_APOLLO_APP_ID": APP}
    centre = ApolloConfigCentre.from_env(environ)
    assert centre is not None
    with centre, pytest.raises(ConfigAuthError) as info:
        centre.register(centre.target(), ITEMS, release_title="t")
    assert "$PYVELA_APOLLO_TOKEN" in str(info.value)
    assert "<environment variable $PYVELA_APOLLO_TOKEN>" in repr(centre.settings)


def test_redirect_is_reported_not_followed() -> None:
    def login_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://sso.example/login"})

    settings = ApolloSettings(portal_url="http://apollo", token_provider=lambda: DEFAULT_TOKEN)
    centre = ApolloConfigCentre(settings, transport=httpx.MockTransport(login_page))
    with centre, pytest.raises(ConfigCentreError, match="redirected") as info:
        centre.register(TARGET, ITEMS, release_title="t")
    assert "https://sso.example/login" in str(info.value)


def test_personal_access_token_uses_bearer_scheme(apollo_server: ApolloServer) -> None:
    pat = "apollo_pat_0123456789abcdef"
    apollo_server.tokens[pat] = None
    with ApolloConfigCentre(apollo_settings(apollo_server, token_provider=lambda: pat)) as centre:
        centre.register(TARGET, ITEMS, release_title="pat")
    assert apollo_server.requests[0].headers["Authorization"] == f"Bearer {pat}"


# -- the loopback server's own contract --------------------------------------------------------


def test_server_error_bodies_have_apollos_shapes(apollo_server: ApolloServer) -> None:
    ns = f"{apollo_server.portal_url}/openapi/v1/envs/DEV/apps/{APP}/clusters/default/namespaces/application"
    with httpx.Client() as http:
        unauthorized = http.get(ns)
        assert unauthorized.status_code == 401
        assert set(unauthorized.json()) == {"timestamp", "status", "error", "path"}
        auth = {"Authorization": DEFAULT_TOKEN}
        mismatch = http.put(
            ns + "/items/a",
            json={"key": "b", "value": "v", "dataChangeLastModifiedBy": "apollo"},
            headers=auth,
        )
        assert mismatch.status_code == 400
        body = mismatch.json()
        assert set(body) == {"exception", "message", "status", "timestamp"}
        assert body["message"] == "Key in path and payload is not consistent"
        assert body["exception"].endswith("BadRequestException")
        latest = http.get(ns + "/releases/latest", headers=auth)
        assert (latest.status_code, latest.content) == (200, b"")
        not_allowed = http.get(ns + "/releases", headers=auth)
        assert not_allowed.status_code == 405
