"""kubectl, an independent client, against the emulator (skipped where kubectl is absent)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.apiserver.rbac import Authorizer
from kube_test_cluster_tests.conftest import ApiCluster

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")


def kubectl(
    cluster: ApiCluster, *args: str, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    cache = cluster.kubeconfig.parent / "kube-cache"
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def _rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


@pytest.fixture
def web(api_cluster: ApiCluster) -> ApiCluster:
    """A StatefulSet and three Ready pods, plus an unrelated pod."""
    owner = api_cluster.statefulset("web")
    for i in range(3):
        api_cluster.pod(f"web-{i}", labels={"app": "web"})
        api_cluster.store.update(
            "pods",
            "default",
            f"web-{i}",
            lambda p: p.update(
                status={
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": "app",
                            "ready": True,
                            "restartCount": 0,
                            "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                        }
                    ],
                }
            ),
        )
    api_cluster.pod("db-0", labels={"app": "db"})
    del owner
    return api_cluster


def test_get_pods_by_label_as_json(web: ApiCluster) -> None:
    output = json.loads(kubectl(web, "get", "pods", "-l", "app=web", "-o", "json").stdout)
    assert output["kind"] == "List"
    assert [p["metadata"]["name"] for p in output["items"]] == ["web-0", "web-1", "web-2"]


def test_get_pods_prints_the_server_side_table(web: ApiCluster) -> None:
    rows = _rows(kubectl(web, "get", "pods").stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert rows[1][:4] == ["db-0", "0/1", "Running", "0"]
    assert rows[2][:4] == ["web-0", "1/1", "Running", "0"]


def test_get_pods_in_chunks_lists_each_pod_once(api_cluster: ApiCluster) -> None:
    for i in range(9):
        api_cluster.pod(f"pod-{i}")
    rows = _rows(kubectl(api_cluster, "get", "pods", "--chunk-size=2").stdout)
    assert [r[0] for r in rows] == ["NAME"] + [f"pod-{i}" for i in range(9)]


def test_get_statefulsets_and_wide_output(web: ApiCluster) -> None:
    web.store.update(
        "statefulsets", "default", "web", lambda s: s["status"].update(readyReplicas=3)
    )
    assert _rows(kubectl(web, "get", "sts").stdout) == [
        ["NAME", "READY", "AGE"],
        ["web", "3/3", "0s"],
    ]
    wide = _rows(kubectl(web, "get", "statefulsets", "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]
    assert wide[1][-2:] == ["app", "nginx:1.27"]


def test_get_events(api_cluster: ApiCluster) -> None:
    api_cluster.store.create(
        "events",
        {
            "metadata": {"name": "web-1.warn", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container app",
            "type": "Warning",
            "count": 1,
            "firstTimestamp": "2026-01-01T00:00:00Z",
            "lastTimestamp": "2026-01-01T00:00:00Z",
        },
    )
    lines = kubectl(api_cluster, "get", "events").stdout.strip().splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "Warning   BackOff   pod/web-1   Back-off restarting failed container app" in lines[1]


def test_get_pods_watch_prints_new_pods(web: ApiCluster) -> None:
    assert KUBECTL is not None
    process = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(web.kubeconfig),
            "get",
            "pods",
            "-l",
            "app=web",
            "-w",
            "--request-timeout=8s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line.split()[0])
            if seen[-1] == "web-2":
                web.pod("web-3", labels={"app": "web"})
            if seen[-1] == "web-3":
                break
    finally:
        process.kill()
        process.wait(timeout=10)
    assert seen == ["NAME", "web-0", "web-1", "web-2", "web-3"]


def test_get_pods_watch_ends_at_the_request_timeout(web: ApiCluster) -> None:
    result = kubectl(web, "get", "pods", "-w", "--request-timeout=1s", check=False)
    assert [r[0] for r in _rows(result.stdout)][:2] == ["NAME", "db-0"]


def test_delete_pod_without_waiting_leaves_it_terminating(web: ApiCluster) -> None:
    result = kubectl(web, "delete", "pod", "web-1", "--wait=false")
    assert 'pod "web-1" deleted' in result.stdout
    terminating = web.store.get("pods", "default", "web-1")
    assert terminating is not None
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert "Terminating" in kubectl(web, "get", "pod", "web-1").stdout


def test_force_delete_removes_the_pod(web: ApiCluster) -> None:
    kubectl(web, "delete", "pod", "web-1", "--grace-period=0", "--force")
    assert web.store.get("pods", "default", "web-1") is None


def test_scale_changes_spec_replicas(web: ApiCluster) -> None:
    result = kubectl(web, "scale", "statefulset", "web", "--replicas=5")
    assert "statefulset.apps/web scaled" in result.stdout
    stored = web.store.get("statefulsets", "default", "web")
    assert stored is not None
    assert (stored["spec"]["replicas"], stored["metadata"]["generation"]) == (5, 2)


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (
            ["-p", '{"spec":{"template":{"metadata":{"annotations":{"a":"b"}}}}}'],
            lambda s: s["spec"]["template"]["metadata"]["annotations"] == {"a": "b"},
        ),
        (
            ["--type=merge", "-p", '{"metadata":{"labels":{"team":"data"}}}'],
            lambda s: s["metadata"]["labels"] == {"team": "data"},
        ),
        (
            ["--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":1}]'],
            lambda s: s["spec"]["replicas"] == 1,
        ),
    ],
    ids=["a strategic merge patch", "a merge patch", "a json patch"],
)
def test_patch(web: ApiCluster, args: list[str], check: Any) -> None:
    kubectl(web, "patch", "statefulset", "web", *args)
    stored = web.store.get("statefulsets", "default", "web")
    assert stored is not None
    assert check(stored)


def test_rollout_status_of_a_finished_rollout(web: ApiCluster) -> None:
    web.store.update(
        "statefulsets",
        "default",
        "web",
        lambda s: s["status"].update(
            observedGeneration=1,
            replicas=3,
            readyReplicas=3,
            currentReplicas=3,
            updatedReplicas=3,
            availableReplicas=3,
            currentRevision="web-1",
            updateRevision="web-1",
        ),
    )
    result = kubectl(web, "rollout", "status", "statefulset/web", "--timeout=20s")
    assert "roll out complete" in result.stdout or "rolling update complete" in result.stdout


def test_a_wrong_token_is_unauthorized(web: ApiCluster, tmp_path: Path) -> None:
    config = web.server.kubeconfig()
    config["users"][0]["user"]["token"] = "wrong"
    web.kubeconfig.write_text(json.dumps(config))
    result = kubectl(web, "get", "pods", check=False)
    assert result.returncode != 0
    # kubectl's own words for a 401
    assert "You must be logged in to the server" in result.stderr


def test_rbac_denials_reach_kubectl_verbatim(web: ApiCluster) -> None:
    web.server.authorizer = Authorizer.from_manifest(
        {
            "kind": "Role",
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "r", "namespace": "default"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
        },
        user="system:serviceaccount:default:airflow",
    )
    assert kubectl(web, "get", "pods", "-o", "name").stdout.split() == [
        "pod/db-0",
        "pod/web-0",
        "pod/web-1",
        "pod/web-2",
    ]
    result = kubectl(web, "get", "sts", "web", check=False)
    assert result.returncode != 0
    assert (
        'statefulsets.apps "web" is forbidden: User "system:serviceaccount:default:airflow" '
        'cannot get resource "statefulsets" in API group "apps" in the namespace "default"'
    ) in result.stderr


MANIFEST = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: kafka
spec:
  replicas: 2
  serviceName: kafka
  selector:
    matchLabels: {app: kafka}
  template:
    metadata:
      labels: {app: kafka}
    spec:
      containers:
      - name: kafka
        image: kafka:3
        env:
        - {name: MODE, value: "VALUE"}
"""


