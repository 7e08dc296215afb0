"""Bring-up cost: the cluster's work per pod must not grow with the number of pods.

Absolute timings depend on the machine; these checks compare the cluster with
itself in one process (see docs/test-cluster.md for the measured numbers).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from airflow_sts_provider.testing.cluster import EmulatedCluster


def bring_up(replicas: int) -> float:
    """Seconds to create ``big`` with ``replicas`` pods and run them all to Ready."""
    with EmulatedCluster(manual_clock=True, tls=False) as cluster:
        started = time.perf_counter()
        cluster.apply_scenario("big", replicas=replicas)
        cluster.advance(5)
        elapsed = time.perf_counter() - started
        sts = cluster.get("statefulsets", "big")
        assert sts is not None
        assert sts["status"].get("readyReplicas") == replicas
        return elapsed


def test_bringing_up_pods_makes_no_deep_copies_per_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's writes copy only what they change (before: ~39 copy.deepcopy per pod)."""
    calls = 0
    deepcopy = copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        nonlocal calls
        if memo is None:
            calls += 1
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    bring_up(200)
    assert calls < 20, f"{calls} deep copies for 200 pods"


def test_bring_up_cost_grows_linearly_with_the_pods() -> None:
    bring_up(100)  # warm up imports and caches
    small = min(bring_up(1000) for _ in range(2))
    large = bring_up(4000)
    assert large < 6 * small, f"1,000 pods in {small:.2f} s, 4,000 in {large:.2f} s"
