"""``pyvela controller``: run the controller, or print its install manifests.

The CLI's part is what it owns: which cluster (the target checks), which configuration
centre an app's steps use (``centres``); ``pyvela._controller`` gets them handed down.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from pyvela._cli.controller_shard import check_shard, shard_kwargs, shard_leader
from pyvela.errors import ClusterError, PyvelaError

#: Seconds between SIGTERM and the process's exit at the latest.
STOP_GRACE = 10.0


def _kinds(values: list[str] | None) -> list[tuple[str, str]]:
    out = []
    for value in values or []:
        api, _, kind = value.rpartition("/")
        if not api or not kind:
            raise PyvelaError(
                f"--kind {value!r} is not APIVERSION/KIND", fix="e.g. --kind apps/v1/StatefulSet"
            )
        out.append((api, kind))
    return out


def cmd_manifests(args: argparse.Namespace) -> int:
    from pyvela._app.catalogue import Catalogue
    from pyvela._app.loader import definition_modules, load_app
    from pyvela._app.output import to_json, to_yaml
    from pyvela._controller.manifests import BIND, manifests, owned_kinds

    catalogue = Catalogue.from_modules(definition_modules(args.defs), stdlib=True)
    apps = [load_app(a, defs=args.defs) for a in args.app or []]
    kinds = owned_kinds(catalogue, apps, _kinds(args.kind))
    if args.kubevela_crd and not args.kubevela:
        raise PyvelaError("--kubevela-crd is KubeVela's CRD: it goes with --kubevela", fix="add --kubevela")
    options: dict[str, Any] = {
        "kinds": kinds,
        "namespace": args.install_namespace,
        "image": args.image,
        "watch_namespaces": args.namespace or (),
        "shards": args.shards,
        "replicas": args.replicas,
        "kubevela": args.kubevela,
        "kubevela_crd": args.kubevela_crd,
        "bind": args.bind or BIND,
    }
    if args.helm_values:  # deploy/chart's values rendering these same manifests
        from pyvela._controller.chart import helm_values, values_text

        print(values_text(helm_values(**options)), end="")
        return 0
    objects = manifests(**options)
    print(to_json(objects) if args.output == "json" else to_yaml(objects), end="")
    return 0


def _login(args: argparse.Namespace) -> Any:
    import kopf

    if args.in_cluster:
        from pyvela._controller.login import service_account_credentials

        def in_cluster(**_: Any) -> Any:  # the token read again at every login: it rotates
            return kopf.ConnectionInfo(**service_account_credentials())

        return in_cluster
    from pyvela._controller.login import kubeconfig_credentials

    credentials = kubeconfig_credentials(args.kubeconfig, args.context)

    def from_kubeconfig(**_: Any) -> Any:
        return kopf.ConnectionInfo(**credentials)

    return from_kubeconfig


def cmd_run(args: argparse.Namespace) -> int:
    if not (args.kubeconfig or args.in_cluster):
        raise ClusterError(
            "the controller needs a real cluster",
            fix="give --kubeconfig FILE [--context NAME], or --in-cluster in a pod",
        )
    from pyvela._cli.targets import check_kube_target

    check_shard(args)
    check_kube_target(context=args.context, kubeconfig=args.kubeconfig, in_cluster=args.in_cluster)
    from pyvela._backends.kube.backend import KubeBackend
    from pyvela._cli.centres import centre_for, config_centre_for
    from pyvela._controller.manifests import owned_kinds
    from pyvela._controller.metrics import Metrics, serve
    from pyvela._controller.operator import Controller
    from pyvela._controller.reconciler import Reconciler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kopf").setLevel(logging.WARNING)  # a line per handled watch event otherwise
    backend = KubeBackend.connect(
        context=args.context, kubeconfig=args.kubeconfig, in_cluster=args.in_cluster
    )
    from pyvela._controller.kubevela import KUBEVELA
    from pyvela._controller.served import PYVELA
    from pyvela._core.objects import ObjectRef

    served = KUBEVELA if args.kubevela else PYVELA
    crd_ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", served.crd_name)
    if backend.get(crd_ref) is None:
        backend.close()
        raise ClusterError(
            f"the CRD {served.crd_name} is not installed on {backend.description}",
            fix="vela-core installs it; on a cluster without: python -m pyvela controller manifests "
            "--kubevela --kubevela-crd | kubectl apply -f -"
            if args.kubevela
            else "python -m pyvela controller manifests | kubectl apply -f -  (or only its first document)",
        )
    metrics = Metrics()
    metrics.count_requests(backend)  # pyvela_api_requests_total: the deploys', statuses', Events'
    server = serve(metrics, args.bind or "127.0.0.1:8080")
    host, port = server.server_address[:2]
    print(f"pyvela controller: metrics on http://{host!s}:{port}/metrics", file=sys.stderr, flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="pyvela-controller-"))
    reconciler = Reconciler(
        backend,
        centre_for=config_centre_for,
        named_centre=lambda b, app: centre_for(b, app=app),
        workdir=workdir,
        defs=args.defs,
        park=True,  # a reconcile never waits for readiness: it ends, and the next one goes on
    )
    from pyvela._app.catalogue import Catalogue
    from pyvela._app.loader import definition_modules
    from pyvela._controller.sharded import Terms

    catalogue = Catalogue.from_modules(definition_modules(args.defs), stdlib=True)
    kinds = owned_kinds(catalogue, (), _kinds(args.kind))  # the RBAC's kinds: their drift is watched
    login = _login(args)
    shard, leader = shard_leader(args, backend, metrics)

    def make() -> tuple[Controller, Any]:
        controller = Controller(
            reconciler,
            resync=args.resync,
            debounce=args.debounce,
            workers=args.workers,
            metrics=metrics,
            served=served,
            **shard_kwargs(shard, leader),
        )
        return controller, controller.registry(kinds, login)

    terms = Terms(
        make,
        namespaces=args.namespace or (),
        leader=leader,
        ready=metrics.ready,
        healthy=metrics.healthy,
        grace=STOP_GRACE,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    terms.run(stop)
    server.shutdown()
    server.server_close()
    if terms.failed:
        raise terms.failed[0]
    if terms.alive or terms.running:
        # A deploy on a worker thread is not waited for: its state is saved step by step and
        # the next controller (or `pyvela deploy`) resumes it once its Lease expires.
        print(
            f"pyvela controller: stopped with {terms.running} reconcile(s) running; "
            "they resume on the next start",
            file=sys.stderr,
            flush=True,
        )
        logging.shutdown()
        os._exit(0)
    backend.close()
    return 0


def cmd_controller(args: argparse.Namespace) -> int:
    return cmd_manifests(args) if args.action == "manifests" else cmd_run(args)
