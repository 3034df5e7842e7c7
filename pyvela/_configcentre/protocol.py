"""The configuration-centre contract used by workflow steps (register / read).

Two implementations: Apollo over its documented HTTP APIs (``pyvela._configcentre.apollo``) and the
sandbox's built-in centre (``pyvela._backends.sandbox``), used when no Apollo URL is configured.
Both keep Apollo's model: items are edited, then *published* as a release; readers see
only released configuration.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

import attrs


@attrs.frozen(kw_only=True)
class ConfigTarget:
    """Where configuration lives: Apollo's appId / env / cluster / namespace."""

    app_id: str
    env: str = "DEV"
    cluster: str = "default"
    namespace: str = "application"

    def __str__(self) -> str:
        return f"{self.app_id}/{self.env}/{self.cluster}/{self.namespace}"


@attrs.frozen(kw_only=True)
class Release:
    """The outcome of a registration.

    Attributes:
        release_key: The key of the release now visible to readers.
        changed: False when every item already had this value and nothing was published.
        items: The released configuration (all keys of the namespace).
    """

    release_key: str
    changed: bool
    items: Mapping[str, str]


class ConfigCentre(Protocol):
    """A configuration centre with Apollo's edit-then-publish model."""

    description: str

    def register(
        self, target: ConfigTarget, items: Mapping[str, str], *, release_title: str, comment: str = ""
    ) -> Release:
        """Write ``items`` and publish them, idempotently.

        When the released configuration already holds every key with the same value,
        nothing is written and no release is made (``changed`` is False). When the items
        were written but not published (a run killed in between), this publishes them.
        """
        ...

    def unregister(
        self, target: ConfigTarget, keys: Collection[str], *, release_title: str, comment: str = ""
    ) -> Release:
        """Remove ``keys`` and publish the rest, idempotently (when an app is deleted).

        Keys that are neither in the items nor in the latest release change nothing, and
        no release is made (``changed`` is False).
        """
        ...

    def read(self, target: ConfigTarget) -> Mapping[str, str]:
        """The released configuration; ConfigNotFoundError before the first release."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
