"""The DaemonSet controller: one pod per eligible node, revisions, rolling updates, status.

Most tests drive an :class:`EmulatedCluster` on a manual clock; the last ones use the
real ``kubernetes`` client over HTTPS and ``kubectl`` (skipped where it is absent).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.machinery.topology import CONTROL_PLANE_TAINT, Node

Obj = dict[str, Any]
KUBECTL = shutil.which("kubectl")
TAINTED = [Node("node-1", taints=(CONTROL_PLANE_TAINT,)), Node("node-2"), Node("node-3")]


def daemonset(name: str = "agent", *, strategy: Obj | None = None, **spec: Any) -> Obj:
    template: Obj = {
        "metadata": {"labels": {"app": name}},
        "spec": {
            "containers": [
                {
                    "name": "agent",
                    "image": "agent:1",
                    "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5},
                }
            ]
        },
    }
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template, **spec},
    }
    if strategy is not None:
        body["spec"]["updateStrategy"] = strategy
    return body


def pods(cluster: EmulatedCluster, name: str = "agent") -> list[Obj]:
    return [
        p
        for p in cluster.store.list("pods", "default")
        if p["metadata"]["name"].startswith(f"{name}-")
    ]


def status(cluster: EmulatedCluster, name: str = "agent") -> Obj:
    ds = cluster.get("daemonsets", name)
    assert ds is not None
    return dict(ds["status"])


def new_image(image: str) -> Any:
    def mutate(obj: Obj) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return mutate


@pytest.fixture
def tainted() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(manual_clock=True, nodes=TAINTED) as cluster:
        yield cluster


def test_one_pod_per_eligible_node_and_the_real_status(tainted: EmulatedCluster) -> None:
    tainted.apply(daemonset())
    tainted.advance(10)
    running = pods(tainted)
    assert sorted(p["spec"]["nodeName"] for p in running) == ["node-2", "node-3"]
    assert status(tainted) == {
        "currentNumberScheduled": 2,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 2,
        "numberReady": 2,
        "observedGeneration": 1,
        "updatedNumberScheduled": 2,
        "numberAvailable": 2,
    }
    [revision] = tainted.store.list("controllerrevisions", "default")
    assert revision["revision"] == 1
    assert revision["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    hash_ = revision["metadata"]["labels"]["controller-revision-hash"]
    assert revision["metadata"]["name"] == f"agent-{hash_}"
    for pod in running:
        assert pod["metadata"]["labels"]["controller-revision-hash"] == hash_
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        assert pod["metadata"]["ownerReferences"][0]["name"] == "agent"
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        assert terms[0]["matchFields"][0]["values"] == [pod["spec"]["nodeName"]]


def test_a_toleration_and_a_node_selector_choose_the_nodes(tainted: EmulatedCluster) -> None:
    manifest = daemonset()
    manifest["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
    ]
    tainted.apply(manifest)
    tainted.advance(10)
    assert status(tainted)["desiredNumberScheduled"] == 3
    assert len(pods(tainted)) == 3

    def select(obj: Obj) -> None:
        obj["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node-3"}

    tainted.patch("daemonsets", "default", "agent", select)
    tainted.advance(60)
    assert [p["spec"]["nodeName"] for p in pods(tainted)] == ["node-3"]
    final = status(tainted)
    assert final["desiredNumberScheduled"] == 1
    assert final["numberMisscheduled"] == 0
    assert final["updatedNumberScheduled"] == 1
    assert final["observedGeneration"] == 2


def test_no_eligible_node_desires_nothing(tainted: EmulatedCluster) -> None:
    manifest = daemonset()
    manifest["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    tainted.apply(manifest)
    tainted.advance(5)
    assert pods(tainted) == []
    assert status(tainted) == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
        "observedGeneration": 1,
    }


def test_rolling_update_keeps_at_most_max_unavailable_down() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply(daemonset())
        cluster.advance(10)
        [first] = cluster.store.list("controllerrevisions", "default")
        cluster.patch("daemonsets", "default", "agent", new_image("agent:2"))
        worst = 0
        for _ in range(200):
            cluster.advance(0.1)
            current = status(cluster)
            worst = max(worst, current["desiredNumberScheduled"] - current["numberReady"])
            if current.get("updatedNumberScheduled") == 3 and current.get("numberAvailable") == 3:
                break
        assert worst == 1
        assert status(cluster)["observedGeneration"] == 2
        revisions = sorted(
            cluster.store.list("controllerrevisions", "default"), key=lambda r: r["revision"]
        )
        assert [r["revision"] for r in revisions] == [1, 2]
        assert revisions[0]["metadata"]["name"] == first["metadata"]["name"]
        new_hash = revisions[1]["metadata"]["labels"]["controller-revision-hash"]
        cluster.advance(40)
        assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods(cluster)} == {
            new_hash
        }
        assert len(pods(cluster)) == 3


def test_max_surge_starts_the_new_pod_before_deleting_the_old() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply(daemonset(strategy=strategy))
        cluster.advance(10)
        cluster.patch("daemonsets", "default", "agent", new_image("agent:2"))
        most = 0
        for _ in range(300):
            cluster.advance(0.1)
            most = max(
                most, len([p for p in pods(cluster) if not p["metadata"].get("deletionTimestamp")])
            )
            assert status(cluster)["numberReady"] == 3
            if status(cluster).get("updatedNumberScheduled") == 3:
                break
        assert most == 4
        assert status(cluster)["updatedNumberScheduled"] == 3


def test_on_delete_rolls_only_deleted_pods() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply(daemonset(strategy={"type": "OnDelete"}))
        cluster.advance(10)
        cluster.patch("daemonsets", "default", "agent", new_image("agent:2"))
        cluster.advance(30)
        assert "updatedNumberScheduled" not in status(cluster)
        assert status(cluster)["observedGeneration"] == 2
        victim = pods(cluster)[0]
        cluster.delete("pods", "default", victim["metadata"]["name"])
        cluster.advance(40)
        assert status(cluster)["updatedNumberScheduled"] == 1
        assert status(cluster)["numberAvailable"] == 3


def test_min_ready_seconds_delays_available() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply(daemonset(minReadySeconds=10))
        cluster.advance(3)
        early = status(cluster)
        assert early["numberReady"] == 3
        assert "numberAvailable" not in early
        assert early["numberUnavailable"] == 3
        cluster.advance(10)
        assert status(cluster)["numberAvailable"] == 3
        assert "numberUnavailable" not in status(cluster)


def test_the_garbage_collector_removes_pods_and_revisions() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply(daemonset())
        cluster.advance(5)
        cluster.delete("daemonsets", "default", "agent")
        cluster.advance(60)
        assert pods(cluster) == []
        assert cluster.store.list("controllerrevisions", "default") == []


# -- over HTTPS ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=10, nodes=TAINTED) as cluster:
        cluster.apply(daemonset())
        yield cluster


def test_the_python_client_reads_daemonsets_and_revisions(served: EmulatedCluster) -> None:
    api = client.ApiClient(config.new_client_from_config_dict(served.kubeconfig).configuration)
    apps = client.AppsV1Api(api)
    served.wait_for(lambda: status(served).get("numberAvailable") == 2, timeout=30)
    ds = apps.read_namespaced_daemon_set("agent", "default")
    assert ds.status.desired_number_scheduled == 2
    assert ds.status.number_ready == 2
    revisions = apps.list_namespaced_controller_revision("default", label_selector="app=agent")
    assert [r.revision for r in revisions.items] == [1]
    resources = client.ApisApi(api).get_api_versions()
    assert "apps" in [g.name for g in resources.groups]
    found = {r.name: r for r in apps.get_api_resources().resources}
    assert found["daemonsets"].short_names == ["ds"]
    assert "controllerrevisions" in found
    assert "daemonsets/status" in found


def kubectl(cluster: EmulatedCluster, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    cache = cluster.kubeconfig_path.parent / "kube-cache"
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(cluster.kubeconfig_path), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
def test_kubectl_get_ds_and_rollout_status(served: EmulatedCluster) -> None:
    done = kubectl(served, "rollout", "status", "daemonset/agent", "--timeout=30s")
    assert done.returncode == 0, done.stderr
    assert 'daemon set "agent" successfully rolled out' in done.stdout
    table = kubectl(served, "get", "ds")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[:6] == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"]
    assert row.split()[:6] == ["agent", "2", "2", "2", "2", "2"]
    served.patch("daemonsets", "default", "agent", new_image("agent:2"))
    rolled = kubectl(served, "rollout", "status", "ds/agent", "--timeout=30s")
    assert rolled.returncode == 0, rolled.stderr
    assert "successfully rolled out" in rolled.stdout
    revisions = kubectl(served, "get", "controllerrevisions", "-o", "name")
    assert len(revisions.stdout.split()) == 2
