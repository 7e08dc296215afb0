"""A watch that fell behind (410) relists at once; only 410s again and again back off.

Narrow on purpose: the cycle is a stub that raises what a cycle would; the real path
(a compacted history against the test cluster) is in tests/integration/hooks/test_trigger.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_sts_provider.hooks import follow
from airflow_sts_provider.hooks.follow import Expiries, WatchExpiredError
from airflow_sts_provider.hooks.retry import RetryPolicy
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger


@asynccontextmanager
async def no_session() -> AsyncIterator[None]:
    yield


@pytest.mark.parametrize(
    ("healthy", "expected"),
    [(False, [1.0, 2.0]), (True, [])],
    ids=[
        "the first relist is at once, then 410s again and again back off",
        "after a healthy while every 410 relists at once",
    ],
)
def test_relists(monkeypatch: pytest.MonkeyPatch, healthy: bool, expected: list[float]) -> None:
    trigger = StatefulSetRunningTrigger(name="web", namespace="default")
    hook = SimpleNamespace(session=no_session, retry=SimpleNamespace(delay=lambda n, *_: float(n)))
    monkeypatch.setattr(trigger, "hook", lambda: hook)
    if healthy:  # every cycle's watches were open long enough
        monkeypatch.setattr(follow, "HEALTHY_WATCH_SECONDS", 0.0)
    raised = 0

    async def cycle(_hook: Any, cycle: Any) -> dict[str, Any] | None:
        nonlocal raised
        raised += 1
        cycle.expiries.watching()  # what the hook does when the server accepts a watch
        if raised <= 3:
            raise WatchExpiredError("410 Gone")
        return {"status": "success"}

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(trigger, "_cycle", cycle)
    monkeypatch.setattr(asyncio, "sleep", sleep)
    assert asyncio.run(trigger._wait())["status"] == "success"
    assert [seconds for seconds in slept if seconds] == expected


NO_JITTER = RetryPolicy(first=1.0, cap=30.0, jitter=0.0)


@pytest.mark.parametrize(
    ("opened_for", "expected"),
    [
        ([None, None, None, None], [0.0, 1.0, 2.0, 4.0]),
        ([0.0, 0.0, 0.0], [0.0, 1.0, 2.0]),
        ([0.0, 0.0, 30.0, 0.0], [0.0, 1.0, 0.0, 1.0]),
    ],
    ids=[
        "410s on never-accepted watches back off after the first",
        "a watch that was accepted but 410s at once backs off alike",
        "a watch open 30 s makes the next 410 a first one again",
    ],
)
def test_expiries_follow_the_reflectors_rule(
    opened_for: list[float | None], expected: list[float]
) -> None:
    """The one rule both followers use (own watches per cycle, shared ones per resource)."""
    now = [0.0]
    expiries = Expiries(monotonic=lambda: now[0])
    delays = []
    for seconds in opened_for:
        if seconds is not None:
            expiries.watching()
            now[0] += seconds
        delays.append(expiries.relist_delay(NO_JITTER))
    assert delays == expected
