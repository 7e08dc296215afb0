"""kubectl against a started test cluster: the controllers seen through an independent client.

Skipped where kubectl is absent. One cluster at 5x speed serves the module; tests
that change things work in their own namespace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster_tests.kubectl import KUBECTL, kubectl

#: the test cluster's project directory (test-cluster/: its pyproject, README and package)
PROJECT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=5) as running:
        running.apply_scenario("healthy")
        running.apply_scenario("rolling-update")
        yield running


def run(cluster: EmulatedCluster, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return kubectl(cluster.kubeconfig_path, *args, **kw)


def ready_pods(cluster: EmulatedCluster, namespace: str, prefix: str) -> list[str]:
    pods = cluster.store.list("pods", namespace)
    return [
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["name"].startswith(prefix)
        and not p["metadata"].get("deletionTimestamp")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p["status"].get("conditions") or []
        )
    ]


def test_rollout_status_of_the_healthy_statefulset_succeeds(cluster: EmulatedCluster) -> None:
    result = run(cluster, "rollout", "status", "statefulset/healthy", "--timeout=30s")
    assert "roll out complete: 3 new pods have been updated" in result.stdout


def test_rollout_status_follows_a_rolling_update_to_its_end(cluster: EmulatedCluster) -> None:
    def template_changed() -> bool:
        sts = cluster.get("statefulsets", "rolling-update") or {}
        return bool((sts.get("status") or {}).get("observedGeneration") == 2)

    cluster.wait_for(template_changed, timeout=30)
    result = run(cluster, "rollout", "status", "statefulset/rolling-update", "--timeout=30s")
    assert "roll out complete: 3 new pods have been updated" in result.stdout
    sts = cluster.get("statefulsets", "rolling-update")
    assert sts is not None
    revision = sts["status"]["updateRevision"]
    pods = json.loads(run(cluster, "get", "pods", "-l", "app=rolling-update", "-o", "json").stdout)
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods["items"]} == {
        revision
    }
    assert {p["spec"]["containers"][0]["image"] for p in pods["items"]} == {"nginx:1.28"}


def test_get_pods_by_label_as_json_shows_ready_pods(cluster: EmulatedCluster) -> None:
    run(cluster, "rollout", "status", "statefulset/healthy", "--timeout=30s")
    output = json.loads(run(cluster, "get", "pods", "-l", "app=healthy", "-o", "json").stdout)
    assert [p["metadata"]["name"] for p in output["items"]] == [
        "healthy-0",
        "healthy-1",
        "healthy-2",
    ]
    for pod in output["items"]:
        assert pod["status"]["phase"] == "Running"
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert ready["Ready"] == "True"


def test_get_sts_prints_the_ready_count(cluster: EmulatedCluster) -> None:
    run(cluster, "rollout", "status", "statefulset/healthy", "--timeout=30s")
    rows = [line.split() for line in run(cluster, "get", "sts").stdout.strip().splitlines()]
    assert rows[0] == ["NAME", "READY", "AGE"]
    assert rows[[r[0] for r in rows].index("healthy")][:2] == ["healthy", "3/3"]


def test_scale_up_and_down_is_carried_out_by_the_controller(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy", namespace="scaling")
    run(cluster, "-n", "scaling", "rollout", "status", "statefulset/healthy", "--timeout=30s")
    run(cluster, "-n", "scaling", "scale", "statefulset/healthy", "--replicas=5")
    cluster.wait_for(lambda: len(ready_pods(cluster, "scaling", "healthy-")) == 5, timeout=30)
    run(cluster, "-n", "scaling", "scale", "statefulset/healthy", "--replicas=2")

    def scaled_down() -> bool:
        names = [p["metadata"]["name"] for p in cluster.store.list("pods", "scaling")]
        return names == ["healthy-0", "healthy-1"]

    cluster.wait_for(scaled_down, timeout=30)


def test_a_deleted_pod_is_recreated_by_the_controller(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy", namespace="deleting")
    run(cluster, "-n", "deleting", "rollout", "status", "statefulset/healthy", "--timeout=30s")
    before = cluster.get("pods", "healthy-1", namespace="deleting")
    assert before is not None
    run(cluster, "-n", "deleting", "delete", "pod", "healthy-1", "--timeout=30s")

    def recreated() -> bool:
        pod = cluster.get("pods", "healthy-1", namespace="deleting")
        return pod is not None and pod["metadata"]["uid"] != before["metadata"]["uid"]

    cluster.wait_for(recreated, timeout=30)
    run(cluster, "-n", "deleting", "rollout", "status", "statefulset/healthy", "--timeout=30s")


def test_get_events_shows_the_kubelet_and_scheduler_events(cluster: EmulatedCluster) -> None:
    run(cluster, "rollout", "status", "statefulset/healthy", "--timeout=30s")
    table = run(cluster, "get", "events").stdout
    assert "Successfully assigned default/healthy-0 to node-" in table
    assert "Started container app" in table
    events = json.loads(
        run(
            cluster,
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=healthy-0",
            "-o",
            "json",
        ).stdout
    )
    sources = {(e["reason"], e["source"]["component"]) for e in events["items"]}
    assert {("Scheduled", "default-scheduler"), ("Started", "kubelet")} <= sources


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT], ids=["stops on SIGTERM", "stops on SIGINT"]
)
def test_the_cli_serves_a_scenario_kubectl_can_wait_for(tmp_path: Path, signum: int) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kube_test_cluster",
            "serve",
            "--scenario",
            "healthy",
            "--kubeconfig-out",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
        env=env,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        line = server.stdout.readline()  # bounded: the process prints it or dies
        assert line.startswith("Serving https://127.0.0.1:"), line + server.stderr.read()
        assert f"kubeconfig={kubeconfig}" in line and "scenarios=healthy" in line
        result = kubectl(kubeconfig, "rollout", "status", "statefulset/healthy", "--timeout=30s")
        assert "roll out complete" in result.stdout
        server.send_signal(signum)
        assert server.wait(timeout=15) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def test_at_high_speed_no_age_is_invalid(tmp_path: Path) -> None:
    with EmulatedCluster(speed=50) as fast:
        time.sleep(1)  # 50 emulated seconds: a clock started at real now is ahead by then
        fast.apply_scenario("healthy")
        fast.wait_for(lambda: len(ready_pods(fast, "default", "healthy-")) == 3, timeout=30)
        # ages computed by kubectl itself, against this machine's clock
        listed = run(fast, "get", "pods,statefulsets", "--server-print=false")
        described = run(fast, "describe", "pod", "healthy-0")
    for result in (listed, described):
        assert "<invalid>" not in result.stdout, result.stdout
    assert "healthy-0" in listed.stdout and "Started" in described.stdout
