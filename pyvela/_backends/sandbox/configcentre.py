"""The sandbox's built-in configuration centre, with Apollo's model.

Items are edited per (appId, env, cluster, namespace); a *release* snapshots all items of
the namespace under a release key; readers see only the latest release. Everything lives
in the sandbox database, so later pyvela commands (``status``) see what ``deploy`` wrote.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Collection, Mapping

from pyvela._backends.sandbox.rows import dumps
from pyvela._backends.sandbox.store import Store
from pyvela._configcentre.protocol import ConfigTarget, Release
from pyvela.errors import ConfigCentreError, ConfigNotFoundError


def _target_args(target: ConfigTarget) -> tuple[str, str, str, str]:
    return target.app_id, target.env, target.cluster, target.namespace


_WHERE = "app_id=? AND env=? AND cluster=? AND namespace=?"
_LATEST = "SELECT {columns} FROM config_releases WHERE " + _WHERE + " ORDER BY id DESC LIMIT 1"


class SandboxConfigCentre:
    """A :class:`~pyvela._configcentre.protocol.ConfigCentre` stored in the sandbox database."""

    description = "sandbox config centre"

    def __init__(self, store: Store) -> None:
        self._store = store

    def register(
        self, target: ConfigTarget, items: Mapping[str, str], *, release_title: str, comment: str = ""
    ) -> Release:
        bad = {k: v for k, v in items.items() if not isinstance(k, str) or not isinstance(v, str) or not k}
        if bad:
            raise ConfigCentreError(
                "configuration items must map non-empty string keys to string values",
                expected="dict[str, str]",
                got=repr(bad),
                target=str(target),
            )
        args = _target_args(target)
        with self._store.write() as conn:
            latest = conn.execute(
                f"SELECT release_key, items FROM config_releases WHERE {_WHERE} ORDER BY id DESC LIMIT 1",
                args,
            ).fetchone()
            released: dict[str, str] = json.loads(latest[1]) if latest else {}
            if latest is not None and all(released.get(k) == v for k, v in items.items()):
                return Release(release_key=latest[0], changed=False, items=released)
            conn.executemany(
                "INSERT OR REPLACE INTO config_items VALUES (?, ?, ?, ?, ?, ?)",
                [(*args, key, value) for key, value in items.items()],
            )
            working = dict(
                conn.execute(f"SELECT key, value FROM config_items WHERE {_WHERE} ORDER BY key", args)
            )
            now = time.time()
            release_key = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}-{uuid.uuid4().hex[:16]}"
            conn.execute(
                "INSERT INTO config_releases (app_id, env, cluster, namespace, release_key, title, comment, "
                "items, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*args, release_key, release_title, comment, dumps(working), now),
            )
        return Release(release_key=release_key, changed=True, items=working)

    def unregister(
        self, target: ConfigTarget, keys: Collection[str], *, release_title: str, comment: str = ""
    ) -> Release:
        args = _target_args(target)
        with self._store.write() as conn:
            latest = conn.execute(
                f"SELECT release_key, items FROM config_releases WHERE {_WHERE} ORDER BY id DESC LIMIT 1",
                args,
            ).fetchone()
            released: dict[str, str] = json.loads(latest[1]) if latest else {}
            working = dict(conn.execute(f"SELECT key, value FROM config_items WHERE {_WHERE}", args))
            if not any(k in released or k in working for k in keys):
                return Release(release_key=latest[0] if latest else "", changed=False, items=released)
            conn.executemany(f"DELETE FROM config_items WHERE {_WHERE} AND key=?", [(*args, k) for k in keys])
            remaining = {k: v for k, v in sorted(working.items()) if k not in keys}
            now = time.time()
            release_key = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}-{uuid.uuid4().hex[:16]}"
            conn.execute(
                "INSERT INTO config_releases (app_id, env, cluster, namespace, release_key, title, comment, "
                "items, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*args, release_key, release_title, comment, dumps(remaining), now),
            )
        return Release(release_key=release_key, changed=True, items=remaining)

    def read(self, target: ConfigTarget) -> Mapping[str, str]:
        store = self._store
        with store.cond:
            latest = store.conn.execute(
                f"SELECT items FROM config_releases WHERE {_WHERE} ORDER BY id DESC LIMIT 1",
                _target_args(target),
            ).fetchone()
        if latest is None:
            raise ConfigNotFoundError(
                f"no release of {target} in the sandbox config centre",
                target=str(target),
                fix="register the configuration first (a workflow step that registers it must run before)",
            )
        items: dict[str, str] = json.loads(latest[0])
        return items

    def close(self) -> None:
        """Nothing to release: the database belongs to the sandbox."""
