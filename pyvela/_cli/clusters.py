"""``pyvela clusters``: the clusters a run may target, their labels and whether they answer;
and :func:`cluster_set`, the one place the CLI's target arguments become a ClusterSet.

Nothing printed comes from a kubeconfig but context names and file paths.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from pyvela._backends.clusterfile import cluster_file_path
from pyvela._backends.clusters import ClusterSet, describe
from pyvela._backends.protocol import Backend

#: Seconds each cluster has to answer ``pyvela clusters`` (all are asked at once).
PROBE_TIMEOUT = 5.0


def cluster_set(
    args: argparse.Namespace, *, read: bool = False, opened: Mapping[str, Backend] | None = None
) -> ClusterSet:
    """The ClusterSet of the command's ``--context``/``--kubeconfig``/``--in-cluster``/``--sandbox``
    and cluster file (``--clusters``, $PYVELA_CLUSTERS, ./clusters.yaml).

    ``read``: the command only reads, so existing sandboxes are opened read-only.
    ``opened``: backends already open (``{"local": backend}`` from ``run.open_backend``), used as
    they are and left open by ``close()``.
    """
    context = getattr(args, "context", None)
    kubeconfig = getattr(args, "kubeconfig", None)
    in_cluster = bool(getattr(args, "in_cluster", False))
    if context or kubeconfig or in_cluster:
        from pyvela._cli.targets import check_kube_target

        check_kube_target(context=context, kubeconfig=kubeconfig, in_cluster=in_cluster)
    sandbox = getattr(args, "sandbox", None)
    return ClusterSet.discover(
        context=context,
        kubeconfig=kubeconfig,
        in_cluster=in_cluster,
        sandbox=Path(sandbox) if sandbox else None,
        cluster_file=cluster_file_path(getattr(args, "clusters", None)),
        read_only=read,
        opened=opened,
    )


def cmd_clusters(args: argparse.Namespace) -> int:
    clusters = cluster_set(args, read=True)
    try:
        names = clusters.names()
        reach = {r.name: r for r in clusters.probe_all(names, timeout=args.timeout)}
        rows = [
            {
                **describe(clusters.info(n)),
                "control": n == clusters.control,
                "reachable": reach[n].ok,
                "message": reach[n].message,
                "seconds": round(reach[n].seconds, 3),
            }
            for n in names
        ]
    finally:
        clusters.close()
    if args.output == "json":
        print(json.dumps({"control": clusters.control, "clusters": rows}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    from pyvela._cli.consoles import PipeConsole

    table = Table("cluster", "kind", "labels", "reachable", "where", box=None, header_style="bold")
    for row in rows:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(row["labels"].items()))
        table.add_row(
            row["name"] + (" (control)" if row["control"] else ""),
            row["kind"],
            labels or "-",
            ("yes: " if row["reachable"] else "NO: ") + row["message"],
            row["location"],
        )
    PipeConsole(highlight=False, width=None if Console().is_terminal else 200).print(table)
    return 0
