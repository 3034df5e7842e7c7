"""Watching a workload's Pods while a wait for the workload is unready.

The workload's own status only says ``0/1 replicas ready``; the reason (a bad image, a
missing ConfigMap key, no node that fits, a crash loop) is on its Pods. A wait that has not
seen its workload ready after a few seconds starts one Pod watch (by the workload's
selector), shows the Pods' reasons in its progress, and fails when one lasts past the grace.
A workload that gets ready quickly never costs a Pod request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from pyvela._backends.kube.reads import KubeReads
from pyvela._backends.pods import PodProblems, grace_of, selector_of, stuck
from pyvela._backends.protocol import Readiness
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import PyvelaError

#: Seconds a workload may be unready before its Pods are looked at.
LOOK_AFTER = 3.0


class PodWatch:
    """The Pods of one workload, looked at from :meth:`tick` on the waiting thread."""

    def __init__(
        self,
        kube: KubeReads,
        ref: ObjectRef,
        *,
        grace: float | None,
        deadline: float,
        on_progress: Callable[[Readiness], None] | None,
        workload_message: Callable[[], str | None],
        look_after: float = LOOK_AFTER,
    ) -> None:
        self.kube, self.ref, self.deadline = kube, ref, deadline
        self._grace, self._on_progress, self._message = grace, on_progress, workload_message
        self._look_at = time.monotonic() + look_after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._problems: PodProblems | None = None
        self._shown = ""
        self.workload: Obj | None = None

    def saw(self, obj: Obj | None) -> None:
        if obj is not None:
            self.workload = obj

    def tick(self) -> None:
        """Start the Pod watch when it is time; raise NotReadyError when a problem outlasted the grace."""
        if self._problems is None:
            selector = selector_of(self.workload)
            if time.monotonic() < self._look_at or selector is None:
                return
            self._problems = PodProblems(grace_of(self.workload, self._grace))
            self._thread = threading.Thread(
                target=self._follow, args=(selector,), name="pyvela-pods", daemon=True
            )
            self._thread.start()
        problem, shown = self._problems.verdict()
        if shown != self._shown:
            self._shown = shown
            if shown and self._on_progress is not None:
                head = self._message()
                self._on_progress(Readiness(False, f"{head}; {shown}" if head else shown))
        if problem is not None:
            raise stuck(self.ref, problem, self._problems.grace)

    def close(self) -> None:
        self._stop.set()

    def _follow(self, selector: Mapping[str, str]) -> None:
        assert self._problems is not None
        problems = self._problems

        def evaluate(pods: Mapping[str, Obj]) -> None:
            problems.update(pods.values())

        try:
            kind = self.kube.discovery.kind("v1", "Pod")
            namespace = kind.namespace(self.ref.namespace)
            self.kube.follow(
                kind,
                namespace,
                evaluate,
                deadline=self.deadline,
                cancel=self._stop,
                what=f"the Pods of {self.ref}",
                labels=selector,
            )
        except PyvelaError:
            pass  # best effort: the workload's own wait goes on, and times out with its own message
