"""A DaemonSet's finished pods: deleted and replaced, a failed one behind a per-node back-off.

As ``podsShouldBeOnNode`` in ``pkg/controller/daemon/daemon_controller.go`` does: a
Succeeded daemon pod is deleted (``SucceededDaemonPod``), a Failed one too
(``FailedDaemonPod`` warning) unless that node's failed-pod back-off - 1 s doubling to
15 min (``flowcontrol.NewBackOff(1s, 15min)``) - says to wait; the next sync creates
the replacement. Everything runs on a held clock: times are exact emulated times.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.controlplane.daemonset import FAILED_POD_BACKOFF, Backoff
from kube_test_cluster.machinery.behaviour import ANNOTATION
from kube_test_cluster.registry.store import Change

Obj = dict[str, Any]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


# -- the back-off (flowcontrol.Backoff) ------------------------------------------------------


def backoff() -> Backoff:
    return Backoff(*FAILED_POD_BACKOFF)


#: (failures at these seconds after T0, asked at this second) -> (delay, still backing off)
@pytest.mark.parametrize(
    ("failures", "asked", "delay", "waiting"),
    [
        ([], 0, 0, False),
        ([0], 0.5, 1, True),
        ([0], 1, 1, False),
        ([0, 1], 2.5, 2, True),
        ([0, 1, 3, 7, 15], 30, 16, True),
        ([0, 1, 3, 7, 15], 31, 16, False),
        ([i * 1000 for i in range(12)], 11_500, 900, True),
        ([0, 1, 3], 3 + 1800.5, 4, False),
        ([0, 1, 3, 3 + 1800.5], 3 + 1800.5, 1, True),
    ],
    ids=[
        "a node that never failed does not wait",
        "the first failure makes the node wait one second",
        "one second later the node may fail again",
        "a second failure doubles the wait to two seconds",
        "five failures wait sixteen seconds, counted from the last one",
        "sixteen seconds after the fifth failure the node may fail again",
        "the wait stops growing at fifteen minutes",
        "a node quiet for more than thirty minutes is no longer waiting",
        "a node quiet for more than thirty minutes starts over at one second",
    ],
)
def test_the_failed_pod_back_off_doubles_from_one_second_to_fifteen_minutes(
    failures: list[float], asked: float, delay: float, waiting: bool
) -> None:
    table = backoff()
    for at in failures:
        table.next("node-1", T0 + at * SECOND)
    assert table.get("node-1") == delay * SECOND
    assert table.in_backoff_since_update("node-1", T0 + asked * SECOND) is waiting


def test_expired_entries_are_forgotten_and_others_kept() -> None:
    table = backoff()
    table.next("old", T0)
    table.next("recent", T0 + 1000 * SECOND)
    table.gc(T0 + 1801 * SECOND)
    assert len(table) == 1
    assert table.get("old") == timedelta(0)
    assert table.get("recent") == SECOND


# -- a finished daemon pod -------------------------------------------------------------------


def daemonset(annotations: dict[str, str] | None = None) -> Obj:
    metadata: Obj = {"labels": {"app": "agent"}}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": metadata,
                "spec": {"containers": [{"name": "agent", "image": "agent:1"}]},
            },
        },
    }


def on_node(cluster: EmulatedCluster, node: str) -> list[Obj]:
    return [
        p
        for p in cluster.store.list("pods", "default")
        if p["spec"].get("nodeName") == node and not p["metadata"].get("deletionTimestamp")
    ]


def events(cluster: EmulatedCluster, reason: str) -> list[Obj]:
    return [e for e in cluster.events if e["reason"] == reason]


@pytest.mark.parametrize(
    ("phase", "type_", "reason", "message"),
    [
        (
            "Failed",
            "Warning",
            "FailedDaemonPod",
            "Found failed daemon pod default/agent-old on node node-2, will try to kill it",
        ),
        (
            "Succeeded",
            "Normal",
            "SucceededDaemonPod",
            "Found succeeded daemon pod default/agent-old on node node-2, will try to delete it",
        ),
    ],
    ids=[
        "a failed daemon pod is deleted with a FailedDaemonPod warning and replaced",
        "a succeeded daemon pod is deleted with a SucceededDaemonPod event and replaced",
    ],
)
def test_a_finished_daemon_pod_is_deleted_and_replaced(
    phase: str, type_: str, reason: str, message: str
) -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.store.create(  # a finished pod of an earlier agent, which the new one adopts
            "pods",
            {
                "metadata": {
                    "name": "agent-old",
                    "namespace": "default",
                    "labels": {"app": "agent"},
                },
                "spec": {
                    "nodeName": "node-2",
                    "containers": [{"name": "agent", "image": "agent:1"}],
                },
                "status": {"phase": phase},
            },
        )
        cluster.apply(daemonset())
        cluster.advance(5)
        assert cluster.get("pods", "agent-old") is None
        [event] = events(cluster, reason)
        assert (event["type"], event["message"]) == (type_, message)
        assert event["involvedObject"]["kind"] == "DaemonSet"
        assert event["source"] == {"component": "daemonset-controller"}
        [replacement] = on_node(cluster, "node-2")
        assert replacement["status"]["phase"] == "Running"
        status = cluster.get("daemonsets", "agent")["status"]  # type: ignore[index]
        assert (status["desiredNumberScheduled"], status["numberReady"]) == (3, 3)


def deletions(cluster: EmulatedCluster) -> dict[str, list[datetime]]:
    """Emulated times at which pods are marked for deletion (or removed at once), by node."""
    found: dict[str, list[datetime]] = {}

    def track(change: Change) -> None:
        if change.resource != "pods":
            return
        before = (change.old or {}).get("metadata", {})
        marked = change.obj["metadata"].get("deletionTimestamp") and not before.get(
            "deletionTimestamp"
        )
        removed = change.type == "DELETED" and not before.get("deletionTimestamp")
        if marked or removed:
            node = change.obj["spec"].get("nodeName", "")
            found.setdefault(node, []).append(cluster.clock.now())

    cluster.store.add_listener(track)
    return found


def gaps(times: list[datetime]) -> list[float]:
    return [(b - a).total_seconds() for a, b in itertools.pairwise(times)]


@pytest.mark.parametrize(
    ("failing", "steady"),
    [(["node-2"], ["node-1", "node-3"]), (["node-1", "node-3"], ["node-2"])],
    ids=[
        "one node evicting its pod backs off on that node alone",
        "two nodes evicting their pods back off independently",
    ],
)
def test_failed_pods_are_deleted_ever_more_slowly_on_their_node(
    failing: list[str], steady: list[str]
) -> None:
    evicted = {f"{ANNOTATION}-node-{node}": "evict-after=0.1" for node in failing}
    with EmulatedCluster(manual_clock=True) as cluster:
        deleted = deletions(cluster)
        cluster.apply(daemonset(evicted))
        cluster.advance(40)
        for node in failing:
            between: list[float] = gaps(deleted[node])
            # each failed pod lives ~0.3 s; the node then waits 1, 2, 4, 8, 16 s before the next
            # deletion (without the back-off the controller would delete one every 0.3 s)
            assert len(between) >= 4
            for attempt, gap in enumerate(between[:5]):
                assert 2**attempt <= gap < 2 ** (attempt + 1), between
        for node in steady:
            assert node not in deleted
            assert len(on_node(cluster, node)) == 1
        warned = [e["message"] for e in events(cluster, "FailedDaemonPod")]
        assert len(warned) == sum(len(deleted[node]) for node in failing)
        assert all(m.startswith("Found failed daemon pod default/agent-") for m in warned)


def test_a_failed_pod_waiting_for_its_back_off_keeps_its_node_counted() -> None:
    evicted = {f"{ANNOTATION}-node-node-2": "evict-after=0.1"}
    with EmulatedCluster(manual_clock=True) as cluster:
        deleted = deletions(cluster)
        cluster.apply(daemonset(evicted))
        cluster.advance(3)  # deleted at ~0.7 s and ~2 s; its successor failed at ~2.3 s
        [failed] = on_node(cluster, "node-2")
        assert failed["status"]["phase"] == "Failed"
        assert len(deleted["node-2"]) == 2
        status = cluster.get("daemonsets", "agent")["status"]  # type: ignore[index]
        # the failed pod is still the node's pod: scheduled, not ready, no second pod made
        assert status["currentNumberScheduled"] == 3
        assert status["numberReady"] == 2
        assert status["numberUnavailable"] == 1
