"""The reconcile workers' queue: a thread pool whose queue is ordered by priority, then by
arrival.

A ``ThreadPoolExecutor`` runs its work first in, first out. When hundreds of Applications
are created at once, each first reconcile is a whole first deploy (seconds on a loaded API
server), and a parked run's resume (its Deployment became ready: a look, a save) queued
behind all of them: the 300-app benchmark saw resumes start minutes after their objects were
ready. Here a resume is submitted with a higher priority (a lower number) and taken before
any first deploy still queued; among equals the order stays first in, first out, so no
first deploy waits behind a later one.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

#: A parked run going on (its awaited object changed, its timer or requeue came).
RESUME = 0
#: Anything else: a first deploy, an update, a resync.
NORMAL = 1


class PriorityPool(Executor):
    """``max_workers`` daemon threads taking the queued call of the lowest priority number."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "pool") -> None:
        self._max = max(1, max_workers)
        self._prefix = thread_name_prefix
        self._queue: list[
            tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]
        ] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.submit_at(NORMAL, fn, *args, **kwargs)

    def submit_at(self, priority: int, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """``fn(*args, **kwargs)`` once no queued call of a lower ``priority`` number is left."""
        future: Future[Any] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            heapq.heappush(self._queue, (priority, next(self._order), future, fn, args, kwargs))
            if self._idle:  # an idle worker takes it (counted off now: the next call wakes another)
                self._idle -= 1
                self._cond.notify()
            elif len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._prefix}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._shutdown:
                    self._idle += 1  # the submit that wakes it counts it off
                    self._cond.wait()
                if not self._queue:
                    return  # shut down, nothing left
                _p, _n, future, fn, args, kwargs = heapq.heappop(self._queue)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                for item in self._queue:
                    item[2].cancel()
                self._queue.clear()
            self._cond.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
