"""What could hold the triggerer's event loop runs elsewhere or in slices.

A watch's buffered backlog, a big picture's judgement and a big page's decode each
held the loop for up to seconds with 200 triggers (``benchmarks/bench_loop_lag.py``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_sts_provider.hooks import workload as workload_module
from airflow_sts_provider.hooks.reads import Picture, Watch
from airflow_sts_provider.hooks.wire import Request
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook
from airflow_sts_provider.kinds import kind_of
from airflow_sts_provider.readiness import State, Verdict
from airflow_sts_provider.triggers.base import JUDGE_ON_THE_LOOP
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger

POD = {"type": "MODIFIED", "object": {"kind": "Pod", "metadata": {"name": "p"}}}


class _Backlog:
    """A watch response whose every chunk is buffered already: reading never waits."""

    def __init__(self, chunks: int) -> None:
        self.content = self
        self._chunks = chunks

    async def iter_any(self) -> AsyncIterator[bytes]:
        for _ in range(self._chunks):
            yield (json.dumps(POD) + "\n").encode() * 10

    def release(self) -> None:
        pass


def test_a_buffered_watch_backlog_gives_the_loop_a_turn_between_chunks() -> None:
    hook = AsyncWorkloadHook()
    watch = Watch("pods", Request("watch", "pods", "default"), {}, None)

    async def backlog(*_: Any) -> _Backlog:
        return _Backlog(chunks=50)

    hook._open = backlog  # type: ignore[method-assign,assignment]

    async def scenario() -> tuple[int, int]:
        turns = 0

        async def other() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(other())
        await asyncio.sleep(0)
        seen = 0
        async for _ in hook.watch(watch, None):
            seen += 1
        ticker.cancel()
        return seen, turns

    seen, turns = asyncio.run(scenario())
    assert seen == 500
    assert turns >= 50  # a turn per chunk, not one for the whole backlog


@pytest.mark.parametrize(
    ("replicas", "in_a_thread"),
    [(3, False), (JUDGE_ON_THE_LOOP + 1, True)],
    ids=["a small workload is judged on the loop", "a big one is judged in a thread"],
)
def test_a_big_picture_is_judged_off_the_loop(replicas: int, in_a_thread: bool) -> None:
    trigger = StatefulSetRunningTrigger(name="web", namespace="default")
    workload = {"metadata": {"name": "web"}, "spec": {"replicas": replicas}}
    picture = Picture(kind_of("StatefulSet"), "web", "default", workload)
    threads: list[int] = []

    def judge(now: datetime, policy: Any) -> Verdict:
        threads.append(threading.get_ident())
        return Verdict("StatefulSet", "web", "default", State.WAITING, "x", replicas, 0, None, ())

    picture.judge = judge  # type: ignore[method-assign]
    asyncio.run(trigger._judge_picture(picture, datetime.now(UTC)))
    assert (threads != [threading.get_ident()]) is in_a_thread


@pytest.mark.parametrize(
    ("size", "in_a_thread"),
    [(1_000, False), (workload_module.DECODE_ON_THE_LOOP + 1, True)],
    ids=["a small body is decoded on the loop", "a big page is decoded in a thread"],
)
def test_a_big_body_is_decoded_off_the_loop(
    monkeypatch: pytest.MonkeyPatch, size: int, in_a_thread: bool
) -> None:
    threads: list[int] = []

    def decode(request: Request, data: bytes) -> dict[str, Any]:
        threads.append(threading.get_ident())
        return {}

    monkeypatch.setattr(workload_module, "decode_body", decode)
    request = Request("list", "pods", "default")
    asyncio.run(workload_module._decoded_off_the_loop(request, b" " * size, None))
    assert (threads != [threading.get_ident()]) is in_a_thread


@pytest.mark.parametrize(
    ("workloads", "in_a_thread"),
    [(2, False), (JUDGE_ON_THE_LOOP, True)],
    ids=["a small release is judged on the loop", "a big release is judged in a thread"],
)
def test_a_big_release_is_judged_off_the_loop(workloads: int, in_a_thread: bool) -> None:
    from airflow_sts_provider.triggers.workloads import WorkloadsRunningTrigger

    trigger = WorkloadsRunningTrigger(
        label_selector="app=shop", kinds=["StatefulSet"], namespace="default"
    )
    threads: list[int] = []

    def judge(now: datetime, policy: Any) -> Verdict:
        threads.append(threading.get_ident())
        return Verdict("StatefulSet", "web", "default", State.READY, "x", 2, 2, None, ())

    pictures = []
    for i in range(workloads):
        workload = {"metadata": {"name": f"w{i}"}, "spec": {"replicas": 2}}
        picture = Picture(kind_of("StatefulSet"), f"w{i}", "default", workload)
        picture.judge = judge  # type: ignore[method-assign]
        pictures.append(picture)
    asyncio.run(trigger._judge_all(pictures, datetime.now(UTC)))
    assert (threading.get_ident() not in threads) is in_a_thread
