"""Fixtures the hook tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kube_test_cluster.cluster import EmulatedCluster


@pytest.fixture
def frozen() -> Iterator[EmulatedCluster]:
    """A test cluster whose clock moves only when a test advances it."""
    with EmulatedCluster(manual_clock=True) as cluster:
        yield cluster
