"""A synchronous client for Apollo's documented HTTP APIs.

Two services: the portal's Open API (``{portal}/openapi/v1``, token in the
``Authorization`` header) edits items and publishes releases; the config service
(``{config}/configs/...``, optionally signed with the app's access key) serves what was
released. Requests, retries and the operation deadline are :mod:`.transport`'s.
"""

from __future__ import annotations

from typing import Literal

from pyvela._configcentre.errors import (
    json_object,
)
from pyvela._configcentre.models import ApolloConfig, ApolloItem, ApolloNamespace, ApolloRelease
from pyvela._configcentre.paths import config_path, item_path, namespace_path
from pyvela._configcentre.protocol import ConfigTarget
from pyvela._configcentre.transport import ApolloTransport
from pyvela.errors import (
    ConfigCentreError,
    ConfigNotFoundError,
)

__all__ = ["ApolloClient"]


class ApolloClient(ApolloTransport):
    """Apollo's Open API and config service, with error mapping and retries.

    Args:
        settings: Where Apollo is and where the credentials come from.
        transport: An httpx transport (tests use a mock or the loopback server).
        sleep: Called for backoff delays.
        clock: Seconds since the epoch; signs config-service requests.
    """

    # -- Open API (portal) ------------------------------------------------------------

    def get_item(self, target: ConfigTarget, key: str) -> ApolloItem:
        """One item as edited in the portal (published or not); ConfigNotFoundError if absent."""
        response = self._call("GET", item_path(target, key), what="read item", target=target, key=key)
        data = json_object(response, allow_empty=True)
        if data is None:
            raise ConfigNotFoundError(
                f"Apollo has no item {key!r} in {target}",
                fix="write it first (register) or check the key",
                target=str(target),
                key=key,
            )
        return ApolloItem.from_json(data)

    def put_item(
        self, target: ConfigTarget, key: str, value: str, *, comment: str = "", create: bool = True
    ) -> None:
        """Create or update one item (unpublished until :meth:`publish_release`)."""
        operator = self.settings.operator
        body = {
            "key": key,
            "value": value,
            "comment": comment,
            "dataChangeLastModifiedBy": operator,
            "dataChangeCreatedBy": operator,
        }
        params = {"createIfNotExists": "true" if create else "false"}
        self._call(
            "PUT",
            item_path(target, key),
            what="write item",
            target=target,
            key=key,
            params=params,
            body=body,
        )

    def delete_item(self, target: ConfigTarget, key: str) -> None:
        """Delete one item (unpublished until :meth:`publish_release`); ConfigNotFoundError if absent."""

        def already_deleted() -> bool:
            # A retry after a failure that deleted anyway would answer 404.
            try:
                self.get_item(target, key)
            except ConfigNotFoundError:
                return True
            return False

        self._send(
            "DELETE",
            item_path(target, key),
            what="delete item",
            target=target,
            key=key,
            params={"operator": self.settings.operator},
            ambiguous_check=already_deleted,
        )

    def get_namespace(self, target: ConfigTarget) -> ApolloNamespace:
        """The namespace with its current items, unpublished edits included."""
        response = self._call("GET", namespace_path(target), what="read namespace", target=target)
        data = json_object(response, allow_empty=True)
        if data is None:
            raise ConfigNotFoundError(
                f"Apollo returned no namespace for {target}",
                fix="check that the token may read this namespace",
                target=str(target),
            )
        return ApolloNamespace.from_json(data)

    def latest_release(self, target: ConfigTarget) -> ApolloRelease | None:
        """The latest active release, or None before the first one."""
        path = namespace_path(target) + "/releases/latest"
        response = self._call("GET", path, what="read latest release", target=target)
        data = json_object(response, allow_empty=True)
        return None if data is None else ApolloRelease.from_json(data)

    def publish_release(
        self,
        target: ConfigTarget,
        *,
        title: str,
        comment: str = "",
        previous: ApolloRelease | Literal["unknown"] | None = "unknown",
    ) -> ApolloRelease:
        """Publish the namespace's current items as a new release.

        Publishing is not idempotent, so a failure after which Apollo may have published
        anyway (5xx, read timeout) is not blindly retried: the latest release is compared
        with ``previous`` (the latest release before this call; fetched when "unknown")
        and a release that landed is returned instead of publishing twice.
        """
        if previous == "unknown":
            previous = self.latest_release(target)
        before = previous
        landed: list[ApolloRelease] = []

        def already_published() -> bool:
            latest = self.latest_release(target)
            if latest is not None and latest != before:
                landed.append(latest)
                return True
            return False

        body = {"releaseTitle": title, "releaseComment": comment, "releasedBy": self.settings.operator}
        response = self._send(
            "POST",
            namespace_path(target) + "/releases",
            what="publish release",
            target=target,
            body=body,
            ambiguous_check=already_published,
        )
        if response is None:
            return landed[0]
        data = json_object(response, allow_empty=True)
        if data is None:
            latest = self.latest_release(target)
            if latest is None:
                raise ConfigCentreError(
                    f"Apollo accepted the release of {target} but shows no release",
                    fix="check the namespace in the Apollo portal",
                    target=str(target),
                )
            return latest
        return ApolloRelease.from_json(data)

    # -- config service (readers) -------------------------------------------------------

    def read_config(self, target: ConfigTarget, *, release_key: str | None = None) -> ApolloConfig | None:
        """The released configuration as readers see it; None when ``release_key`` is current.

        Raises ConfigNotFoundError before the first release.
        """
        if self.settings.config_url is None:
            raise ConfigCentreError(
                f"cannot read {target}: no Apollo config service URL is configured",
                expected="a config service URL",
                got="none",
                fix="set PYVELA_APOLLO_CONFIG_URL to the config service of env "
                f"{target.env} (e.g. http://apollo-configservice:8080)",
                target=str(target),
            )
        path = config_path(target)
        params: dict[str, str] = {}
        if release_key is not None:
            params["releaseKey"] = release_key
        if self.settings.client_ip is not None:
            params["ip"] = self.settings.client_ip
        response = self._call(
            "GET", path, what="read configuration", target=target, params=params, service="config"
        )
        if response.status_code == 304:
            return None
        data = json_object(response, allow_empty=False)
        assert data is not None
        return ApolloConfig.from_json(data)
