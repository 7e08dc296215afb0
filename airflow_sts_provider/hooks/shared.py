"""Shared watches: one list+watch per resource and namespace for every waiting trigger.

A deferred sensor's trigger holds 2-3 watches of its own (the workload by name,
its pods by selector, a Deployment's ReplicaSets). On Airflow >= 3.3 the
triggerer can run one stream for many triggers (``BaseEventTrigger.shared_stream_key``):
triggers with the same key get the raw events of one ``open_shared_stream`` and
each turns them into its own events in ``filter_shared_stream``.

Here the stream is an *informer*: :func:`informer` lists each resource the kind's
row reads once for the whole namespace, keeps a :class:`Store` of every object
current from one watch per resource (followed by the hook as a trigger's own
watches are: resumed from the last version, relisted once for everyone on 410,
retried in place on transient errors, the picture marked stale meanwhile), and
yields a :class:`Batch` per burst of changes. The store routes each change to
the workloads it concerns (by name, or by an index of their selectors'
``key=value`` requirements), so a change costs the triggers it touches, not all.

A subscriber (:class:`Feed`) starts from the store's current picture (a late one
never starts from nothing), pumps the stream in its own task so its queue never
overflows, and feeds the trigger's usual judge loop with the current state of
the objects that changed: the same rules over the same objects as its own
watches would give, so the same verdicts and the same one event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from airflow_sts_provider.exceptions import (
    KubernetesApiCallError,
    UnservedKindError,
)
from airflow_sts_provider.hooks.clock import ServerClock
from airflow_sts_provider.hooks.follow import (
    Change,
    Changed,
    Expiries,
    Listed,
    Stale,
    version_of,
)
from airflow_sts_provider.hooks.informer import InformerHook, SubscriberHook
from airflow_sts_provider.hooks.labels import Selector, labels_of
from airflow_sts_provider.hooks.reads import (
    WORKLOAD,
    Listing,
    Picture,
    clock_plan,
    name_of,
    namespace_plan,
    namespace_watch,
)
from airflow_sts_provider.hooks.stamps import carry_stamps
from airflow_sts_provider.hooks.wire import JsonObject
from airflow_sts_provider.kinds import ApiResource, Kind

log = logging.getLogger(__name__)

#: Longest a waking trigger waits for a fresh ``Date``: a slow read must not hold a
#: decision back (the extrapolated clock is at most a second or two behind).
CLOCK_WAIT_SECONDS = 1.0

__all__ = [
    "Batch",
    "Feed",
    "SharedStreamError",
    "Store",
    "informer",
]


class SharedStreamError(Exception):
    """The shared stream hit an error retrying cannot fix (401/403...): watch alone.

    The trigger then runs its own watches, so it ends exactly as it would have
    without sharing: with the same error event if its own reads are refused too,
    or with its verdict if the narrower reads it needs are allowed.
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class ResyncError(Exception):
    """The subscriber's picture must be rebuilt from the store (a relist, a new selector)."""


# ---------------------------------------------------------------- what the followers hand in


@dataclass(frozen=True, slots=True)
class _Item:
    """What the hook's ``follow`` handed out for one resource, or its permanent error."""

    plural: str
    change: Change | BaseException


@dataclass
class Batch:
    """One burst of changes, broadcast to every subscriber: who must look at what.

    ``routed`` maps a workload name to the (picture key, object name) pairs that
    changed for it; ``resync`` names the workloads whose related objects must be
    taken from the store anew (``resync_all``: every one, after a list).
    """

    store: Store
    version: int
    routed: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    resync: set[str] = field(default_factory=set)
    resync_all: bool = False
    stale_changed: bool = False
    error: BaseException | None = None

    def concerns_anyone(self) -> bool:
        """Whether any subscriber has something to do with this batch."""
        return bool(
            self.routed or self.resync or self.resync_all or self.stale_changed or self.error
        )


