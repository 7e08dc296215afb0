"""One status write per controller step: watchers (kubectl rollout status) see each step once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster

KUBECTL = shutil.which("kubectl")


def _spy_status_writes(cluster: EmulatedCluster, resource: str) -> list[dict[str, Any]]:
    writes: list[dict[str, Any]] = []
    original = cluster.store.replace_status

    def spy(kind: str, cached: Any, status: Any) -> None:
        if kind == resource:
            writes.append(dict(status))
        original(kind, cached, status)

    cluster.store.replace_status = spy  # type: ignore[method-assign,assignment]
    return writes


def test_an_ordered_statefulset_writes_its_status_once_per_step() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        writes = _spy_status_writes(cluster, "statefulsets")
        cluster.apply_scenario("slow-start")
        cluster.advance(60)
        sts = cluster.get("statefulsets", "slow-start")
        assert sts is not None and sts["status"]["readyReplicas"] == 3
    steps = [(w["replicas"], w.get("readyReplicas", 0)) for w in writes]
    # pod 0 created; 0 ready + pod 1 created; 1 ready + pod 2 created; all ready
    assert steps == [(1, 0), (2, 1), (3, 2), (3, 3)], steps


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
def test_rollout_status_prints_each_waiting_line_once(tmp_path: Path) -> None:
    assert KUBECTL is not None
    with EmulatedCluster(speed=5) as cluster:
        cluster.apply_scenario("slow-start")
        result = subprocess.run(
            [
                KUBECTL,
                "--kubeconfig",
                str(cluster.kubeconfig_path),
                "--cache-dir",
                str(tmp_path / "kube-cache"),
                "rollout",
                "status",
                "statefulset/slow-start",
                "--timeout=60s",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    waiting = [line for line in lines if line.startswith("Waiting")]
    assert waiting and len(waiting) == len(set(waiting)), result.stdout
    assert "roll out complete" in lines[-1]
