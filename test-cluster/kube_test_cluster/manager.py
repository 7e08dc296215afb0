"""The control plane: one loop that drives every controller, the scheduler and the kubelet.

It composes both halves of the cluster (``controlplane`` and ``nodes``, which never
import each other), so it sits on top of them, beside ``cluster``.

Two ways to run it, as the cluster's clock dictates:

* a background thread (:meth:`ControlPlane.start`) wakes on every store change
  and at least every 50 ms, and reconciles whatever became dirty or due, so an
  HTTP client's writes are acted upon at once;
* synchronously, for manual-clock tests: :meth:`ControlPlane.step` reconciles
  until nothing is left to do at the current time, :meth:`ControlPlane.advance`
  moves the clock from one due timer to the next (never past one), reconciling
  at each, so every timestamp lands exactly where the behaviour put it.

Both may run at once; a lock makes sure only one reconcile pass runs at a time.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from kube_test_cluster.clock import Clock
from kube_test_cluster.controlplane.daemonset import DaemonSetController
from kube_test_cluster.controlplane.deployment import DeploymentController
from kube_test_cluster.controlplane.gc import GarbageCollector
from kube_test_cluster.controlplane.replicaset import ReplicaSetController
from kube_test_cluster.controlplane.scheduler import Scheduler
from kube_test_cluster.controlplane.statefulset import StatefulSetController
from kube_test_cluster.machinery.base import Context, Controller
from kube_test_cluster.machinery.cache import Cache, Key, current_writer, writing_as
from kube_test_cluster.machinery.events import EventRecorder
from kube_test_cluster.machinery.topology import NODES, Node, as_nodes
from kube_test_cluster.nodes.kubelet import Kubelet
from kube_test_cluster.registry.deletion import Deleter
from kube_test_cluster.registry.store import Change, Store, StoreError

log = logging.getLogger(__name__)

#: real seconds between two passes of the background loop when nothing wakes it
TICK = 0.05
#: real seconds the background loop leaves the store lock free after each busy pass, so
#: API requests waiting for it get in even while a huge workload is being built
#: (a lock is not fair: the loop could otherwise take it back first, sync after sync)
_PASS_PAUSE = 0.001
#: a pass of at least this many syncs is busy (a burst of pods and their bindings)
_BUSY_PASS = 100
#: timers this close to "now" count as due (the clock is float seconds, timers datetimes)
_EPSILON = timedelta(milliseconds=1)
#: how long a component waits before retrying a key whose write the store refused
_RETRY = timedelta(seconds=1)
#: passes without settling after which a reconcile gives up (a bug, logged)
_MAX_PASSES = 10_000
_HOUSEKEEPING = timedelta(seconds=60)
#: the cyclic collector's thresholds while a reconcile runs: bringing up 20,000 pods
#: allocates millions of long-lived (acyclic) dicts, and with the default (700, 10, 10)
#: the full collections that keep rescanning them took a fifth of the time
_RECONCILE_GC_THRESHOLD = (50_000, 20, 100)


class _FewerCollections:
    """Raise the collector's thresholds while any reconcile runs (in any thread).

    The collector still runs, only less often; the thresholds in force before the
    first reconcile began are restored when the last one ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: tuple[int, int, int] = gc.get_threshold()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._saved = gc.get_threshold()
                pairs = zip(self._saved, _RECONCILE_GC_THRESHOLD, strict=True)
                gc.set_threshold(*(max(a, b) for a, b in pairs))
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    gc.set_threshold(*self._saved)


_fewer_collections = _FewerCollections()


class Steps(Controller):
    """Runs timed actions (scenario steps, housekeeping) at their emulated time."""

    name = "steps"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.actions: dict[str, Callable[[], None]] = {}

    def sync(self, key: Key, now: datetime) -> datetime | None:
        action = self.actions.pop(key[2], None)
        if action is not None:
            action()
        return None