class Store:
    """Every object of the kind's resources in one namespace, kept current by the watches.

    Objects by resource plural and name, whether every resource has been listed
    (``synced``), which resources are reconnecting (``stale``), a change counter
    (``version``), and the index that routes a change to the workloads it concerns.
    """

    #: The stores of the live shared streams, by shared key: where a late subscriber starts.
    live: ClassVar[dict[Hashable, Store]] = {}

    def __init__(self, key: Hashable, kind: Kind, namespace: str) -> None:
        self.key = key
        self.kind = kind
        self.namespace = namespace
        self.resources: tuple[ApiResource, ...] = (kind.resource, *kind.related)
        self.objects: dict[str, dict[str, JsonObject]] = {r.plural: {} for r in self.resources}
        self.listed: set[str] = set()
        self.synced = asyncio.Event()
        self.stale: set[str] = set()
        #: A permanent error per resource (401/403...), until that resource lists again.
        self.errors: dict[str, BaseException] = {}
        self.version = 0
        self.clock = ServerClock()
        #: One small read for a fresh ``Date``; set by the stream while it runs.
        self.read_clock: Callable[[], Awaitable[object]] | None = None
        self._clock_read_at = 0.0
        self._clock_task: asyncio.Task[object] | None = None
        self._interest: dict[str, int] = {}
        self._selectors: dict[str, Selector | None] = {}
        self._by_label: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._unindexed: set[str] = set()
        #: Object names by ``(label, value)``, per resource: a selector's candidates.
        self._labelled: dict[str, dict[tuple[str, str], set[str]]] = {
            r.plural: defaultdict(set) for r in self.resources
        }

    @property
    def error(self) -> BaseException | None:
        """The first permanent error of a resource that has not listed since, if any."""
        return next(iter(self.errors.values()), None)

    # ------------------------------------------------------------------ subscribers

    def workload(self, name: str) -> JsonObject | None:
        """The workload ``name`` as last seen, or None."""
        return self.objects[self.kind.resource.plural].get(name)

    def interest(self, name: str) -> None:
        """A subscriber waits on ``name``: route its changes from now on."""
        self._interest[name] = self._interest.get(name, 0) + 1
        if self._interest[name] == 1:
            self._index(name)

    def forget(self, name: str) -> None:
        """A subscriber of ``name`` left."""
        left = self._interest.get(name, 0) - 1
        if left > 0:
            self._interest[name] = left
            return
        self._interest.pop(name, None)
        self._unindex(name)

    def selector(self, name: str) -> Selector | None:
        """The selector of ``name``'s related objects; None while it is absent (or invalid)."""
        return self._selectors.get(name)

    def related(self, resource: ApiResource, selector: Selector) -> dict[str, JsonObject]:
        """The objects of ``resource`` the selector picks, as its own LIST would return them."""
        table = self.objects[resource.plural]
        if selector.equalities:  # only the objects carrying one of its labels
            names = self._labelled[resource.plural].get(selector.equalities[0], set())
            candidates = {name: table[name] for name in names if name in table}
        else:
            candidates = table
        return {name: obj for name, obj in candidates.items() if selector.matches(obj)}

    async def refresh_clock(self, max_age: float = 1.0) -> None:
        """A server ``Date`` at most ``max_age`` seconds old: one read for every waiter.

        A trigger on its own re-reads its workload when it wakes (a window ended, or
        ``check_interval``); sharing, the wakers of a second share one small read.
        """
        if self.read_clock is None or time.monotonic() - self._clock_read_at < max_age:
            return
        if self._clock_task is None or self._clock_task.done():
            self._clock_task = asyncio.ensure_future(self.read_clock())
            self._clock_task.add_done_callback(self._clock_read)
        started = time.monotonic()
        with contextlib.suppress(Exception):  # best effort: the clock extrapolates meanwhile
            await asyncio.wait_for(asyncio.shield(self._clock_task), CLOCK_WAIT_SECONDS)
        took = time.monotonic() - started
        if took >= CLOCK_WAIT_SECONDS:
            log.info("Clock read took over %.1fs; judging by the extrapolated clock", took)

    def _clock_read(self, task: asyncio.Task[object]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._clock_read_at = time.monotonic()

    # ------------------------------------------------------------------ applying

    def apply(self, items: list[_Item]) -> Batch:
        """Take the followers' items in order; what changed, for whom."""
        batch = Batch(self, self.version)
        for item in items:
            plural, change = item.plural, item.change
            if isinstance(change, Changed):
                self._change(batch, plural, change)
            elif isinstance(change, Listed):
                self._relisted(batch, plural, change.listing)
            elif isinstance(change, Stale):
                self._mark(batch, plural, change.stale)
            else:
                self.errors[plural] = batch.error = change
        batch.version = self.version
        return batch

    def _change(self, batch: Batch, plural: str, change: Changed) -> None:
        table, obj, deleted = self.objects[plural], change.obj, change.type == "DELETED"
        name = name_of(obj)
        old = table.pop(name, None) if deleted else table.get(name)
        if not deleted:
            carry_stamps(old, obj)
            table[name] = obj
        self._relabel(plural, name, old, None if deleted else obj)
        self.version += 1
        if plural == self.kind.resource.plural:
            self._workload_changed(batch, name)
        else:
            self._route(batch, plural, name, obj, old)

    def _workload_changed(self, batch: Batch, name: str) -> None:
        if name not in self._interest:
            return
        batch.routed.setdefault(name, set()).add((WORKLOAD, name))
        before = self._selectors.get(name)
        self._unindex(name)
        self._index(name)
        if self._selectors.get(name) != before:
            batch.resync.add(name)

    def _route(
        self, batch: Batch, plural: str, name: str, obj: JsonObject, old: JsonObject | None
    ) -> None:
        """Send a related object's change to the workloads whose selector picks it (or did)."""
        candidates = set(self._unindexed)
        for labels in (labels_of(obj), labels_of(old)):
            for pair in labels.items():
                candidates |= self._by_label.get((str(pair[0]), str(pair[1])), set())
        for workload in candidates:
            selector = self._selectors.get(workload)
            if selector is not None and (selector.matches(obj) or selector.matches(old)):
                batch.routed.setdefault(workload, set()).add((plural, name))

    def _relisted(self, batch: Batch, plural: str, listing: Listing) -> None:
        self.objects[plural] = {name_of(obj): obj for obj in listing.items}
        self._labelled[plural] = defaultdict(set)
        for name, obj in self.objects[plural].items():
            self._relabel(plural, name, None, obj)
        self.listed.add(plural)
        self.stale.discard(plural)
        self.errors.pop(plural, None)
        self.version += 1
        if plural == self.kind.resource.plural:
            for name in list(self._interest):
                self._unindex(name)
                self._index(name)
        batch.resync_all = True
        if len(self.listed) == len(self.resources):
            self.synced.set()

    def _relabel(
        self, plural: str, name: str, old: JsonObject | None, new: JsonObject | None
    ) -> None:
        index = self._labelled[plural]
        for pair in labels_of(old).items():
            names = index.get((str(pair[0]), str(pair[1])))
            if names is not None:
                names.discard(name)
        for pair in labels_of(new).items():
            index[(str(pair[0]), str(pair[1]))].add(name)

    def _mark(self, batch: Batch, plural: str, stale: bool) -> None:
        before = set(self.stale)
        (self.stale.add if stale else self.stale.discard)(plural)
        batch.stale_changed |= before != self.stale

    # ------------------------------------------------------------------ the selector index

    def _index(self, name: str) -> None:
        workload = self.workload(name)
        selector: Selector | None = None
        if workload is not None and self.kind.related:
            try:
                selector = Selector(self.kind.selector(workload))
            except ValueError:
                selector = None  # the subscriber raises it, as its own LIST would have
        self._selectors[name] = selector
        if selector is None:
            return
        if selector.equalities:
            self._by_label[selector.equalities[0]].add(name)
        else:
            self._unindexed.add(name)

    def _unindex(self, name: str) -> None:
        selector = self._selectors.pop(name, None)
        if selector is None:
            return
        if selector.equalities:
            pair = selector.equalities[0]
            self._by_label[pair].discard(name)
            if not self._by_label[pair]:
                del self._by_label[pair]
        else:
            self._unindexed.discard(name)


# ---------------------------------------------------------------- the stream


async def informer(
    key: Hashable, kind: Kind, namespace: str, hook: InformerHook
) -> AsyncIterator[Batch]:
    """The shared stream: list+watch each resource of ``kind`` in ``namespace``; yield batches.

    It yields forever, or until cancelled (the last subscriber left): transient
    faults are retried in place, and a permanent one is a batch carrying the
    error, after which the failing resource is retried with backoff.
    """
    store = Store(key, kind, namespace)
    store.read_clock = lambda: hook.read(clock_plan())
    Store.live[key] = store
    inbox: asyncio.Queue[_Item] = asyncio.Queue()
    try:
        async with hook.session():
            store.clock = hook.clock  # the API server's one clock in this process
            followers = [
                asyncio.create_task(_follow(hook, resource, namespace, inbox))
                for resource in store.resources
            ]
            try:
                while True:
                    items = [await inbox.get()]
                    while not inbox.empty():
                        items.append(inbox.get_nowait())
                    batch = store.apply(items)
                    if batch.concerns_anyone():  # an unwatched pod's change wakes nobody
                        yield batch
            finally:
                for task in followers:
                    task.cancel()
                await asyncio.gather(*followers, return_exceptions=True)
    finally:
        if Store.live.get(key) is store:
            del Store.live[key]


async def _follow(
    hook: InformerHook, resource: ApiResource, namespace: str, inbox: asyncio.Queue[_Item]
) -> None:
    """List ``resource`` once, then watch it from that version, forever (the hook's
    :meth:`follow` resumes, relists on 410 and says when it is stale); a permanent error
    is handed to the store, and the resource is tried again after a backoff."""
    plural, failures, version = resource.plural, 0, None
    relist = partial(namespace_plan, resource, namespace)
    expiries = Expiries()
    while True:
        try:
            watch = namespace_watch(resource, namespace, version)
            async for change in hook.follow(watch, relist=relist, expiries=expiries):
                inbox.put_nowait(_Item(plural, change))
                version, failures = _version(change) or version, 0
        except (KubernetesApiCallError, UnservedKindError) as exc:
            failures += 1
            inbox.put_nowait(_Item(plural, exc))
            say = log.warning if failures == 1 else log.debug  # once, not at every retry
            say("Shared watch of %s failed (%s); each trigger watches alone", plural, exc)
            await asyncio.sleep(hook.retry.delay(failures))


def _version(change: Change) -> str | None:
    """The version a change brings the resource to: after a refused watch, the retry
    watches from there (listing again only if that is too old)."""
    if isinstance(change, Listed):
        return change.listing.resource_version
    return version_of(change.obj) if isinstance(change, Changed) else None


# ---------------------------------------------------------------- one subscriber


class Feed:
    """One trigger's side of the shared stream: its store, its queue, its pump task."""

    def __init__(
        self,
        key: Hashable,
        kind: Kind,
        name: str,
        stream: AsyncIterator[Any],
        hook_kwargs: Mapping[str, Any],
    ) -> None:
        self.kind = kind
        self.name = name
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.store: Store | None = None
        #: The store's resources reconnecting now: this picture may be behind them.
        self.stale: set[str] = set()
        self.hook = SubscriberHook(self, **hook_kwargs)
        self._known = asyncio.Event()
        #: Set when the stream ended, or failed in a way retrying cannot fix: stop waiting.
        self._ended = asyncio.Event()
        self._end: BaseException | None = None
        #: The permanent error a batch carried: this subscriber watches alone from now on.
        self._failure: BaseException | None = None
        self._built_at = -1
        self._adopt(Store.live.get(key))
        self._pump = asyncio.create_task(self._run(stream), name=f"shared-feed[{name}]")

    async def close(self) -> None:
        """Stop pumping and leave the store's routing."""
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)
        if self.store is not None:
            self.store.forget(self.name)

    async def synced(self, timeout: float) -> bool:
        """Wait (at most ``timeout``) until the store has listed everything once.

        A resource whose LIST or watch is refused for good never lists: waiting for it
        would hang the trigger until its timeout, so a permanent error ends the wait.

        :raises SharedStreamError: the shared stream ended (the triggerer failed it), or
            one of its resources failed for good (401/403...): watch alone.
        """
        try:
            await asyncio.wait_for(self._known.wait(), timeout)
            self._raise_if_ended()
            assert self.store is not None
            waits = [asyncio.ensure_future(e.wait()) for e in (self.store.synced, self._ended)]
            try:
                await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
        except TimeoutError:
            return False
        self._raise_if_ended()
        return self.store.synced.is_set()

    def _raise_if_ended(self) -> None:
        failure = self._end or self._failure
        if failure is None and self.store is not None:
            failure = self.store.error  # a late subscriber of a stream already refused
        if failure is not None:
            raise SharedStreamError(failure)

    def picture(self) -> Picture:
        """The trigger's picture from the store's current state; anything queued is older.

        :raises SharedStreamError: the stream failed for good; watch alone.
        """
        self._raise_if_ended()
        store = self.store
        assert store is not None
        while not self.queue.empty():
            self.queue.get_nowait()
        self._built_at = store.version
        self._restale(store)
        self.hook.clock = store.clock
        picture = Picture(self.kind, self.name, store.namespace, store.workload(self.name))
        if picture.workload is not None and self.kind.related:
            selector = Selector(self.kind.selector(picture.workload))
            for resource in self.kind.related:
                picture.related[resource.plural] = store.related(resource, selector)
        return picture

    def _restale(self, store: Store) -> None:
        """Take the store's reconnecting resources: the judge decides nothing meanwhile."""
        self.stale.clear()
        self.stale.update(store.stale)

    # ------------------------------------------------------------------ the pump

    def _adopt(self, store: Store | None) -> None:
        if store is None or store is self.store:
            return
        if self.store is not None:
            self.store.forget(self.name)
        self.store = store
        store.interest(self.name)
        self.hook.clock = store.clock
        self._known.set()

    async def _run(self, stream: AsyncIterator[Any]) -> None:
        """Consume every batch at once (the shared queue never fills); queue what concerns us.

        The stream ending (the triggerer failed it: a slow subscriber, a poll that
        raised) is handed to the trigger, which then watches on its own.
        """
        try:
            async for batch in stream:
                if not isinstance(batch, Batch):
                    continue
                if batch.store is not self.store:
                    self._adopt(batch.store)
                    self.queue.put_nowait(ResyncError())
                self._take(batch)
            raise RuntimeError("the shared stream ended")
        except Exception as exc:
            self._end = exc
            self._ended.set()
            self._known.set()
            self.queue.put_nowait(SharedStreamError(exc))

    def _take(self, batch: Batch) -> None:
        store = batch.store
        if batch.error is not None:
            self._failure = batch.error
            self._ended.set()  # wakes a subscriber still waiting for the first list
            self.queue.put_nowait(SharedStreamError(batch.error))
            return
        if batch.version <= self._built_at and not batch.stale_changed:
            return  # the picture was built from a store that already had these
        if batch.stale_changed:
            self._restale(store)
            self.queue.put_nowait(None)
        if batch.resync_all or (self.name in batch.resync and store.workload(self.name)):
            self.queue.put_nowait(
                ResyncError()
            )  # a deletion stays an event: "deleted while waiting"
            return
        for key, name in batch.routed.get(self.name, ()):
            self.queue.put_nowait(self._current(store, key, name))

    def _current(self, store: Store, key: str, name: str) -> tuple[str, str, JsonObject]:
        """The object's state in the store now, as a watch event of the trigger's picture."""
        gone: JsonObject = {"metadata": {"name": name}}
        if key == WORKLOAD:
            workload = store.workload(name)
            return (
                (WORKLOAD, "MODIFIED", workload)
                if workload is not None
                else (WORKLOAD, "DELETED", gone)
            )
        obj = store.objects[key].get(name)
        selector = store.selector(self.name)
        if obj is not None and selector is not None and selector.matches(obj):
            return key, "MODIFIED", obj
        return key, "DELETED", gone
