"""The leader Lease of one shard: of the replicas running ``--shard N/M``, only the holder of
``coordination.k8s.io/v1 Lease pyvela-controller-shard-N-of-M`` reconciles; the others stand
by and take the Lease over when its holder stops renewing it.

The rules are client-go's leader election, on the app Lease's conventions
(``pyvela._core.leases``: holders are ``host:pid:nonce``, a holder on this host whose
process is gone holds nothing):

- the holder renews every ``renew`` seconds (a third of the duration by default);
- a standby reads the Lease every ``retry`` seconds and takes it when nobody holds it, or
  when it has not changed for a whole ``leaseDurationSeconds`` *as the standby's own clock
  measures it* (the holder's ``renewTime`` is not compared with our clock: clocks differ);
- the holder counts itself leader only while its last successful renewal is younger than
  two thirds of the duration: it stops starting reconciles before any standby may take the
  Lease, even when it cannot reach the API server to learn that it lost;
- a graceful stop gives the Lease up (no holder), so a standby takes it at its next read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._core.leases import holder_alive
from pyvela._core.objects import LABEL_MANAGED_BY, MANAGER, ObjectRef
from pyvela._workflow.state import now_iso
from pyvela.errors import AlreadyExistsError, ConflictError, PyvelaError

log = logging.getLogger("pyvela.controller")
LEASE_API = "coordination.k8s.io/v1"


def identity() -> str:
    """``pod-or-host:pid:nonce`` (``POD_NAME`` from the Downward API in a pod)."""
    host = os.environ.get("POD_NAME") or socket.gethostname()
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaderElector:
    """Campaigns for, holds and renews one Lease on a thread of its own."""

    def __init__(
        self,
        backend: Backend,
        name: str,
        namespace: str,
        *,
        duration: float = 15.0,
        renew: float | None = None,
        retry: float | None = None,
        holder: str | None = None,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        if duration <= 0:
            raise PyvelaError("the lease duration must be more than 0", got=str(duration))
        self.backend = backend
        self.ref = ObjectRef(LEASE_API, "Lease", namespace, name)
        self.duration = duration
        self.renew = renew or duration / 3
        self.retry = retry or min(2.0, duration / 5)
        #: The holder gives up once no renewal succeeded for this long (client-go's renewDeadline).
        self.deadline = duration * 2 / 3
        if not self.renew < self.deadline:
            raise PyvelaError(
                "the Lease must be renewed well within its duration",
                expected=f"a renew period under {self.deadline:.1f}s (2/3 of {duration:g}s)",
                got=f"{self.renew:g}s",
            )
        self.identity = holder or identity()
        self.on_change = on_change
        self._live: dict[str, Any] | None = None
        self._renewed = 0.0  # monotonic time of the last successful write as holder
        self._leading = False
        self._observed: tuple[str, float] | None = None  # (resourceVersion, when we saw it)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()
        #: Set once the Lease was read or written: the elector can reach the API server.
        self.seen = threading.Event()

    # ------------------------------------------------------------------ what others ask

    def is_leading(self) -> bool:
        """Whether this replica may start a reconcile now (checked before every one)."""
        return self._leading and time.monotonic() - self._renewed < self.deadline

    def wait_leading(self, stop: threading.Event) -> bool:
        """Until this replica leads (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            if self.is_leading():
                return True
            stop.wait(min(0.2, self.retry))
        return False

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pyvela-leader", daemon=True)
        self._thread.start()

    def stop(self, *, release: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if release:
            self._release()
        if self._leading:
            self._leading = False
            if self.on_change is not None:
                self.on_change(False)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as exc:  # the API server away: retried; expiry is the safety net
                log.warning("leader %s: %s", self.ref, exc)
            if self._leading and not self.is_leading():
                self._set_leading(False, f"no renewal for {self.deadline:.1f}s")
            self._stop.wait(self.renew if self._leading else self.retry)

    def step(self) -> None:
        """One round: renew when holding, else try to acquire (public for tests)."""
        if self._leading:
            self._renew_once()
        elif self._try_acquire():
            self._set_leading(True)

    def _set_leading(self, leading: bool, why: str = "") -> None:
        if leading == self._leading:
            return
        self._leading = leading
        if leading:
            log.info("leader %s: leading as %s", self.ref, self.identity)
        else:
            log.warning("leader %s: lost (%s); no new reconciles start here", self.ref, why)
        if self.on_change is not None:
            self.on_change(leading)

    def _body(self, live: dict[str, Any] | None, *, holder: str | None) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.ref.name,
            "namespace": self.ref.namespace,
            "labels": {LABEL_MANAGED_BY: MANAGER},
        }
        spec: dict[str, Any] = {"leaseDurationSeconds": max(1, round(self.duration)), "renewTime": now_iso()}
        old = dict((live or {}).get("spec") or {})
        transitions = int(old.get("leaseTransitions") or 0)
        if live is not None:
            meta["resourceVersion"] = live["metadata"].get("resourceVersion")
        if holder is not None:
            spec["holderIdentity"] = holder
            same = old.get("holderIdentity") == holder
            spec["acquireTime"] = old.get("acquireTime") if same and old.get("acquireTime") else now_iso()
            spec["leaseTransitions"] = transitions if same or live is None else transitions + 1
        else:
            spec["leaseTransitions"] = transitions
        return {"apiVersion": LEASE_API, "kind": "Lease", "metadata": meta, "spec": spec}

    def _try_acquire(self) -> bool:
        live = self.backend.get(self.ref)
        self.seen.set()
        now = time.monotonic()
        if live is None:
            try:
                self._took(self.backend.create(self._body(None, holder=self.identity)), now)
                return True
            except AlreadyExistsError:
                return False
        spec = live.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        version = str(live["metadata"].get("resourceVersion"))
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, now)
        free = not holder or holder == self.identity or not holder_alive(holder)
        expired = now - self._observed[1] >= float(spec.get("leaseDurationSeconds") or self.duration)
        if not (free or expired):
            return False
        try:
            self._took(self.backend.replace(self._body(live, holder=self.identity)), now)
        except ConflictError:  # another standby was quicker, or the holder renewed just now
            return False
        if holder and holder != self.identity:
            log.info("leader %s: taken over from %s", self.ref, holder)
        return True

    def _took(self, live: dict[str, Any], at: float) -> None:
        with self._mutex:
            self._live, self._renewed = live, at

    def _renew_once(self) -> None:
        started = time.monotonic()
        with self._mutex:
            live = self._live
        try:
            fresh = self.backend.replace(self._body(live, holder=self.identity))
        except ConflictError:
            current = self.backend.get(self.ref)
            holder = str(((current or {}).get("spec") or {}).get("holderIdentity") or "")
            if current is not None and holder == self.identity:
                with self._mutex:
                    self._live = current  # our own write raced a read: renew from it next round
                return
            self._set_leading(False, f"now held by {holder or 'nobody'}")
            return
        self._took(fresh, started)

    def _release(self) -> None:
        with self._mutex:
            live, self._live = self._live, None
        if live is None or not self._leading:
            return
        with contextlib.suppress(Exception):  # it expires anyway
            self.backend.replace(self._body(live, holder=None))
            log.info("leader %s: given up", self.ref)
