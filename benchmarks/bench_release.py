"""Requests and time of one release poke: shared LISTs against a LIST per workload.

N StatefulSets of release ``shop`` (their selectors share
``app.kubernetes.io/instance=shop``, as a Helm chart's do), all Ready, on the test
cluster with its clock held, served in this process. Each poke is
``WorkloadHook.get_workloads_readiness`` (the sensor's) or
``AsyncWorkloadHook.read_workloads`` plus judging (the release trigger's), made

* ``shared``: the reads now: a LIST per kind, one LIST of the pods (a request per
  500) split among the workloads by their own selectors;
* ``per workload``: the reads before (``workloads_plan(..., shared=False)``): a LIST
  of pods per workload, by its own selector.

Best of ``--repeat``, the two ways taking turns. ``--latency-ms`` adds that much to
every answer of the server, as a real API server's round trip does (the issue's
400 StatefulSets at 14 s a poke were about 35 ms a request)::

    python benchmarks/bench_release.py                     # 100 workloads, no added latency
    python benchmarks/bench_release.py -n 400 --latency-ms 35

The server shares this process's GIL, so times without latency are an upper bound
of the client's cost; the request counts are exact.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from airflow_sts_provider.hooks import reads, workload
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook, WorkloadHook
from airflow_sts_provider.kinds import WORKLOAD_KINDS
from airflow_sts_provider.readiness import ReadinessPolicy, State
from kube_test_cluster.cluster import EmulatedCluster

SELECTOR = "app.kubernetes.io/instance=shop"
NAMESPACE = "shop"
POLICY = ReadinessPolicy(min_stable_seconds=5)
CONN = "AIRFLOW_CONN_KUBERNETES_DEFAULT"


def statefulset(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }


def per_workload(enabled: bool) -> contextlib.AbstractContextManager[object]:
    """The hooks read a release the way before: a LIST of related objects per workload."""
    if not enabled:
        return contextlib.nullcontext()
    before = functools.partial(reads.workloads_plan, shared=False)
    return mock.patch.object(workload, "workloads_plan", before)


def sync_poke(workloads: int) -> None:
    release = WorkloadHook().get_workloads_readiness(SELECTOR, namespace=NAMESPACE, policy=POLICY)
    assert release.state is State.READY and len(release.workloads) == workloads, release.reason


def async_read(workloads: int) -> None:
    async def read() -> None:
        hook = AsyncWorkloadHook()
        async with hook.session():
            pictures = await hook.read_workloads(SELECTOR, WORKLOAD_KINDS, NAMESPACE)
        now = hook.clock.now()
        states = {picture.judge(now, POLICY).state for picture in pictures}
        assert states == {State.READY} and len(pictures) == workloads, states

    asyncio.run(read())


def measure(cluster: EmulatedCluster, poke: Callable[[], None]) -> tuple[int, float]:
    """The requests the server counted and the seconds one poke took."""
    before = cluster.stats()["requests_total"]
    started = time.perf_counter()
    poke()
    took = time.perf_counter() - started
    return int(cluster.stats()["requests_total"] - before), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--workloads", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply([statefulset(f"shop-{i}", args.replicas) for i in range(args.workloads)])
        cluster.advance(30)
        extra = {"kube_config": cluster.kubeconfig}
        os.environ[CONN] = json.dumps({"conn_type": "kubernetes", "extra": extra})
        cluster.faults.set(latency_ms=args.latency_ms)
        pods = len(cluster.store.list("pods", NAMESPACE))
        print(
            f"{args.workloads} StatefulSets, {pods} pods, "
            f"+{args.latency_ms:g} ms a request, best of {args.repeat}"
        )
        print(f"{'hook':<22}{'reads':<14}{'requests':>9}{'s / poke':>11}")
        for name, poke in (("sync (sensor)", sync_poke), ("async (trigger)", async_read)):
            best: dict[bool, tuple[int, float]] = {}
            for _ in range(args.repeat):
                for old in (False, True):
                    with per_workload(old):
                        count, took = measure(cluster, functools.partial(poke, args.workloads))
                    if old not in best or took < best[old][1]:
                        best[old] = (count, took)
            for old in (True, False):
                count, took = best[old]
                label = "per workload" if old else "shared"
                print(f"{name:<22}{label:<14}{count:>9}{took:>11.3f}")


if __name__ == "__main__":
    main()
