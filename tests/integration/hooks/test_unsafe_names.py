"""Names that would change the URL are refused by the real hooks and never reach the server.

Issue 15 §2 item 10: ``healthy?x=1`` once read the StatefulSet ``healthy`` (the rest
became a query) and ``default/../other`` read another namespace. Over real HTTPS
against the test cluster, whose request counters show that nothing was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_sts_provider.hooks.statefulset import StatefulSetHook
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook
from airflow_sts_provider.kinds import ResourceSpec
from airflow_sts_provider.readiness import ReadinessPolicy
from kube_test_cluster.cluster import EmulatedCluster

CONN = "AIRFLOW_CONN_KUBERNETES_DEFAULT"
POLICY = ReadinessPolicy(min_stable_seconds=0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    """``healthy`` in ``default`` and in ``other`` (what a bad path would read), and a Kafka."""
    with EmulatedCluster(speed=20) as running:
        running.apply_scenario("healthy")
        running.apply_scenario("healthy", namespace="other")
        running.apply_scenario("kafka-operator")
        yield running


def connect(monkeypatch: pytest.MonkeyPatch, cluster: EmulatedCluster, **extra: Any) -> None:
    extra = {"kube_config": cluster.kubeconfig, **extra}
    monkeypatch.setenv(CONN, json.dumps({"conn_type": "kubernetes", "extra": extra}))


def sent(cluster: EmulatedCluster) -> int:
    return int(cluster.stats()["requests_total"])


Call = Callable[[StatefulSetHook], Any]

SYNC: list[tuple[Call, str]] = [
    (lambda h: h.get_readiness("healthy?x=1", policy=POLICY), "name 'healthy?x=1'"),
    (lambda h: h.get_readiness("healthy", "default/../other"), "namespace 'default/../other'"),
    (lambda h: h.get_pod_readiness("../../namespaces/other/pods/x"), "name '../../"),
    (lambda h: h.get_deployment_readiness("healthy#x"), "name 'healthy#x'"),
    (lambda h: h.explain_absence("StatefulSet", "healthy?x=1"), "name 'healthy?x=1'"),
    (
        lambda h: h.get_workloads_readiness("app=healthy", namespace="default/../other"),
        "namespace 'default/../other'",
    ),
    (
        lambda h: h.resolve_kind(ResourceSpec("kafka.strimzi.io/../../api/v1", "Kafka")),
        "api_version must be",
    ),
    (
        lambda h: h.resolve_kind(ResourceSpec("kafka.strimzi.io/v1beta2", "Kafka?x=1")),
        "kind must be",
    ),
]
SYNC_IDS = [
    "a query smuggled into a name is refused, not read as healthy",
    "a namespace that climbs into another is refused",
    "a pod name that climbs out of its namespace is refused",
    "a fragment in a Deployment name is refused",
    "explaining an absence refuses a query in the name",
    "a release gate refuses a namespace that climbs",
    "discovery refuses an apiVersion that climbs out of its group",
    "discovery refuses a kind with a query",
]


@pytest.mark.parametrize(("call", "words"), SYNC, ids=SYNC_IDS)
def test_the_sync_hook_refuses_and_sends_nothing(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch, call: Call, words: str
) -> None:
    connect(monkeypatch, cluster)
    hook = StatefulSetHook()
    before = sent(cluster)
    with pytest.raises(ValueError, match=r"is not a|must be") as info:
        call(hook)
    assert words in str(info.value)
    assert sent(cluster) == before


def test_a_connection_namespace_that_climbs_is_refused_naming_the_connection(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(monkeypatch, cluster, namespace="default/../other")
    before = sent(cluster)
    with pytest.raises(ValueError) as info:
        StatefulSetHook().get_readiness("healthy")
    assert "'default/../other'" in str(info.value)
    assert "kubernetes_default" in str(info.value)
    assert sent(cluster) == before


ASYNC: list[tuple[Callable[[AsyncWorkloadHook], Any], str]] = [
    (lambda h: h.read_picture("StatefulSet", "healthy?x=1", "default"), "name 'healthy?x=1'"),
    (lambda h: h.read_picture("StatefulSet", "healthy", "default/../other"), "namespace"),
    (lambda h: h.explain_absence("StatefulSet", "healthy?x=1", "default"), "name"),
    (lambda h: h.read_workloads("app=healthy", ("StatefulSet",), "default/../other"), "namespace"),
    (
        lambda h: h.resolve_kind(ResourceSpec("kafka.strimzi.io/v1beta2?x=1", "Kafka")),
        "api_version",
    ),
]
ASYNC_IDS = [
    "a trigger's read refuses a query smuggled into a name",
    "a trigger's read refuses a namespace that climbs",
    "a trigger's explanation refuses a query in the name",
    "a release gate's trigger refuses a namespace that climbs",
    "a resource trigger's discovery refuses a query in the apiVersion",
]


@pytest.mark.parametrize(("call", "words"), ASYNC, ids=ASYNC_IDS)
def test_the_async_hook_refuses_and_sends_nothing(
    cluster: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    call: Callable[[AsyncWorkloadHook], Any],
    words: str,
) -> None:
    connect(monkeypatch, cluster)

    async def read() -> Any:
        hook = AsyncWorkloadHook()
        async with hook.session():
            return await call(hook)

    before = sent(cluster)
    with pytest.raises(ValueError) as info:
        asyncio.run(read())
    assert str(info.value).startswith(words), str(info.value)
    assert sent(cluster) == before


def test_valid_names_still_read_the_workload(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same hook, a fine name, and the server counts the reads."""
    connect(monkeypatch, cluster)
    before = sent(cluster)
    verdict = StatefulSetHook().get_readiness("healthy", "other", policy=POLICY)
    assert (verdict.name, verdict.namespace) == ("healthy", "other")
    assert sent(cluster) > before
