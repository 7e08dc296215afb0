"""The scale benchmark's harness at N = 3, so it cannot rot: its counts, never its timings.

``benchmarks/bench_scale.py`` runs N StatefulSet triggers in a triggerer process of
their own against the test cluster. Here three triggers in one namespace: each keeps
two watches of its own (the StatefulSet by name, its pods by selector); shared, the
namespace's triggers hold one watch per resource between them.
"""

from __future__ import annotations

import functools

import pytest

from benchmarks.bench_scale import Options, Result, run_scale, sharing_available

N = 3
#: one namespace, so that shared (2 watches) and own (2 per trigger) differ at N = 3
OPTIONS = Options(namespaces=1, idle_seconds=1.0, startup_seconds=6.0)


@functools.cache
def _run(mode: str) -> Result:
    """One run per mode for the whole module (a run takes about 15 s)."""
    if mode == "shared" and not sharing_available():
        pytest.skip(
            "the provider's triggers do not share streams yet (no share_watches / "
            "shared_stream_key on StatefulSetRunningTrigger): only the own-watches path runs"
        )
    return run_scale(N, mode, OPTIONS)


@pytest.mark.parametrize(
    ("mode", "watches", "routed"),
    [
        pytest.param("own", 2 * N, 0, id="each trigger keeps its own two watches"),
        pytest.param("shared", 2, N, id="shared, the namespace's triggers hold two watches"),
    ],
)
def test_the_harness_counts_watches_and_every_trigger_fires_once(
    mode: str, watches: int, routed: int
) -> None:
    result = _run(mode)

    assert result.idle.watches_open == watches
    assert result.routed_shared == routed
    assert result.statuses == {"success": N}
    assert len(result.latencies) == N
    assert result.fired_before_idle_ended == 0


def test_without_sharing_each_trigger_opens_one_watch_per_resource() -> None:
    result = _run("own")

    assert result.requests_by_kind.get("watch statefulsets") == N
    assert result.requests_by_kind.get("watch pods") == N
    assert result.idle.rss_bytes > result.idle.base_rss_bytes > 0


def test_no_trigger_fires_before_its_workloads_stability_window_closes() -> None:
    """A negative latency would be a trigger firing early, or the harness misreading the
    cluster's clock; 50 ms covers sampling the two clocks a moment apart."""
    result = _run("own")

    assert min(result.latencies) > -0.05
