"""The Apollo configuration centre, behind pyvela's :class:`~pyvela._configcentre.protocol.ConfigCentre`.

Registration follows Apollo's edit-then-publish model through the portal's Open API and
is idempotent: when the latest release already holds every item nothing is written;
otherwise only the differing items are written and the namespace is published once.
A run killed between writing and publishing leaves edits that the next run finds
already in place, so it only publishes. Reads go through the config service, as any
Apollo client's would, signed with the app's access key when one is configured.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping

import httpx

from pyvela._configcentre.client import ApolloClient
from pyvela._configcentre.models import ApolloConfig, ApolloItem, ApolloNamespace, ApolloRelease
from pyvela._configcentre.protocol import ConfigTarget, Release
from pyvela._configcentre.settings import ApolloSettings, RetryPolicy, apollo_signature
from pyvela.errors import ConfigCentreError, ConfigNotFoundError

__all__ = [
    "ApolloClient",
    "ApolloConfig",
    "ApolloConfigCentre",
    "ApolloItem",
    "ApolloNamespace",
    "ApolloRelease",
    "ApolloSettings",
    "RetryPolicy",
    "apollo_signature",
]

log = logging.getLogger("pyvela.apollo")

# Limits Apollo documents for the Open API; checked before anything is written so that a
# registration never stops half-way on a value Apollo would refuse.
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 20000
MAX_TITLE_LENGTH = 64
MAX_COMMENT_LENGTH = 256

_POLL_INTERVAL = 0.1


class ApolloConfigCentre:
    """A :class:`~pyvela._configcentre.protocol.ConfigCentre` backed by an Apollo installation.

    Args:
        settings: Portal / config-service URLs, default target and credential sources.
        client: An existing client to use (not closed by :meth:`close`).
        transport: httpx transport for the client this creates (tests).
        sleep: Called for backoff and propagation waits.
    """

    def __init__(
        self,
        settings: ApolloSettings,
        *,
        client: ApolloClient | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._owns_client = client is None
        self.client = (
            client if client is not None else ApolloClient(settings, transport=transport, sleep=sleep)
        )
        self._sleep = sleep
        self.description = f"Apollo {settings.portal_url} (env {settings.env})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApolloConfigCentre | None:
        """A centre from ``PYVELA_APOLLO_*`` variables; None when no portal URL is set."""
        settings = ApolloSettings.from_env(environ)
        return None if settings is None else cls(settings)

    def __repr__(self) -> str:
        return f"ApolloConfigCentre({self.description!r})"

    def target(
        self,
        *,
        app_id: str | None = None,
        env: str | None = None,
        cluster: str | None = None,
        namespace: str | None = None,
    ) -> ConfigTarget:
        """A target with the settings' defaults for whatever is not given."""
        resolved_app = app_id or self.settings.app_id
        if not resolved_app:
            raise ConfigCentreError(
                "no Apollo appId to address",
                expected="an appId",
                got="empty",
                fix="pass app_id or set PYVELA_APOLLO_APP_ID",
            )
        return ConfigTarget(
            app_id=resolved_app,
            env=env or self.settings.env,
            cluster=cluster or self.settings.cluster,
            namespace=namespace or self.settings.namespace,
        )

    def register(
        self, target: ConfigTarget, items: Mapping[str, str], *, release_title: str, comment: str = ""
    ) -> Release:
        """Write ``items`` and publish them, idempotently (see the module docstring).

        Raises:
            ConfigCentreError: An item or the title is invalid, or Apollo refused.
            ConfigAuthError: The token was rejected or lacks permission.
            ConfigNotFoundError: The app, cluster or namespace does not exist.
            ConfigTransientError: Apollo kept failing after retries.
        """
        desired = _validated(target, items, release_title, comment)
        # One deadline for the whole registration: its requests' retries share it.
        with self.client.operation():
            return self._register(target, desired, release_title, comment)

    def _register(
        self, target: ConfigTarget, desired: dict[str, str], release_title: str, comment: str
    ) -> Release:
        latest = self.client.latest_release(target)
        if latest is not None and _holds(latest.configurations, desired):
            log.info("apollo %s already holds %d item(s); nothing to publish", target, len(desired))
            return Release(
                release_key=self._visible_key(target, latest), changed=False, items=latest.configurations
            )

        current = self.client.get_namespace(target).values
        changed = [key for key, value in desired.items() if current.get(key) != value]
        for key in changed:
            self.client.put_item(target, key, desired[key], comment=comment)
        if not changed:
            log.info("apollo %s: items were written but not published; publishing", target)
        release = self.client.publish_release(target, title=release_title, comment=comment, previous=latest)
        if not _holds(release.configurations, desired):
            missing = sorted(k for k, v in desired.items() if release.configurations.get(k) != v)
            raise ConfigCentreError(
                f"the release published for {target} does not hold the registered items",
                expected="every registered key with its value",
                got=f"different or missing: {', '.join(missing)}",
                fix="someone edited the namespace at the same time; run again",
                target=str(target),
            )
        log.info("apollo %s: wrote %d item(s), published %r", target, len(changed), release_title)
        return Release(
            release_key=self._visible_key(target, release), changed=True, items=release.configurations
        )

    def unregister(
        self, target: ConfigTarget, keys: Collection[str], *, release_title: str, comment: str = ""
    ) -> Release:
        """Delete ``keys`` from the namespace and publish, idempotently (see the protocol)."""
        with self.client.operation():
            latest = self.client.latest_release(target)
            released = latest.configurations if latest is not None else {}
            current = self.client.get_namespace(target).values
            present = [k for k in keys if k in current]
            if not present and not any(k in released for k in keys):
                key = self._visible_key(target, latest) if latest is not None else ""
                return Release(release_key=key, changed=False, items=released)
            for k in present:
                self.client.delete_item(target, k)
            release = self.client.publish_release(
                target, title=release_title, comment=comment, previous=latest
            )
        log.info("apollo %s: removed %d item(s), published %r", target, len(present), release_title)
        return Release(
            release_key=self._visible_key(target, release), changed=True, items=release.configurations
        )

    def read(self, target: ConfigTarget) -> Mapping[str, str]:
        """The released configuration, from the config service.

        Raises:
            ConfigNotFoundError: Nothing was released yet.
            ConfigAuthError: The access-key signature was rejected.
        """
        self._check_config_env(target)
        with self.client.operation():
            config = self.client.read_config(target)
        if config is None:  # only possible when a releaseKey is sent; read sends none
            raise ConfigCentreError(f"Apollo answered 304 to an unconditional read of {target}")
        return config.configurations

    def close(self) -> None:
        """Close the HTTP connections (of a client this centre created)."""
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> ApolloConfigCentre:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_config_env(self, target: ConfigTarget) -> None:
        if target.env != self.settings.env:
            raise ConfigCentreError(
                f"cannot read {target}: the configured config service serves env {self.settings.env}",
                expected=f"env {self.settings.env}",
                got=f"env {target.env}",
                fix=f"point PYVELA_APOLLO_CONFIG_URL at the config service of {target.env} and set "
                f"PYVELA_APOLLO_ENV={target.env}",
                target=str(target),
            )

    def _visible_key(self, target: ConfigTarget, release: ApolloRelease) -> str:
        """The releaseKey readers get for ``release`` (the Open API does not report it)."""
        if self.settings.config_url is None or target.env != self.settings.env:
            return _fallback_key(release)
        deadline = time.monotonic() + self.settings.propagation_timeout
        while True:
            config: ApolloConfig | None
            try:
                config = self.client.read_config(target)
            except ConfigNotFoundError:
                config = None
            except ConfigCentreError as err:
                # The release landed; a reader-side problem (signature, outage) must not
                # fail the registration. read() reports it with its full context.
                log.warning("apollo config service unreadable after publishing %s: %s", target, err.message)
                return _fallback_key(release)
            if config is not None and dict(config.configurations) == dict(release.configurations):
                return config.release_key
            if time.monotonic() >= deadline:
                log.warning(
                    "apollo config service does not serve the release of %s yet; reporting %s",
                    target,
                    _fallback_key(release),
                )
                return _fallback_key(release)
            self._sleep(_POLL_INTERVAL)


