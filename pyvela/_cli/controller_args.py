"""The parser of ``pyvela controller [manifests]`` (argparse only: cheap to import)."""

from __future__ import annotations

import argparse
from typing import Any


def _duration(text: str) -> float:
    from pyvela._core.durations import parse_duration
    from pyvela.errors import PyvelaError

    try:
        seconds = parse_duration(text, "--resync")
    except PyvelaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return seconds


def _bind(text: str) -> str:
    _host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"must be HOST:PORT (e.g. 127.0.0.1:8080, :0), got {text!r}")
    return text


def add_controller(sub: Any) -> None:
    p = sub.add_parser(
        "controller",
        help="Reconcile applications.pyvela.dev resources continuously (or print its install manifests).",
        description="Run the controller: every Application resource is deployed as `pyvela deploy` "
        "would, again on a change to it or to an object it owns (drift is corrected) and every "
        "resync period. `controller manifests` prints the CRD, RBAC, ServiceAccount and Deployment.",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("run", "manifests"),
        default="run",
        metavar="ACTION",
        help="run (default) or manifests",
    )
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file of the cluster")
    p.add_argument("--context", metavar="NAME", help="kubeconfig context")
    p.add_argument("--in-cluster", action="store_true", help="use the pod's service account")
    p.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        action="append",
        help="only this namespace's Applications (repeatable; default: all)",
    )
    p.add_argument(
        "--resync",
        type=_duration,
        default=300.0,
        metavar="DURATION",
        help="reconcile every app this often even without a change (default 5m)",
    )
    p.add_argument(
        "--debounce",
        type=_duration,
        default=2.0,
        metavar="DURATION",
        help="wait this long after an owned object changes before reconciling (default 2s)",
    )
    p.add_argument("--workers", type=int, default=4, metavar="N", help="reconciles run at once (default 4)")
    p.add_argument(
        "--bind",
        type=_bind,
        metavar="HOST:PORT",
        help="/metrics, /healthz, /readyz (default 127.0.0.1:8080; :0 picks a port; "
        "manifests: the pod's, default 0.0.0.0:8080)",
    )
    p.add_argument(
        "--kubevela",
        action="store_true",
        help="reconcile KubeVela's own core.oam.dev/v1beta1 Applications (status in KubeVela's shape) "
        "instead of applications.pyvela.dev",
    )
    p.add_argument(
        "--kubevela-crd",
        action="store_true",
        help="(manifests, with --kubevela) include a minimal applications.core.oam.dev CRD, for a "
        "cluster without vela-core's",
    )
    p.add_argument(
        "--helm-values",
        action="store_true",
        help="(manifests) print the values of deploy/chart that render these manifests",
    )
    p.add_argument(
        "--defs",
        action="append",
        metavar="MODULE",
        help="catalogue module (repeatable; default $PYVELA_DEFS or platform_defs)",
    )
    p.add_argument(
        "--app",
        action="append",
        metavar="FILE",
        help="(manifests) an app whose rendered kinds the RBAC must allow (repeatable)",
    )
    p.add_argument(
        "--kind",
        action="append",
        metavar="APIVERSION/KIND",
        help="(manifests, run) one more kind the controller writes and watches, e.g. apps/v1/StatefulSet",
    )
    p.add_argument(
        "--image", default="pyvela:latest", metavar="IMAGE", help="(manifests) the controller's image"
    )
    p.add_argument(
        "--install-namespace",
        default="pyvela-system",
        metavar="NS",
        help="(manifests) where the controller runs (default pyvela-system)",
    )
    p.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="(manifests) format")
    p.add_argument(
        "--shard",
        metavar="N/M",
        help="reconcile only shard N of M (by a stable hash of namespace/name, or the shard label), "
        "while holding the shard's leader Lease; other replicas of the shard stand by",
    )
    p.add_argument(
        "--shard-label",
        metavar="KEY",
        help="the label pinning an app to a shard by its value N (default pyvela.dev/shard)",
    )
    p.add_argument(
        "--lease-namespace",
        metavar="NS",
        help="where the shard's leader Lease lives (default $POD_NAMESPACE, else pyvela-system)",
    )
    p.add_argument(
        "--lease-duration",
        type=_duration,
        default=15.0,
        metavar="DURATION",
        help="a standby takes the shard over this long after its leader stopped renewing (default 15s)",
    )
    p.add_argument(
        "--shards", type=int, default=1, metavar="M", help="(manifests) one Deployment per shard, M of them"
    )
    p.add_argument(
        "--replicas",
        type=int,
        default=1,
        metavar="R",
        help="(manifests) replicas of each shard: one leads, the others stand by",
    )
