"""Triggers run against a test cluster whose clock stands still until a test moves it.

A workload on a held clock cannot finish before a trigger has done what a test is
about (listed, watched, met its faults), however late a loaded machine starts it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_sts_provider.testing.cluster import EmulatedCluster


async def advance_until_done(cluster: EmulatedCluster, task: asyncio.Future[Any]) -> None:
    """Move a held clock on, two seconds at a time, until ``task`` (the triggers) is done."""
    while not task.done():
        await asyncio.to_thread(cluster.advance, 2)
        await asyncio.sleep(0.05)
