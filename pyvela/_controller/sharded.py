"""Running the controller as one replica of a shard: kopf runs only while this replica holds
the shard's leader Lease (a *term*); a standby runs no kopf at all.

Why not kopf's peering: peering makes every operator but the highest-priority one pause
*all* its handling. That is one active replica for the whole cluster (a standby, not a
shard), and its pause is announced through a cluster-wide peering resource of kopf's own.
A shard's leader Lease is the Kubernetes convention (client-go's leader election, the
kube-controller-manager's), readable with ``kubectl get lease``.

When the Lease is lost the gate closes at once (no reconcile or delete starts after that,
see ``Controller.gate``), kopf is stopped, and the replica campaigns again; one that was
cut off from the API server (its Lease expired, nobody else took it) leads again once the
server is back. Deploys already running finish under their app's Lease, which still keeps
two runs of one app apart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from pyvela._backends.patching import merge_patcher
from pyvela._controller.leader import LeaderElector
from pyvela._controller.shard import stale_finalizers
from pyvela._core.objects import ObjectRef

log = logging.getLogger("pyvela.controller")


class NotLeading(Exception):
    """A reconcile was about to start on a replica that no longer holds its shard's Lease."""


class Term(Protocol):
    """What a term needs of ``operator.Controller``."""

    running: int

    async def run(self, registry: Any, *, namespaces: Sequence[str] = (), stop_flag: Any = None) -> None: ...


def drop_stale_finalizers(backend: object, body: Mapping[str, Any], own: str) -> None:
    """Remove the finalizers an earlier shard layout left on the resource (only this
    layout's controllers run now, and none of them would ever remove those)."""
    stale = stale_finalizers(body, own)
    if not stale:
        return
    meta = body["metadata"]
    keep = [f for f in meta.get("finalizers") or [] if f not in stale]
    # The resource's own kind: pyvela's Application, or KubeVela's under --kubevela.
    ref = ObjectRef(str(body.get("apiVersion")), str(body.get("kind")), meta["namespace"], meta["name"])
    patch = {"metadata": {"finalizers": keep, "resourceVersion": meta.get("resourceVersion")}}
    try:
        merge_patcher(backend).merge_patch(ref, patch)
        log.info(
            "%s/%s: removed the finalizers of an earlier shard layout: %s", ref.namespace, ref.name, stale
        )
    except Exception as exc:  # changed meanwhile: the next start of its loop tries again
        log.info("%s/%s: stale finalizers %s not removed yet: %s", ref.namespace, ref.name, stale, exc)


class Terms:
    """kopf runs, stopped and started again as the leader Lease comes and goes.

    ``make`` builds a fresh controller and its kopf registry for each term (a term's thread
    pool is shut down with it). Without a ``leader`` there is one term, as long as the process.
    """

    def __init__(
        self,
        make: Callable[[], tuple[Term, Any]],
        *,
        namespaces: Sequence[str] = (),
        leader: LeaderElector | None = None,
        ready: threading.Event | None = None,
        healthy: threading.Event | None = None,
        grace: float = 10.0,
    ) -> None:
        self.make = make
        self.namespaces = list(namespaces)
        self.leader = leader
        self.ready = ready
        self.healthy = healthy
        self.grace = grace
        self.controllers: list[Term] = []
        self.failed: list[BaseException] = []
        self.alive = False  # a term's kopf thread outlived its grace period

    @property
    def running(self) -> int:
        """Reconciles still running on any term's workers."""
        return sum(c.running for c in self.controllers)

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set (SIGTERM) or kopf fails."""
        if self.leader is not None:
            self.leader.start()
        try:
            while not stop.is_set() and not self.failed:
                if self.leader is not None:
                    self._stand_by(stop)
                    if not self.leader.wait_leading(stop):
                        break
                self._term(stop)
                if self.leader is None:
                    break
        finally:
            if self.leader is not None:
                self.leader.stop(release=True)

    def _stand_by(self, stop: threading.Event) -> None:
        assert self.leader is not None
        if self.leader.is_leading():
            return
        log.info("standing by for the leader %s", self.leader.ref)
        # A standby does its job by waiting: healthy and ready once it can read the Lease (a
        # failing liveness probe would have the kubelet restart it again and again).
        while not stop.is_set() and not self.leader.is_leading():
            if self.leader.seen.wait(0.2):
                for flag in (self.healthy, self.ready):
                    if flag is not None:
                        flag.set()
                break

    def _term(self, stop: threading.Event) -> None:
        controller, registry = self.make()
        self.controllers.append(controller)
        term_over = threading.Event()

        def operate() -> None:
            try:
                asyncio.run(controller.run(registry, namespaces=self.namespaces, stop_flag=term_over))
            except BaseException as exc:  # shown by the main thread
                self.failed.append(exc)
            finally:
                term_over.set()

        # kopf runs on a thread of its own: in the main thread it would take SIGTERM from us, and
        # its shutdown waits for every daemon, each waiting for the deploy on its worker.
        thread = threading.Thread(target=operate, name="pyvela-operator", daemon=True)
        thread.start()
        leader = self.leader
        while not stop.wait(0.1) and not term_over.is_set():
            if leader is not None and not leader.is_leading():
                log.warning("stopping kopf: the leader %s is not held any more", leader.ref)
                break
        term_over.set()
        thread.join(timeout=self.grace)
        self.alive = thread.is_alive()
        if leader is None and not stop.is_set():
            stop.set()  # kopf ended by itself: the process ends too
