"""``kubectl wait`` over 1,000 pods: what bounds it is kubectl's own rate limiter.

The audit saw ``kubectl wait --for=condition=Ready pod -l app=big`` not finish in
20 s. kubectl waits pod by pod (a LIST by ``metadata.name`` each) through its
client-side rate limiter (5 requests/s, burst 10, not settable from a kubeconfig), so
1,000 pods take ~200 s against any API server. These tests pin what the server owes:
every one of those requests is answered at once, kubectl itself says it is throttling,
and waiting on the workload, which is what a person should do, takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster_tests.kubectl import KUBECTL, kubectl

PODS = 1000
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=5) as running:
        running.apply_scenario("big", replicas=PODS)
        assert running.wait_for(lambda: ready(running) == PODS, timeout=120)
        yield running


def ready(cluster: EmulatedCluster) -> int:
    sts = cluster.store.get("statefulsets", "default", "big") or {}
    return int((sts.get("status") or {}).get("readyReplicas") or 0)


@pytest.mark.parametrize(
    "condition",
    [f"jsonpath={{.status.readyReplicas}}={PODS}", "jsonpath={.status.availableReplicas}=1000"],
    ids=["waiting on the ready count", "waiting on the available count"],
)
def test_waiting_on_the_workload_returns_as_soon_as_its_pods_are_ready(
    cluster: EmulatedCluster, condition: str
) -> None:
    result = kubectl(
        cluster.kubeconfig_path,
        "wait",
        f"--for={condition}",
        "statefulset/big",
        "--timeout=30s",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "condition met" in result.stdout


def test_waiting_pod_by_pod_is_held_back_by_kubectl_not_by_the_server(
    cluster: EmulatedCluster,
) -> None:
    before = cluster.stats()["requests_total"]
    result = kubectl(
        cluster.kubeconfig_path,
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "app=big",
        "--timeout=6s",
        "-v=6",
        check=False,
    )
    asked = cluster.stats()["requests_total"] - before
    assert "client-side throttling" in result.stderr
    # kubectl got through fewer than ~5 requests a second, each answered 200. How fast
    # the server answered is not asserted: a loaded machine stretches any wall time
    # (an answer took 1.1 s in a CI-like run); kubectl's own throttling is the proof.
    lines = [line for line in result.stderr.splitlines() if "/pods" in line and " 200 OK " in line]
    assert lines, result.stderr[-2000:]
    assert all(line.rstrip().endswith("milliseconds") for line in lines)
    assert asked < PODS / 10, f"{asked} requests in 6 s: kubectl is not the limit any more"
