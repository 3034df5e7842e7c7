"""What keeps the sandbox from reporting a cluster that is gone: a reset refuses while a
pyvela run holds an app's Lease, and a corrupt database is moved aside, never deleted."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyvela._backends.sandbox.store import Row
from pyvela.errors import LockedError

LEASE_GROUP = "coordination.k8s.io"
#: The name prefix of the Leases pyvela runs hold (one per app; see the workflow's AppLock).
LEASE_PREFIX = "pyvela-lock."


def _renewed_within(spec: dict[str, Any]) -> bool:
    renew = spec.get("renewTime")
    try:
        at = datetime.strptime(str(renew), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        duration = float(spec.get("leaseDurationSeconds") or 0)
    except (TypeError, ValueError):
        return False
    return (datetime.now(UTC) - at).total_seconds() <= duration


def _holder_alive(holder: str) -> bool:
    """A holder on this host (``host:pid:...``) is alive while its process is; others are trusted."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def refuse_if_leased(leases: Iterable[Row], root: Path) -> None:
    """LockedError naming every app whose run holds a live Lease in this sandbox."""
    live = []
    for row in leases:
        if not row.name.startswith(LEASE_PREFIX):
            continue
        spec = row.body.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        holder = str(spec.get("holderIdentity") or "")
        if holder and _renewed_within(spec) and _holder_alive(holder):
            live.append(f"{row.ns}/{row.name.removeprefix(LEASE_PREFIX)} (held by {holder})")
    if live:
        raise LockedError(
            f"refusing to reset the sandbox {root}: a pyvela run is changing "
            f"{'these apps' if len(live) > 1 else 'this app'}: {', '.join(live)}",
            file=str(root),
            fix="wait for the run to finish, or pass --force (the run then fails: its objects are gone)",
        )
