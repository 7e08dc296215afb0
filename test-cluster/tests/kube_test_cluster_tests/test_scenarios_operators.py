"""The operator scenarios (a Strimzi ``Kafka`` and its broker pods) and ``release``.

On a manual clock for the exact story, then over HTTPS with the real ``kubernetes``
client and ``kubectl`` (skipped where kubectl is absent) as the independent check.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from kubernetes import client, config

from kube_test_cluster.cluster import EmulatedCluster

Obj = dict[str, Any]
KUBECTL = shutil.which("kubectl")
GROUP, VERSION, PLURAL = "kafka.strimzi.io", "v1beta2", "kafkas"
CRD = "kafkas.kafka.strimzi.io"
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def conditions(obj: Obj | None) -> dict[str, Obj]:
    return {c["type"]: c for c in ((obj or {}).get("status") or {}).get("conditions") or []}


def brokers(cluster: EmulatedCluster, name: str) -> list[Obj]:
    return [
        p
        for p in cluster.store.list("pods", "default")
        if p["metadata"].get("labels", {}).get("strimzi.io/cluster") == name
    ]


def test_kafka_operator_creates_owned_brokers_then_writes_ready() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        start = stamp(cluster.clock.now().isoformat())
        created = cluster.apply_scenario("kafka-operator")
        assert [(o["kind"], o["metadata"]["name"]) for o in created] == [
            ("CustomResourceDefinition", CRD),
            ("Kafka", "kafka-operator"),
        ]
        kafka = cluster.get(PLURAL, "kafka-operator")
        assert kafka is not None and "status" not in kafka
        cluster.advance(0.9)
        assert brokers(cluster, "kafka-operator") == []
        cluster.advance(0.2)  # the operator has reconciled at 1 s
        pods = brokers(cluster, "kafka-operator")
        assert [p["metadata"]["name"] for p in pods] == [
            f"kafka-operator-kafka-{i}" for i in range(3)
        ]
        for pod in pods:
            assert pod["metadata"]["labels"]["strimzi.io/kind"] == "Kafka"
            [ref] = pod["metadata"]["ownerReferences"]
            assert ref["uid"] == kafka["metadata"]["uid"] and ref["controller"] is True
            assert (ref["apiVersion"], ref["kind"]) == (f"{GROUP}/{VERSION}", "Kafka")
        assert cluster.store.list("statefulsets", "default") == []
        assert conditions(cluster.get(PLURAL, "kafka-operator")) == {}
        cluster.advance(4)
        kafka = cluster.get(PLURAL, "kafka-operator")
        assert kafka is not None
        ready = conditions(kafka)["Ready"]
        assert ready == {
            "type": "Ready",
            "status": "True",
            "lastTransitionTime": ready["lastTransitionTime"],
        }
        assert kafka["status"]["observedGeneration"] == kafka["metadata"]["generation"] == 1
        assert kafka["status"]["listeners"][0]["bootstrapServers"].endswith(":9092")
        pods = brokers(cluster, "kafka-operator")
        pods_ready = [stamp(conditions(p)["Ready"]["lastTransitionTime"]) for p in pods]
        assert all(conditions(p)["Ready"]["status"] == "True" for p in pods)
        # Ready only once every broker is Ready, and soon after (polled every 0.5 s)
        written = stamp(ready["lastTransitionTime"])
        assert max(pods_ready) <= written
        assert (written - start).total_seconds() <= 4
        # the brokers go with their Kafka (background deletion by the garbage collector)
        cluster.delete(PLURAL, "default", "kafka-operator")
        cluster.advance(3)
        assert brokers(cluster, "kafka-operator") == []


def test_the_crd_is_created_once_and_shared() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply_scenario("kafka-operator")
        crd = cluster.get("customresourcedefinitions", CRD, "")
        assert crd is not None
        for name in ("kafka-broker-crashloop", "stalled-resource"):
            kinds = [o["kind"] for o in cluster.apply_scenario(name)]
            assert kinds == ["Kafka"]
        again = cluster.get("customresourcedefinitions", CRD, "")
        assert again is not None
        assert again["metadata"]["resourceVersion"] == crd["metadata"]["resourceVersion"]
        assert [k["metadata"]["name"] for k in cluster.store.list(PLURAL, "default")] == [
            "kafka-broker-crashloop",
            "kafka-operator",
            "stalled-resource",
        ]


def test_a_broker_crash_loops_while_the_kafka_says_ready() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply_scenario("kafka-broker-crashloop")
        cluster.advance(2.9)
        assert conditions(cluster.get(PLURAL, "kafka-broker-crashloop")) == {}
        cluster.advance(20)
        assert conditions(cluster.get(PLURAL, "kafka-broker-crashloop"))["Ready"]["status"] == (
            "True"
        )
        pods = {p["metadata"]["name"]: p for p in brokers(cluster, "kafka-broker-crashloop")}
        assert sorted(pods) == [f"kafka-broker-crashloop-kafka-{i}" for i in range(3)]
        broken = pods.pop("kafka-broker-crashloop-kafka-1")
        status = broken["status"]["containerStatuses"][0]
        assert status["restartCount"] >= 2
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert conditions(broken)["Ready"]["status"] == "False"
        assert all(conditions(p)["Ready"]["status"] == "True" for p in pods.values())


def test_stalled_resource() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply_scenario("stalled-resource")
        cluster.advance(1.1)
        kafka = cluster.get(PLURAL, "stalled-resource")
        assert kafka is not None
        found = conditions(kafka)
        assert {t: (c["status"], c["reason"]) for t, c in found.items()} == {
            "Stalled": ("True", "ReconcileFailed"),
            "Ready": ("False", "ReconcileFailed"),
        }
        assert found["Stalled"]["message"]
        assert kafka["status"]["observedGeneration"] == kafka["metadata"]["generation"]
        assert brokers(cluster, "stalled-resource") == []


def test_release_workloads_become_ready() -> None:
    with EmulatedCluster(manual_clock=True) as cluster:
        created = cluster.apply_scenario("release")
        assert [(o["kind"], o["metadata"]["name"]) for o in created] == [
            ("StatefulSet", "release-db"),
            ("Deployment", "release-api"),
            ("DaemonSet", "release-agent"),
        ]
        cluster.advance(6)
        db = cluster.get("statefulsets", "release-db")
        api = cluster.get("deployments", "release-api")
        agent = cluster.get("daemonsets", "release-agent")
        assert db is not None and api is not None and agent is not None
        assert db["status"]["readyReplicas"] == 3
        assert api["status"]["availableReplicas"] == 3
        assert agent["status"]["numberAvailable"] == 3
        pods = cluster.store.list("pods", "default")
        assert len(pods) == 9
        for pod in pods:
            labels = pod["metadata"]["labels"]
            assert labels["app.kubernetes.io/instance"] == "release"
            assert pod["metadata"]["name"].startswith(labels["app.kubernetes.io/name"] + "-")


# -- over HTTPS: the kubernetes client and kubectl -----------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=5) as running:
        for name in ("kafka-operator", "kafka-broker-crashloop", "stalled-resource", "release"):
            running.apply_scenario(name)
        yield running


@pytest.fixture(scope="module")
def api(cluster: EmulatedCluster) -> client.ApiClient:
    return client.ApiClient(config.new_client_from_config_dict(cluster.kubeconfig).configuration)


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


@needs_kubectl
def test_kubectl_waits_for_the_kafka_and_gets_it(cluster: EmulatedCluster) -> None:
    waited = kubectl(
        cluster, "wait", "--for=condition=Ready", "kafka/kafka-operator", "--timeout=30s"
    )
    assert waited.returncode == 0, waited.stderr
    assert "kafka.kafka.strimzi.io/kafka-operator condition met" in waited.stdout
    table = kubectl(cluster, "get", "kafka")
    assert table.returncode == 0, table.stderr
    names = [line.split()[0] for line in table.stdout.strip().splitlines()[1:]]
    assert names == ["kafka-broker-crashloop", "kafka-operator", "stalled-resource"]
    stalled = kubectl(
        cluster, "wait", "--for=condition=Stalled", "kafka/stalled-resource", "--timeout=30s"
    )
    assert stalled.returncode == 0, stalled.stderr


def test_the_client_sees_brokers_and_conditions(
    cluster: EmulatedCluster, api: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(api)

    def ready() -> Obj | None:
        kafka: Obj = custom.get_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, "kafka-operator"
        )
        return kafka if conditions(kafka).get("Ready", {}).get("status") == "True" else None

    kafka = cluster.wait_for(ready, timeout=30)
    assert kafka is not None
    assert kafka["status"]["observedGeneration"] == kafka["metadata"]["generation"]
    pods = client.CoreV1Api(api).list_namespaced_pod(
        "default", label_selector="strimzi.io/cluster=kafka-operator"
    )
    assert sorted(p.metadata.name for p in pods.items) == [
        f"kafka-operator-kafka-{i}" for i in range(3)
    ]
    for pod in pods.items:
        assert pod.metadata.owner_references[0].uid == kafka["metadata"]["uid"]
        assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"

    stalled: Obj = custom.get_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "stalled-resource"
    )
    assert conditions(stalled)["Stalled"]["status"] == "True"

    def crashing() -> Any:
        pod = client.CoreV1Api(api).read_namespaced_pod("kafka-broker-crashloop-kafka-1", "default")
        waiting = pod.status.container_statuses and pod.status.container_statuses[0].state.waiting
        return waiting and waiting.reason == "CrashLoopBackOff"

    cluster.wait_for(crashing, timeout=30)
    crashloop: Obj = custom.get_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "kafka-broker-crashloop"
    )
    assert conditions(crashloop)["Ready"]["status"] == "True"


@needs_kubectl
def test_kubectl_rollout_status_of_the_release(
    cluster: EmulatedCluster, api: client.ApiClient
) -> None:
    for workload in ("statefulset/release-db", "deployment/release-api", "daemonset/release-agent"):
        result = kubectl(cluster, "rollout", "status", workload, "--timeout=30s")
        assert result.returncode == 0, result.stderr
    selector = "app.kubernetes.io/instance=release"
    apps = client.AppsV1Api(api)
    assert [
        s.metadata.name
        for s in apps.list_namespaced_stateful_set("default", label_selector=selector).items
    ] == ["release-db"]
    assert [
        d.metadata.name
        for d in apps.list_namespaced_deployment("default", label_selector=selector).items
    ] == ["release-api"]
    [agent] = apps.list_namespaced_daemon_set("default", label_selector=selector).items
    assert agent.metadata.name == "release-agent"
    assert agent.status.number_ready == agent.status.desired_number_scheduled == 3
