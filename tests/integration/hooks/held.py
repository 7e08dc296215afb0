"""Triggers run against a test cluster whose clock stands still until a test moves it.

A workload on a held clock cannot finish before a trigger has done what a test is
about (listed, watched, met its faults), however late a loaded machine starts it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kube_test_cluster.cluster import EmulatedCluster


async def advance_until_done(cluster: EmulatedCluster, task: asyncio.Future[Any]) -> None:
    """Move a held clock on, two seconds at a time, until ``task`` (the triggers) is done."""
    while not task.done():
        await asyncio.to_thread(cluster.advance, 2)
        await asyncio.sleep(0.05)


def expire_the_watches(cluster: EmulatedCluster, name: str = "slow-start") -> None:
    """Refuse watches until a write has happened, forget the history, let them back in:
    every watch then resumes from a version that is gone (410)."""
    cluster.faults.set(path_pattern=r"watch=true", fail_rate=1.0, fail_codes=[503], retry_after=0)
    cluster.wait_for(
        lambda: cluster.faults.injected >= 2 and cluster.stats()["watches_open"] == 0, timeout=20
    )

    def touch(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("annotations", {})["touched"] = "yes"

    cluster.patch("statefulsets", "default", name, touch)
    cluster.patch("pods", "default", f"{name}-0", touch)
    cluster.store.compact()
    cluster.faults.set(path_pattern=None, fail_rate=0.0)
