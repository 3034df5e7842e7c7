"""Which shard of ``--shard N/M`` an Application belongs to, and the shard's names.

An app is pinned to shard ``K`` by the label ``pyvela.dev/shard: "K"`` (``--shard-label``
names another key); otherwise its shard is a stable hash of ``namespace/name``: the first 8
bytes of its SHA-256, big-endian, modulo ``M``. Not Python's ``hash()``: that is salted per
process, and every replica (and every version of pyvela) must agree.

With more than one shard each shard has a finalizer of its own (kopf removes its finalizer
from a resource none of its handlers wants, so one name would let shard 0 strip shard 1's).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._controller.crd import FINALIZER
from pyvela.errors import PyvelaError

DEFAULT_LABEL = "pyvela.dev/shard"
#: The finalizers pyvela's controllers use (the unsharded one and every shard's).
_OURS = re.compile(r"^pyvela\.dev/(?:finalizer|shard-\d+-of-(\d+))$")


def shard_of(namespace: str, name: str, count: int) -> int:
    """The shard of ``namespace/name`` among ``count`` by the stable hash."""
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


@attrs.frozen(kw_only=True)
class Shard:
    """Shard ``index`` of ``count``; ``label`` pins an app to a shard by its value."""

    index: int
    count: int
    label: str = DEFAULT_LABEL

    @property
    def lease_name(self) -> str:
        return f"pyvela-controller-shard-{self.index}-of-{self.count}"

    @property
    def finalizer(self) -> str:
        return FINALIZER if self.count == 1 else f"pyvela.dev/shard-{self.index}-of-{self.count}"

    def pinned(self, labels: Mapping[str, Any]) -> int | None:
        """The shard the label pins an app to (None: no label, or not a shard of ``count``)."""
        value = str(labels.get(self.label, "")).strip()
        if value.isdigit() and int(value) < self.count:
            return int(value)
        return None

    def shard_for(self, body: Mapping[str, Any]) -> int:
        meta = body.get("metadata") or {}
        pinned = self.pinned(meta.get("labels") or {})
        if pinned is not None:
            return pinned
        return shard_of(str(meta.get("namespace") or ""), str(meta.get("name") or ""), self.count)

    def owns(self, body: Mapping[str, Any]) -> bool:
        return self.shard_for(body) == self.index


def parse_shard(text: str, label: str | None = None) -> Shard:
    """``N/M`` with ``0 <= N < M``; a clear error otherwise."""
    index, sep, count = text.strip().partition("/")
    if not sep or not index.isdigit() or not count.isdigit():
        raise PyvelaError(
            "--shard must be N/M",
            expected="two whole numbers, e.g. 0/3 (shard 0 of 3)",
            got=text,
            fix="give --shard N/M with N from 0 to M-1",
        )
    n, m = int(index), int(count)
    if m < 1 or n >= m:
        raise PyvelaError(
            f"--shard {text}: there is no shard {n} of {m}",
            expected=f"N from 0 to {max(m - 1, 0)} and M at least 1",
            got=text,
            fix=f"shards are numbered from 0: use --shard 0/{max(m, 1)} … {max(m, 1) - 1}/{max(m, 1)}",
        )
    return Shard(index=n, count=m, label=label or DEFAULT_LABEL)


def _layout(finalizer: str) -> int | None:
    """The shard count a pyvela finalizer belongs to (1: the unsharded one); None: not ours."""
    found = _OURS.match(finalizer)
    if found is None:
        return None
    return int(found.group(1)) if found.group(1) else 1


def stale_finalizers(body: Mapping[str, Any], own: str) -> list[str]:
    """pyvela finalizers on the resource left by another shard layout (another M, or the
    unsharded controller), which no running controller would ever remove. Another shard of
    this layout's finalizer is not stale: an app relabelled onto this shard keeps the old
    shard's until that shard's kopf lets the app go (and it does)."""
    count = _layout(own)
    finalizers = (body.get("metadata") or {}).get("finalizers") or []
    return [f for f in finalizers if isinstance(f, str) and _layout(f) not in (None, count)]
