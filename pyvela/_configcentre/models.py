"""What the Apollo client returns: items, releases, namespaces and config-service reads.

These hold only what Apollo sent back (never a credential) and are parsed leniently:
Apollo versions differ in the extra fields they send, and only the ones used here are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from pyvela.errors import ConfigCentreError

__all__ = ["ApolloConfig", "ApolloItem", "ApolloNamespace", "ApolloRelease"]


def _frozen_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ApolloItem:
    """One configuration item as the portal holds it (possibly not yet published)."""

    key: str
    value: str
    comment: str = ""
    created_by: str = ""
    modified_by: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApolloItem:
        """Parse an ``OpenItemDTO``."""
        return cls(
            key=_text(data, "key"),
            value=_text(data, "value"),
            comment=_text(data, "comment"),
            created_by=_text(data, "dataChangeCreatedBy"),
            modified_by=_text(data, "dataChangeLastModifiedBy"),
        )


@attrs.frozen(kw_only=True)
class ApolloRelease:
    """A published release (``OpenReleaseDTO``); Apollo's Open API does not expose its releaseKey."""

    id: int | None
    app_id: str
    cluster: str
    namespace: str
    name: str
    comment: str
    released_by: str
    configurations: Mapping[str, str] = attrs.field(converter=_frozen_map)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApolloRelease:
        """Parse an ``OpenReleaseDTO``."""
        raw_id = data.get("id")
        return cls(
            id=raw_id if isinstance(raw_id, int) else None,
            app_id=_text(data, "appId"),
            cluster=_text(data, "clusterName"),
            namespace=_text(data, "namespaceName"),
            name=_text(data, "name"),
            comment=_text(data, "comment"),
            released_by=_text(data, "dataChangeCreatedBy"),
            configurations=_string_map(data.get("configurations"), "configurations"),
        )


@attrs.frozen(kw_only=True)
class ApolloNamespace:
    """A namespace as the portal holds it: its items include unpublished edits."""

    app_id: str
    cluster: str
    namespace: str
    format: str
    is_public: bool
    items: tuple[ApolloItem, ...]

    @property
    def values(self) -> Mapping[str, str]:
        """The items as key -> value (comment lines, which have no key, left out)."""
        return {item.key: item.value for item in self.items if item.key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApolloNamespace:
        """Parse an ``OpenNamespaceDTO``."""
        raw_items = data.get("items") or []
        if not isinstance(raw_items, list):
            raise _malformed("items", "a list", raw_items)
        return cls(
            app_id=_text(data, "appId"),
            cluster=_text(data, "clusterName"),
            namespace=_text(data, "namespaceName"),
            format=_text(data, "format") or "properties",
            is_public=bool(data.get("isPublic", False)),
            items=tuple(ApolloItem.from_json(item) for item in raw_items if isinstance(item, Mapping)),
        )


@attrs.frozen(kw_only=True)
class ApolloConfig:
    """What the config service serves to readers: the released configuration."""

    app_id: str
    cluster: str
    namespace: str
    release_key: str
    configurations: Mapping[str, str] = attrs.field(converter=_frozen_map)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApolloConfig:
        """Parse the config service's ``ApolloConfig`` answer."""
        return cls(
            app_id=_text(data, "appId"),
            cluster=_text(data, "cluster"),
            namespace=_text(data, "namespaceName"),
            release_key=_text(data, "releaseKey"),
            configurations=_string_map(data.get("configurations"), "configurations"),
        )


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _string_map(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _malformed(what, "a JSON object of strings", value)
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _malformed(what: str, expected: str, got: object) -> ConfigCentreError:
    return ConfigCentreError(
        f"Apollo answered with a malformed {what!r} field",
        expected=expected,
        got=type(got).__name__,
        fix="check that the URL points at an Apollo portal / config service",
    )
