"""Which configuration centre a command's steps talk to: Apollo when the app module or the
environment configures it, else the target's own (the sandbox has one)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import attrs

from pyvela._app.loader import LoadedApp
from pyvela._backends.protocol import Backend
from pyvela._configcentre.protocol import ConfigCentre
from pyvela._workflow.executor import ConfigSettings
from pyvela.errors import ConfigCentreError


def config_centre_for(
    backend: Backend, loaded: LoadedApp
) -> tuple[Callable[[], ConfigCentre], ConfigSettings]:
    """Apollo when the app module or the environment configures it; else the sandbox's own centre."""
    return centre_for(backend, app=loaded.app.name, module=loaded.module)


def centre_for(
    backend: Backend, *, app: str, module: Any = None
) -> tuple[Callable[[], ConfigCentre], ConfigSettings]:
    """As ``config_centre_for``, for app ``app`` whose module (``apollo = ...``) may be unknown."""
    # The settings alone: the client (and httpx under it) is imported only when the centre is
    # first used, not on every deploy that never talks to Apollo.
    from pyvela._configcentre.settings import ApolloSettings

    settings = getattr(module, "apollo", None)
    if not isinstance(settings, ApolloSettings):
        settings = ApolloSettings.from_env(os.environ)
    if settings is not None:
        chosen = settings
        for var, field in (
            ("PYVELA_APOLLO_TOKEN_SECRET", "token_provider"),
            ("PYVELA_APOLLO_SECRET_SECRET", "secret_provider"),
        ):
            where = os.environ.get(var)
            if where:
                provider = secret_provider(backend, where, var)
                chosen = (
                    attrs.evolve(chosen, token_provider=provider)
                    if field == "token_provider"
                    else attrs.evolve(chosen, secret_provider=provider)
                )
        config = ConfigSettings(app_id=chosen.app_id or app, env=chosen.env, namespace=chosen.namespace)

        def apollo() -> ConfigCentre:
            from pyvela._configcentre.apollo import ApolloConfigCentre

            return ApolloConfigCentre(chosen)

        return apollo, config
    config = ConfigSettings(app_id=app)
    factory = getattr(backend, "config_centre", None)
    if factory is not None:
        return factory, config

    def missing() -> ConfigCentre:
        raise ConfigCentreError(
            f"no configuration centre is configured for {backend.description}",
            fix="set PYVELA_APOLLO_PORTAL_URL and PYVELA_APOLLO_CONFIG_URL (and PYVELA_APOLLO_TOKEN), "
            "or define `apollo = ApolloSettings(...)` in the app module",
        )

    return missing, config


def secret_provider(backend: Backend, where: str, var: str) -> Callable[[], str | None]:
    """Read a credential from a Kubernetes Secret (``namespace/name/key``) each time it is needed.

    The value is never kept: it is fetched per use, so it cannot leak into state or logs.
    """
    parts = where.split("/")
    if len(parts) != 3 or not all(parts):
        raise ConfigCentreError(
            f"{var} must be namespace/name/key", got=repr(where), fix=f"e.g. {var}=default/apollo/token"
        )
    namespace, name, key = parts

    def read() -> str | None:
        from pyvela._core.objects import ObjectRef

        secret = backend.get(ObjectRef("v1", "Secret", namespace, name))
        if secret is None or key not in (secret.get("data") or {}):
            raise ConfigCentreError(
                f"the Secret {namespace}/{name} has no key {key!r} (from {var})",
                fix="create it, e.g. kubectl create secret generic ...",
            )
        return base64.b64decode(secret["data"][key]).decode()

    return read