def test_apply_creates_then_patches_a_manifest(api_cluster: ApiCluster, tmp_path: Path) -> None:
    manifest = tmp_path / "kafka.yaml"
    manifest.write_text(MANIFEST.replace("VALUE", "one"))
    assert "created" in kubectl(api_cluster, "apply", "-f", str(manifest)).stdout
    manifest.write_text(MANIFEST.replace("VALUE", "two"))
    assert "configured" in kubectl(api_cluster, "apply", "-f", str(manifest)).stdout
    stored = api_cluster.store.get("statefulsets", "default", "kafka")
    assert stored is not None
    assert stored["metadata"]["generation"] == 2
    env = stored["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "MODE", "value": "two"}]


def test_create_from_a_file_and_server_side_apply(api_cluster: ApiCluster, tmp_path: Path) -> None:
    manifest = tmp_path / "kafka.yaml"
    manifest.write_text(MANIFEST)
    kubectl(api_cluster, "create", "-f", str(manifest))
    result = kubectl(api_cluster, "apply", "--server-side", "-f", str(manifest))
    assert "serverside-applied" in result.stdout
    kubectl(api_cluster, "delete", "-f", str(manifest))
    assert api_cluster.store.get("statefulsets", "default", "kafka") is None


def test_create_and_delete_a_namespace(api_cluster: ApiCluster) -> None:
    kubectl(api_cluster, "create", "namespace", "team")
    namespace = api_cluster.store.get("namespaces", "", "team")
    assert namespace is not None
    assert namespace["status"]["phase"] == "Active"
    kubectl(api_cluster, "delete", "namespace", "team")
    assert api_cluster.store.get("namespaces", "", "team") is None
