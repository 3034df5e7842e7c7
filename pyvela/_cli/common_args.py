"""Arguments several commands share: the target (cluster or sandbox) and HelmRelease charts.

Only argparse here: main imports this module on every start.
"""

from __future__ import annotations

import argparse


def chart_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-charts",
        action="store_true",
        help="do not open HelmReleases' charts with helm template (show each release alone)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="a HelmRelease's chart that cannot be opened is an error (default: a warning)",
    )


def target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--context", metavar="NAME", help="kubeconfig context of a real cluster")
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file of a real cluster")
    p.add_argument("--in-cluster", action="store_true", help="use the pod's service account")
    p.add_argument("--sandbox", metavar="DIR", help="sandbox directory (default .pyvela or $PYVELA_SANDBOX)")
    p.add_argument("-n", "--namespace", metavar="NS", help="override the app's namespace")
    p.add_argument(
        "--clusters",
        metavar="FILE",
        help="cluster file: named clusters and their labels (default $PYVELA_CLUSTERS or ./clusters.yaml)",
    )
