"""The slim decode through the real hooks: same verdicts, pages one at a time, the request count.

Every scenario of the test cluster is poked over real HTTPS at several moments of
its story (a manual clock holds the cluster still between pokes), once with the
slim decoder and once with every body decoded in full; the verdicts must be equal
to the letter. The paged LIST of a big StatefulSet costs exactly
``1 + ceil(N / page size)`` requests at the API server, plus the events of the
failing pods only.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_sts_provider.hooks import decode
from airflow_sts_provider.hooks.events import MAX_PODS_WITH_EVENTS
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook, WorkloadHook
from airflow_sts_provider.kinds import Kind, ResourceSpec, kind_of
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict
from kube_test_cluster import scenarios
from kube_test_cluster.cluster import EmulatedCluster

CONN = "AIRFLOW_CONN_KUBERNETES_DEFAULT"
POLICY = ReadinessPolicy(min_stable_seconds=5)
#: Emulated seconds at which each scenario is judged: starting, mid-story, settled.
MOMENTS = (0.0, 2.0, 6.0, 12.0, 25.0, 45.0, 90.0)
_KINDS = {"statefulsets": "StatefulSet", "deployments": "Deployment", "daemonsets": "DaemonSet"}


def connect(monkeypatch: pytest.MonkeyPatch, cluster: EmulatedCluster, **kw: Any) -> WorkloadHook:
    extra = {"kube_config": cluster.kubeconfig}
    monkeypatch.setenv(CONN, json.dumps({"conn_type": "kubernetes", "extra": extra}))
    return WorkloadHook(**kw)


def workloads(hook: WorkloadHook, name: str, namespace: str) -> list[tuple[Kind, str]]:
    """The workloads scenario ``name`` creates, each with the row that judges it."""
    found: list[tuple[Kind, str]] = []
    for resource, obj in scenarios.build(name, namespace=namespace).objects:
        meta = obj["metadata"]
        if resource in _KINDS:
            found.append((kind_of(_KINDS[resource]), meta["name"]))
        elif resource == "kafkas":
            spec = ResourceSpec(
                obj["apiVersion"], "Kafka", pod_selector=f"strimzi.io/cluster={meta['name']}"
            )
            found.append((hook.resolve_kind(spec), meta["name"]))
    return found


def poke(hook: WorkloadHook, kind: Kind, name: str, namespace: str) -> dict[str, Any]:
    verdict: Verdict = hook.get_workload_readiness(kind, name, namespace, policy=POLICY)
    return verdict.to_dict()


SCENARIOS = [name for name in scenarios.SCENARIOS if name != "big"]


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(name, id=f"{name} is judged the same slim and in full") for name in SCENARIOS],
)
def test_every_scenario_is_judged_the_same_slim_and_in_full(
    scenario: str, frozen: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = "ns-" + scenario
    frozen.apply_scenario(scenario, namespace=namespace, replicas=3)
    hook = connect(monkeypatch, frozen)
    rows = workloads(hook, scenario, namespace)
    assert rows, f"scenario {scenario} creates no workload this test knows"
    states: set[str] = set()
    at = 0.0
    for moment in MOMENTS:
        frozen.advance(moment - at)
        at = moment
        for kind, name in rows:
            slim = poke(hook, kind, name, namespace)
            with monkeypatch.context() as full_only:
                full_only.setattr(decode, "_DECODERS", {})
                full = poke(hook, kind, name, namespace)
            assert slim == full, f"{kind.name} {name} at {moment}s"
            states.add(slim["state"])
    assert states, "no verdict was compared"


def test_the_async_hook_judges_the_same_slim_and_in_full(
    frozen: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen.apply_scenario("crashloop", replicas=3)
    frozen.advance(20)
    connect(monkeypatch, frozen)

    async def judge() -> dict[str, Any]:
        hook = AsyncWorkloadHook(page_limit=1)  # a page per pod: each next one fetched ahead
        async with hook.session():
            picture, _ = await hook.read_picture("StatefulSet", "crashloop", "default")
        assert len(picture.related["pods"]) == len(frozen.store.list("pods", "default")) > 1
        return picture.judge(hook.clock.now(), POLICY).to_dict()

    before = frozen.stats()["requests"].get("list pods", 0)
    slim = asyncio.run(judge())
    pods = len(frozen.store.list("pods", "default"))
    assert frozen.stats()["requests"]["list pods"] - before == pods
    monkeypatch.setattr(decode, "_DECODERS", {})
    assert asyncio.run(judge()) == slim
    assert slim["state"] == State.FAILED.value


# --------------------------------------------------------------------------- requests


@pytest.fixture(scope="module")
def big() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply_scenario("big", replicas=1234)
        cluster.advance(30)
        yield cluster


def _requests(cluster: EmulatedCluster) -> dict[str, int]:
    counted: dict[str, int] = dict(cluster.stats()["requests"])
    return counted


@pytest.mark.parametrize(
    "limit",
    [
        pytest.param(500, id="pages of 500: three LISTs of pods"),
        pytest.param(100, id="pages of 100: thirteen LISTs of pods"),
        pytest.param(1234, id="one page that holds every pod"),
        pytest.param(1, id="pages of 1: one LIST per pod"),
    ],
)
def test_a_poke_costs_one_get_and_one_list_per_page(
    big: EmulatedCluster, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    hook = connect(monkeypatch, big, page_limit=limit)
    before = _requests(big)
    verdict = hook.get_workload_readiness("StatefulSet", "big", "default", policy=POLICY)
    after = _requests(big)
    assert verdict.state is State.READY, verdict.reason
    spent = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    spent = {key: count for key, count in spent.items() if count}
    assert spent == {"get statefulsets": 1, "list pods": math.ceil(1234 / limit)}
    assert hook.last_stats.requests == 1 + math.ceil(1234 / limit)
    assert hook.last_stats.items["pods"] == 1234


def test_events_are_read_only_for_the_failing_pods(
    frozen: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen.apply_scenario("crashloop", replicas=3)
    frozen.advance(20)
    hook = connect(monkeypatch, frozen, page_limit=2)
    before = _requests(frozen)
    verdict = hook.get_workload_readiness("StatefulSet", "crashloop", "default", policy=POLICY)
    after = _requests(frozen)
    failing = [pod for pod in verdict.pods if pod.state is State.FAILED]
    assert failing, verdict.reason
    pods = len(frozen.store.list("pods", "default"))
    spent = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    spent = {key: count for key, count in spent.items() if count}
    assert spent == {
        "get statefulsets": 1,
        "list pods": math.ceil(pods / 2),
        "list events": min(len(failing), MAX_PODS_WITH_EVENTS),
    }
