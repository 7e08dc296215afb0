"""The hook's ``follow``: the one way a watch is read, over real HTTPS.

Own watches (no relist: a 410 is the trigger's, which relists its whole picture) and
the shared informer (a relist per resource) both read watches through it; these tests
hold it to what both rely on. The cluster's clock is held, so nothing changes but
what a test writes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import pytest

from airflow_sts_provider.exceptions import KubernetesPermissionError
from airflow_sts_provider.hooks.follow import Change, Changed, Listed, Stale, WatchExpiredError
from airflow_sts_provider.hooks.informer import InformerHook
from airflow_sts_provider.hooks.reads import namespace_plan, namespace_watch
from airflow_sts_provider.hooks.retry import RetryPolicy
from airflow_sts_provider.kinds import KINDS
from kube_test_cluster.cluster import EmulatedCluster

CONN_ID = "sts_follow_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"
PODS = KINDS["Pod"].resource
#: Bound on one item's arrival, so a bug fails the test instead of hanging it.
ITEM_BOUND = 60.0


@pytest.fixture
def held() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply_scenario("healthy", replicas=1)
        cluster.wait_for(lambda: cluster.get("pods", "healthy-0") is not None)
        cluster.faults.set(watch_cut_after=0.3)  # watches end often: each resumes in place
        os.environ[CONN_ENV] = cluster.airflow_connection_json()
        yield cluster
    os.environ.pop(CONN_ENV, None)


def _hook() -> InformerHook:
    hook = InformerHook(conn_id=CONN_ID)
    hook.retry = RetryPolicy(first=0.01, cap=0.05, jitter=0.0)  # retries count, not time
    return hook


def _touch(cluster: EmulatedCluster, pod: str, value: str) -> None:
    def label(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("labels", {})["touched"] = value

    cluster.patch("pods", "default", pod, label)


def _touched(change: Change, value: str) -> bool:
    labels = change.obj["metadata"].get("labels", {}) if isinstance(change, Changed) else {}
    return bool(labels.get("touched") == value)


class Drain:
    """Every item ``follow`` hands out, read as a trigger reads it (always, in a task),
    and a way to wait for what a test is about (never for time)."""

    def __init__(self, items: AsyncIterator[Change]) -> None:
        self.seen: list[Change] = []
        self._more = asyncio.Condition()
        self.task = asyncio.create_task(self._drain(items))

    async def _drain(self, items: AsyncIterator[Change]) -> None:
        async for item in items:
            async with self._more:
                self.seen.append(item)
                self._more.notify_all()

    async def until(self, holds: Callable[[list[Change]], bool]) -> list[Change]:
        """Wait until ``holds(seen)``; a follower that raised raises here."""

        async def wait() -> None:
            async with self._more:
                while not holds(self.seen):
                    if self.task.done():
                        self.task.result()  # its error
                        raise AssertionError(f"follow ended; saw {self.seen}")
                    await asyncio.wait_for(self._more.wait(), 1.0)

        while True:
            try:
                await asyncio.wait_for(wait(), ITEM_BOUND)
                return self.seen
            except TimeoutError:
                if self.task.done():
                    continue  # re-check: the task may have ended between two items
                raise


def _follow(
    cluster: EmulatedCluster, scene: Callable[[Drain], Awaitable[Any]], relist: bool
) -> Any:
    """Run ``scene(drain)`` over a namespace-wide pod watch, in a session."""
    hook = _hook()

    async def run() -> Any:
        async with hook.session():
            if relist:  # as the shared informer: list, then watch, relist on 410
                watch = namespace_watch(PODS, "default", None)
                items = hook.follow(watch, relist=partial(namespace_plan, PODS, "default"))
            else:  # as a trigger: from its own list's version; a 410 is its own
                listing = await hook.read(namespace_plan(PODS, "default"))
                items = hook.follow(namespace_watch(PODS, "default", listing.resource_version))
            drain = Drain(items)
            try:
                return await scene(drain)
            finally:
                drain.task.cancel()
                await asyncio.gather(drain.task, return_exceptions=True)

    return asyncio.run(run())


def _lists(seen: list[Change]) -> int:
    return sum(isinstance(item, Listed) for item in seen)


def test_a_relist_comes_first_then_every_change_after_it(held: EmulatedCluster) -> None:
    async def scene(drain: Drain) -> list[Change]:
        await drain.until(bool)
        await asyncio.to_thread(_touch, held, "healthy-0", "once")
        return await drain.until(lambda seen: any(_touched(item, "once") for item in seen))

    listed, *rest = _follow(held, scene, relist=True)
    assert isinstance(listed, Listed)
    assert [pod["metadata"]["name"] for pod in listed.listing.items] == ["healthy-0"]
    changed = [item for item in rest if isinstance(item, Changed)]
    assert [item.type for item in changed] == ["MODIFIED"]


def test_a_refused_watch_is_stale_until_taken_again_and_misses_nothing(
    held: EmulatedCluster,
) -> None:
    async def scene(drain: Drain) -> list[Change]:
        await drain.until(bool)  # the list
        # the open watch ends (watch_cut_after), and every reopening is refused
        held.faults.set(path_pattern=r"watch=true", fail_rate=1.0, fail_codes=[503], retry_after=0)
        await drain.until(lambda seen: Stale(True) in seen)
        await asyncio.to_thread(held.wait_for, lambda: held.faults.injected >= 3, 30)
        await asyncio.to_thread(_touch, held, "healthy-0", "while-refused")
        held.faults.set(path_pattern=None, fail_rate=0.0)
        return await drain.until(lambda seen: any(_touched(i, "while-refused") for i in seen))

    seen = _follow(held, scene, relist=True)
    stale = [item.stale for item in seen if isinstance(item, Stale)]
    assert stale == [True, False]  # once stale, once whole again: not once per retry
    assert _lists(seen) == 1  # resumed from its version, never relisted
    after = seen[seen.index(Stale(False)) :]
    assert any(_touched(item, "while-refused") for item in after)


def _expire(cluster: EmulatedCluster) -> None:
    """Refuse watches, write, forget the history: the next watch resumes from a gone version."""
    cluster.faults.set(path_pattern=r"watch=true", fail_rate=1.0, fail_codes=[503], retry_after=0)
    cluster.wait_for(
        lambda: cluster.faults.injected >= 2 and cluster.stats()["watches_open"] == 0, timeout=30
    )
    _touch(cluster, "healthy-0", "after-compaction")
    cluster.store.compact()
    cluster.faults.set(path_pattern=None, fail_rate=0.0)


def test_a_history_gone_relists_and_hands_out_the_new_list(held: EmulatedCluster) -> None:
    async def scene(drain: Drain) -> list[Change]:
        await drain.until(bool)
        await asyncio.to_thread(_expire, held)
        return await drain.until(lambda seen: _lists(seen) == 2)

    seen = _follow(held, scene, relist=True)
    relisted = [item for item in seen if isinstance(item, Listed)][-1]
    (pod,) = relisted.listing.items
    assert pod["metadata"]["labels"]["touched"] == "after-compaction"


def test_without_a_relist_a_history_gone_is_the_callers(held: EmulatedCluster) -> None:
    async def scene(drain: Drain) -> None:
        await asyncio.to_thread(_expire, held)
        await drain.until(lambda seen: False)

    with pytest.raises(WatchExpiredError):
        _follow(held, scene, relist=False)


def test_a_watch_right_missing_is_raised_at_once() -> None:
    role = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-watch, namespace: default}
rules:
  - {apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}
"""
    with EmulatedCluster(manual_clock=True, role=role) as locked:
        os.environ[CONN_ENV] = locked.airflow_connection_json()
        try:

            async def scene(drain: Drain) -> None:
                await drain.until(lambda seen: False)

            with pytest.raises(KubernetesPermissionError, match="cannot watch"):
                _follow(locked, scene, relist=True)
        finally:
            os.environ.pop(CONN_ENV, None)