def _holds(released: Mapping[str, str], desired: Mapping[str, str]) -> bool:
    return all(released.get(key) == value for key, value in desired.items())


def _fallback_key(release: ApolloRelease) -> str:
    if release.id is not None:
        return f"apollo-release-{release.id}"
    digest = hashlib.sha1(json.dumps(dict(release.configurations), sort_keys=True).encode()).hexdigest()
    return f"apollo-config-{digest[:16]}"


def _validated(
    target: ConfigTarget, items: Mapping[str, str], release_title: str, comment: str
) -> dict[str, str]:
    def invalid(what: str, expected: str, got: str, fix: str) -> ConfigCentreError:
        return ConfigCentreError(
            f"cannot register {what} in Apollo {target}",
            expected=expected,
            got=got,
            fix=fix,
            target=str(target),
        )

    if not isinstance(items, Mapping):
        raise invalid("the items", "a mapping of str to str", type(items).__name__, "pass a dict")
    desired: dict[str, str] = {}
    for key, value in items.items():
        if not isinstance(key, str) or not key.strip():
            raise invalid(f"key {key!r}", "a non-empty string key", repr(key), "fix the key")
        if len(key) > MAX_KEY_LENGTH:
            raise invalid(
                f"key {key[:20]!r}...",
                f"at most {MAX_KEY_LENGTH} characters",
                f"{len(key)}",
                "shorten the key",
            )
        if not isinstance(value, str):
            raise invalid(
                f"key {key!r}",
                "a str value (Apollo stores text)",
                type(value).__name__,
                "convert the value to a string (e.g. str() or json.dumps())",
            )
        if len(value) > MAX_VALUE_LENGTH:
            raise invalid(
                f"key {key!r}",
                f"a value of at most {MAX_VALUE_LENGTH} characters",
                f"{len(value)}",
                "store a smaller value",
            )
        desired[key] = value
    if not release_title.strip() or len(release_title) > MAX_TITLE_LENGTH:
        raise invalid(
            "a release",
            f"a release title of 1..{MAX_TITLE_LENGTH} characters",
            f"{len(release_title)} characters",
            "shorten the release title",
        )
    if len(comment) > MAX_COMMENT_LENGTH:
        raise invalid(
            "a release",
            f"a comment of at most {MAX_COMMENT_LENGTH} characters",
            f"{len(comment)}",
            "shorten the comment",
        )
    return desired
