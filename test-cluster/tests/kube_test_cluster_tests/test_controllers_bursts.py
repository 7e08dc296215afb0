"""Huge workloads come up in bounded bursts, and the API answers between them.

A StatefulSet of a million replicas used to take one sync that built a million pod
dicts (1.8 GB, no answer from the API for minutes). Controllers now do a bounded
burst per sync - 500 creations for StatefulSets (``Parallel``) and ReplicaSets, 250
for DaemonSets (``BurstReplicas``), one pod at a time under ``OrderedReady`` - and
are synced again for the rest. Nothing here waits for wall-clock time: the first
tests drive the control plane pass by pass (``step(passes=...)``) on a held clock;
the last one lets the background loop run and counts what it built meanwhile.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.controlplane import daemonset, replicaset, statefulset
from kube_test_cluster.registry.store import Change
from kube_test_cluster_tests.conftest import ApiCluster, raw_request

Obj = dict[str, Any]
MILLION = 1_000_000
#: the most memory one pass of one burst may take (a million pods built took 1.8 GB)
PASS_MEMORY = 64 * 1024 * 1024

pytestmark = pytest.mark.timeout(120)


def template(app: str) -> Obj:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def workload(kind: str, name: str, **spec: Any) -> Obj:
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name), **spec},
    }
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = name
    return body


class Held:
    """A test cluster whose API serves but whose control plane runs only when stepped."""

    def __init__(self, kubeconfig: Path, nodes: list[str] | None = None) -> None:
        self.cluster = EmulatedCluster(manual_clock=True, nodes=nodes)
        self.cluster.server.start()
        self.api = ApiCluster(
            self.cluster.server,
            self.cluster.store,
            self.cluster.clock,
            self.cluster.faults,
            self.cluster.server.write_kubeconfig(kubeconfig),
            self.cluster.token or "",
        )

    def pods(self) -> int:
        return len(self.cluster.store.list("pods", "default"))

    def close(self) -> None:
        self.cluster.control_plane.stop()
        self.cluster.server.stop()


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Callable[..., Held]]:
    made: list[Held] = []

    def make(nodes: list[str] | None = None) -> Held:
        made.append(Held(tmp_path / f"kubeconfig-{len(made)}", nodes))
        return made[-1]

    yield make
    for one in made:
        one.close()


THREE_HUNDRED_NODES = [f"node-{i}" for i in range(300)]


@pytest.mark.parametrize(
    ("manifest", "nodes", "path", "per_pass"),
    [
        (
            workload("StatefulSet", "big", replicas=MILLION),
            None,
            "/apis/apps/v1/namespaces/default/statefulsets/big",
            [1, 1, 1],
        ),
        (
            workload("StatefulSet", "big", replicas=MILLION, podManagementPolicy="Parallel"),
            None,
            "/apis/apps/v1/namespaces/default/statefulsets/big",
            [statefulset.BURST, 2 * statefulset.BURST, 3 * statefulset.BURST],
        ),
        (
            workload("ReplicaSet", "big", replicas=MILLION),
            None,
            "/apis/apps/v1/namespaces/default/replicasets/big",
            [replicaset.BURST, 2 * replicaset.BURST, 3 * replicaset.BURST],
        ),
        (
            workload("Deployment", "big", replicas=MILLION),
            None,
            "/apis/apps/v1/namespaces/default/deployments/big",
            [0, replicaset.BURST, 2 * replicaset.BURST],
        ),
        (
            workload("DaemonSet", "big"),
            THREE_HUNDRED_NODES,
            "/apis/apps/v1/namespaces/default/daemonsets/big",
            [daemonset.BURST, 300, 300],
        ),
    ],
    ids=[
        "an OrderedReady StatefulSet of a million makes one pod and waits for it",
        "a Parallel StatefulSet of a million makes five hundred pods a pass",
        "a ReplicaSet of a million makes five hundred pods a pass",
        "a Deployment of a million makes its ReplicaSet, then five hundred pods a pass",
        "a DaemonSet on three hundred nodes makes two hundred and fifty pods, then the rest",
    ],
)
def test_each_pass_makes_one_bounded_burst_and_the_api_answers_between(
    held: Callable[..., Held],
    manifest: Obj,
    nodes: list[str] | None,
    path: str,
    per_pass: list[int],
) -> None:
    cluster = held(nodes)
    cluster.cluster.apply(manifest)
    for expected in per_pass:
        tracemalloc.start()
        try:
            cluster.cluster.step(passes=1)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert cluster.pods() == expected
        assert peak < PASS_MEMORY
        got = raw_request(cluster.api, "GET", path)
        assert got.status == 200
        assert got.json()["metadata"]["name"] == "big"
        listed = raw_request(cluster.api, "GET", "/api/v1/namespaces/default/pods?limit=10")
        assert listed.status == 200
        assert len(listed.json()["items"]) == min(10, expected)


def test_the_status_counts_what_was_made_so_far(held: Callable[..., Held]) -> None:
    cluster = held()
    cluster.cluster.apply(
        workload("StatefulSet", "big", replicas=MILLION, podManagementPolicy="Parallel")
    )
    cluster.cluster.step(passes=3)
    sts = cluster.cluster.get("statefulsets", "big")
    assert sts is not None
    assert sts["status"]["replicas"] == 3 * statefulset.BURST
    assert sts["spec"]["replicas"] == MILLION
    assert [p["metadata"]["name"] for p in cluster.cluster.store.list("pods", "default")[:3]] == [
        "big-0",
        "big-1",
        "big-10",
    ]
    assert cluster.cluster.get("pods", f"big-{3 * statefulset.BURST - 1}") is not None
    assert cluster.cluster.get("pods", f"big-{3 * statefulset.BURST}") is None


def test_a_small_parallel_statefulset_still_comes_up_in_one_pass(
    held: Callable[..., Held],
) -> None:
    cluster = held()
    cluster.cluster.apply(
        workload("StatefulSet", "web", replicas=7, podManagementPolicy="Parallel")
    )
    cluster.cluster.step(passes=1)
    assert cluster.pods() == 7
    cluster.cluster.advance(5)
    sts = cluster.cluster.get("statefulsets", "web")
    assert sts is not None
    assert sts["status"]["readyReplicas"] == 7


def test_the_running_cluster_answers_while_a_million_pods_are_being_made() -> None:
    """The background loop builds bursts on its own; a GET and a paged LIST sent meanwhile
    are answered long before it is done, and stopping the cluster stops it at once."""
    created = 0
    first_burst = threading.Event()

    def count(change: Change) -> None:
        nonlocal created
        if change.resource == "pods" and change.type == "ADDED":
            created += 1
            if created >= statefulset.BURST:
                first_burst.set()

    cluster = EmulatedCluster(manual_clock=True)
    cluster.store.add_listener(count)
    answered_at: list[int] = []
    handle = cluster.server.api.handle

    def counting(*args: Any) -> Any:
        reply = handle(*args)
        answered_at.append(created)  # how far the controllers had got when the answer was ready
        return reply

    cluster.server.api.handle = counting  # type: ignore[method-assign,assignment]
    with cluster:
        api = ApiCluster(
            cluster.server,
            cluster.store,
            cluster.clock,
            cluster.faults,
            cluster.kubeconfig_path,
            cluster.token or "",
        )
        cluster.apply(
            workload("StatefulSet", "big", replicas=MILLION, podManagementPolicy="Parallel")
        )
        assert first_burst.wait(timeout=60)
        sent_at = created
        got = raw_request(api, "GET", "/apis/apps/v1/namespaces/default/statefulsets/big")
        listed = raw_request(api, "GET", "/api/v1/namespaces/default/pods?limit=10")
        loop = cluster.control_plane._thread
        assert loop is not None
    assert got.status == 200
    assert got.json()["spec"]["replicas"] == MILLION
    page = listed.json()
    assert len(page["items"]) == 10
    assert page["metadata"]["continue"]
    # both answered while the controllers were a few bursts further at most, far from done
    assert sent_at >= statefulset.BURST
    assert all(n - sent_at < 20 * statefulset.BURST for n in answered_at)
    # and stopping the cluster ended the loop in the middle of its work
    assert not loop.is_alive()
    assert created < MILLION