class ControlPlane:
    """Every component of the emulated cluster except the API server."""

    def __init__(self, store: Store, clock: Clock, *, nodes: Iterable[str | Node] = NODES) -> None:
        self.store = store
        self.clock = clock
        self.cache = Cache()
        self.ctx = Context(
            store, clock, self.cache, EventRecorder(store, clock), Deleter(store, clock)
        )
        node_names = as_nodes(nodes)
        self.steps = Steps(self.ctx)
        self.kubelet = Kubelet(self.ctx, node_names)
        self.controllers: list[Controller] = [
            self.steps,
            GarbageCollector(self.ctx),
            StatefulSetController(self.ctx),
            DaemonSetController(self.ctx, node_names),
            DeploymentController(self.ctx),
            ReplicaSetController(self.ctx),
            Scheduler(self.ctx, node_names),
            self.kubelet,
        ]
        self.errors: list[BaseException] = []
        self._queue_lock = threading.Lock()
        self._dirty: list[dict[Key, None]] = [{} for _ in self.controllers]
        self._timers: list[tuple[datetime, int, int, Key]] = []
        self._scheduled: dict[tuple[int, Key], datetime] = {}
        self._seq = itertools.count()
        self._step_ids = itertools.count(1)
        self._reconcile_lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        with store.lock:
            for resource in list(store.resources):
                for obj in store.snapshot(resource)[0]:
                    self._on_change(Change(0, resource, "ADDED", obj))
            store.add_listener(self._on_change)
            with writing_as(self.kubelet.name):
                self.kubelet.register()
        self._housekeeping()

    # -- queue -------------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        if self._closed:
            return
        self.cache.apply(change)
        writer = current_writer()
        with self._queue_lock:
            for index, controller in enumerate(self.controllers):
                for key in controller.watch(change, writer):
                    self._dirty[index][key] = None
        self._wake.set()

    def _schedule(self, index: int, key: Key, when: datetime) -> None:
        with self._queue_lock:
            known = self._scheduled.get((index, key))
            if known is not None and known <= when:
                return
            self._scheduled[(index, key)] = when
            heapq.heappush(self._timers, (when, next(self._seq), index, key))
        self._wake.set()

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        """Run ``action`` (under the control plane) once the clock reaches ``when``."""
        step = str(next(self._step_ids))
        self.steps.actions[step] = action
        self._schedule(0, ("steps", "", step), when)

    def _housekeeping(self) -> None:
        now = self.clock.now()
        self.ctx.recorder.expire(now)
        self.at(now + _HOUSEKEEPING, self._housekeeping)

    def _take_work(self, now: datetime) -> list[tuple[int, Key]]:
        with self._queue_lock:
            while self._timers and self._timers[0][0] <= now + _EPSILON:
                when, _, index, key = heapq.heappop(self._timers)
                if self._scheduled.get((index, key)) == when:
                    del self._scheduled[(index, key)]
                    self._dirty[index][key] = None
            work: list[tuple[int, Key]] = []
            for index, dirty in enumerate(self._dirty):
                work.extend((index, key) for key in dirty)
                dirty.clear()
            return work

    def next_due(self) -> datetime | None:
        """When the earliest timer fires (None when nothing is scheduled)."""
        with self._queue_lock:
            while self._timers:
                when, _, index, key = self._timers[0]
                if self._scheduled.get((index, key)) == when:
                    return when
                heapq.heappop(self._timers)  # superseded by an earlier one
            return None

    # -- reconciling -------------------------------------------------------------------
    def reconcile(
        self, *, raise_errors: bool = False, passes: int | None = None, pause: float = 0.0
    ) -> int:
        """Sync every dirty or due key until none is left; returns the number of syncs.

        One pass syncs every key dirty or due when it starts (what the syncs make dirty
        waits for the next pass); ``passes`` stops after that many, work left queued.
        A controller does a bounded burst of work per sync (at most ``BURST`` pod
        creations: 500 for StatefulSets and ReplicaSets, 250 for DaemonSets) and is
        synced again for the rest, so the store lock is free between bursts and the
        API answers while a huge workload is still being built; ``pause`` (real
        seconds) is slept, the lock free, after each busy pass. :meth:`stop` ends a
        running reconcile between two syncs.
        """
        done = 0
        with self._reconcile_lock, _fewer_collections():
            for _ in range(_MAX_PASSES if passes is None else passes):
                work = self._take_work(self.clock.now())
                if not work:
                    return done
                for position, (index, key) in enumerate(work):
                    if self._stopping.is_set():  # stopping: leave the rest queued
                        self._requeue(work[position:])
                        return done
                    self._sync(index, key, raise_errors=raise_errors)
                    done += 1
                if pause and len(work) >= _BUSY_PASS:
                    time.sleep(pause)
            if passes is None:
                log.warning(
                    "the emulated control plane did not settle after %d passes", _MAX_PASSES
                )
        return done

    def _requeue(self, work: list[tuple[int, Key]]) -> None:
        with self._queue_lock:
            for index, key in work:
                self._dirty[index][key] = None

    def _sync(self, index: int, key: Key, *, raise_errors: bool) -> None:
        controller = self.controllers[index]
        now = self.clock.now()
        try:
            with self.store.lock, writing_as(controller.name):
                now = self.clock.now()  # after the lock: what it writes is visible at once
                wake = controller.sync(key, now)
        except StoreError as error:
            # a conflict or a vanished object: retry later, as a workqueue's rate limiter would
            log.debug("%s: %s/%s: %s; retrying", controller.name, key[1], key[2], error.message)
            wake = now + _RETRY
        except Exception as error:
            log.exception("%s failed to sync %s", controller.name, "/".join(key))
            self.errors.append(error)
            if raise_errors:
                raise
            wake = None
        if wake is not None:
            self._schedule(index, key, wake)

    def step(self, passes: int | None = None) -> int:
        """Reconcile until quiet at the current time, or for ``passes`` passes (raising a
        component's error)."""
        return self.reconcile(raise_errors=True, passes=passes)

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward, stopping at every timer on the way."""
        if seconds < 0:
            raise ValueError("the clock never goes back")
        target = self.clock.now() + timedelta(seconds=seconds)
        while True:
            self.step()
            due = self.next_due()
            now = self.clock.now()
            if due is None or due > target:
                break
            if due > now:
                self.clock.advance((due - now).total_seconds() + _EPSILON.total_seconds() / 2)
        now = self.clock.now()
        if target > now:
            self.clock.advance((target - now).total_seconds())
        self.step()

    # -- background loop ---------------------------------------------------------------
    def start(self) -> ControlPlane:
        if self._thread is not None:
            return self
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sts-emulator-control-plane")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.reconcile(pause=_PASS_PAUSE)
            except Exception as error:  # never let the loop die silently
                log.exception("the emulated control plane failed a pass")
                self.errors.append(error)
            timeout = TICK
            due = self.next_due()
            if due is not None:
                ahead = (due - self.clock.now()).total_seconds()
                timeout = min(TICK, max(self.clock.real_seconds(ahead), 0.001))
            self._wake.wait(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def stop(self) -> None:
        """Stop the background loop (the store keeps its state; nothing reacts any more)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._closed = True
