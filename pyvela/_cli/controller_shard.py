"""``--shard N/M``: the shard's filter and leader Lease for ``pyvela controller`` (imported by
the CLI module, so nothing heavy at import time)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvela.errors import ClusterError

if TYPE_CHECKING:
    from pyvela._backends.protocol import Backend
    from pyvela._controller.leader import LeaderElector
    from pyvela._controller.metrics import Metrics
    from pyvela._controller.shard import Shard

#: Where a pod finds its namespace (the service account's mount).
SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def lease_namespace(args: argparse.Namespace) -> str:
    if args.lease_namespace:
        return str(args.lease_namespace)
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    if args.in_cluster and SA_NAMESPACE.is_file():
        return SA_NAMESPACE.read_text().strip()
    return "pyvela-system"


def shard_leader(
    args: argparse.Namespace, backend: Backend, metrics: Metrics
) -> tuple[Shard, LeaderElector] | tuple[None, None]:
    """The shard this replica serves and its leader elector; (None, None) without ``--shard``
    (one replica for every app, as before sharding)."""
    if not args.shard:
        return None, None
    from prometheus_client import Gauge

    from pyvela._controller.leader import LeaderElector
    from pyvela._controller.shard import parse_shard
    from pyvela._core.objects import ObjectRef

    shard = parse_shard(args.shard, args.shard_label)
    namespace = lease_namespace(args)
    if backend.get(ObjectRef("v1", "Namespace", "", namespace)) is None:
        raise ClusterError(
            f"the namespace {namespace!r} for the shard's leader Lease does not exist",
            fix="create it, or give --lease-namespace NS (the install manifests use the controller's own)",
        )
    gauge = Gauge(
        "pyvela_shard_leader",
        "1 while this replica holds its shard's leader Lease, 0 while it stands by",
        ["shard"],
        registry=metrics.registry,
    ).labels(f"{shard.index}/{shard.count}")
    gauge.set(0)

    def on_change(leading: bool) -> None:
        gauge.set(1 if leading else 0)

    leader = LeaderElector(
        backend, shard.lease_name, namespace, duration=args.lease_duration, on_change=on_change
    )
    return shard, leader


def shard_kwargs(shard: Shard | None, leader: LeaderElector | None) -> dict[str, Any]:
    """The Controller's arguments for this shard (none without ``--shard``)."""
    if shard is None or leader is None:
        return {}
    return {"owns": shard.owns, "gate": leader.is_leading, "finalizer": shard.finalizer}


def check_shard(args: argparse.Namespace) -> None:
    """Bad ``--shard`` is one message before anything connects."""
    if args.shard_label and not args.shard:
        from pyvela.errors import PyvelaError

        raise PyvelaError("--shard-label needs --shard N/M", fix="give --shard N/M as well")
    if args.shard:
        from pyvela._controller.shard import parse_shard

        parse_shard(args.shard, args.shard_label)
