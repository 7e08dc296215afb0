"""The DaemonSet scenarios, on a manual clock."""

from __future__ import annotations

from kube_test_cluster.cluster import EmulatedCluster


def test_healthy_daemonset_and_rollout_and_crashloop() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        for name in ("healthy-daemonset", "daemonset-rollout", "daemonset-crashloop"):
            cluster.apply_scenario(name)
        cluster.advance(6)
        healthy = cluster.get("daemonsets", "healthy-daemonset")
        assert healthy is not None
        assert healthy["status"]["numberAvailable"] == 3
        cluster.advance(3)
        mid = cluster.get("daemonsets", "daemonset-rollout")
        assert mid is not None
        assert mid["status"]["observedGeneration"] == 2
        assert mid["status"].get("updatedNumberScheduled", 0) < 3
        cluster.advance(30)
        done = cluster.get("daemonsets", "daemonset-rollout")
        assert done is not None
        assert done["status"]["updatedNumberScheduled"] == 3
        assert done["status"]["numberAvailable"] == 3
        crash = cluster.get("daemonsets", "daemonset-crashloop")
        assert crash is not None
        assert crash["status"]["numberReady"] == 2
        [broken] = [
            p
            for p in cluster.store.list("pods", "default")
            if p["metadata"]["name"].startswith("daemonset-crashloop-")
            and p["spec"]["nodeName"] == "node-2"
        ]
        assert broken["status"]["containerStatuses"][0]["restartCount"] >= 1
