"""The async hook as a shared stream uses it: the informer's reads and a subscriber's.

The store and its subscribers are :mod:`.shared`'s; these are the two hooks they
read through. Like every hook, loaded off the triggerer's event loop
(:func:`airflow_sts_provider.triggers.loading.load_hooks`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from airflow_sts_provider.hooks.clock import ServerClock
from airflow_sts_provider.hooks.reads import Picture, Plan, T, arun_plan
from airflow_sts_provider.hooks.wire import JsonObject
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook
from airflow_sts_provider.kinds import Kind
from airflow_sts_provider.readiness import Verdict

__all__ = ["InformerHook", "SubscriberHook"]


class InformerHook(AsyncWorkloadHook):
    """The async hook with the one read an informer adds: any plan, answered as a poke's."""

    async def read(self, plan: Plan[T]) -> T:
        """Answer every step of ``plan`` (paged lists included) with this hook's policies."""
        return await arun_plan(plan, self._answer)


class _Store(Protocol):
    """What a subscriber reads of the shared store."""

    clock: ServerClock
    read_clock: Callable[[], Awaitable[object]] | None

    async def refresh_clock(self) -> None: ...

    def workload(self, name: str) -> JsonObject | None: ...


class _Feed(Protocol):
    store: Any  # a _Store once the subscriber knows its stream


class SubscriberHook(AsyncWorkloadHook):
    """A subscriber's reads: the store for the workload and the clock, a session for the rest.

    Only a failure (its pods' events) or an absence (the closest names) makes a
    request of its own; everything else comes from the shared watches.
    """

    def __init__(self, feed: _Feed, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed = feed

    async def read_workload(self, picture: Picture) -> None:
        """The periodic re-read: the store already holds what the watch delivered."""
        store: _Store | None = self.feed.store
        if store is not None:
            await store.refresh_clock()
            self.clock = store.clock
            picture.workload = store.workload(picture.name)

    def clock_probe(self) -> Callable[[], Awaitable[object]] | None:
        """The stream's clock read: the clock is the store's, and so is its session."""
        store: _Store | None = self.feed.store
        return None if store is None else store.read_clock

    async def with_events(self, verdict: Verdict, picture: Picture) -> Verdict:
        """The failing pods' Warning events, in a session of its own."""
        async with self.session():
            return await super().with_events(verdict, picture)

    async def explain_absence(self, kind: str | Kind, name: str, namespace: str) -> str:
        """Why the workload is not found, in a session of its own."""
        async with self.session():
            return await super().explain_absence(kind, name, namespace)
