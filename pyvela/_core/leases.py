"""Whether a Lease (``coordination.k8s.io/v1``) is held: renewed within its duration by a
holder that is still alive.

pyvela's holders are ``host:pid:...``: a holder on this host whose process is gone holds
nothing, whatever its last renewal says (a killed run frees its app at once). Holders on
other hosts are trusted until their renewals stop.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def renewed_within(spec: Mapping[str, Any], default_seconds: float) -> bool:
    """Whether the Lease was renewed less than its duration ago (``default_seconds`` if unset)."""
    renew = spec.get("renewTime")
    if not renew:
        return False
    try:
        at = datetime.strptime(str(renew), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        duration = float(spec.get("leaseDurationSeconds") or default_seconds)
    except (TypeError, ValueError):
        return False
    return (datetime.now(UTC) - at).total_seconds() <= duration


def holder_alive(holder: str) -> bool:
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


def held_by(spec: Mapping[str, Any], default_seconds: float) -> str | None:
    """The holder of a Lease that is held; None when nobody holds it."""
    holder = str(spec.get("holderIdentity") or "")
    if holder and renewed_within(spec, default_seconds) and holder_alive(holder):
        return holder
    return None
