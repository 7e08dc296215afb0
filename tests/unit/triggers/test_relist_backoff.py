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

from airflow_sts_provider.triggers import base
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
    monkeypatch.setattr(base._Cycle, "healthy", property(lambda self: healthy))
    raised = 0

    async def cycle(_hook: Any, _cycle: Any) -> dict[str, Any] | None:
        nonlocal raised
        raised += 1
        if raised <= 3:
            raise base._RelistError("410 Gone")
        return {"status": "success"}

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(trigger, "_cycle", cycle)
    monkeypatch.setattr(asyncio, "sleep", sleep)
    assert asyncio.run(trigger._wait())["status"] == "success"
    assert slept == expected
