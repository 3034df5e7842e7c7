"""The status each Application was last written, so that the next reconcile compares with it.

kopf's body of a daemon is updated when the Application's watch delivers the event of our own
status write; under load that comes after the next reconcile (an owned object's event wakes
the app a debounce after its deploy), which then saw the old status, found it changed and
wrote the same status again. The status a write answered with is kept with the status it
replaced: while the body still shows the replaced one, the written one is the status to
compare with (and to shape and patch from); any other status in the body (our write arrived,
or someone else's did: ``vela workflow suspend``) is the truth again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any


def _digest(status: Mapping[str, Any]) -> str:
    return json.dumps(status, sort_keys=True, default=str)


class Written:
    """Thread-safe (the writes run on the status pool, the comparisons on the event loop)."""

    def __init__(self) -> None:
        #: key -> (the statuses a body may still show that our last write replaced, its answer)
        self._by_key: dict[str, tuple[frozenset[str], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def current(self, key: str, in_body: Mapping[str, Any]) -> dict[str, Any]:
        """The app's status as it is on the server, as far as we know: ``in_body`` unless it
        is one our writes replaced."""
        with self._lock:
            seen = self._by_key.get(key)
            if seen is None:
                return dict(in_body)
            digest = _digest(in_body)
            if digest in seen[0]:
                return dict(seen[1])
            if digest == _digest(seen[1]):
                del self._by_key[key]  # the body caught up
        return dict(in_body)

    def wrote(self, key: str, in_body: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
        """A write of ``key``'s status, made while the body showed ``in_body``, answered with ``answer``."""
        with self._lock:
            stale, last = self._by_key.get(key, (frozenset(), None))
            stale |= {_digest(in_body)} | ({_digest(last)} if last is not None else set())
            self._by_key[key] = (stale, dict(answer))

    def forget(self, key: str) -> None:
        with self._lock:
            self._by_key.pop(key, None)
