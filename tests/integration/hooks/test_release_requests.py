"""A release over real HTTPS: a LIST per kind and per related resource, not one per workload.

A release gate over 400 StatefulSets made about 400 requests a poke (14 s); now
the pods of workloads whose selectors share a label are one LIST (a page per 500),
split among them by their own selectors. The verdicts must stay those of each
workload judged alone, also when the selectors share nothing and each is listed
by itself. The test cluster's clock is held: every workload is where the test
put it, however slow the machine.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from airflow_sts_provider.hooks.workload import AsyncWorkloadHook, WorkloadHook
from airflow_sts_provider.kinds import WORKLOAD_KINDS
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict
from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.machinery.behaviour import ANNOTATION

T = TypeVar("T")
CONN = "AIRFLOW_CONN_KUBERNETES_DEFAULT"
POLICY = ReadinessPolicy(min_stable_seconds=5)
INSTANCE = "app.kubernetes.io/instance"
NAME = "app.kubernetes.io/name"
#: The issue's bound for a release of 100 workloads, per poke.
MAX_REQUESTS = 10


def workload(
    kind: str,
    name: str,
    namespace: str,
    *,
    shared: bool = True,
    replicas: int = 1,
    behaviour: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A workload of release ``shop``; its selector has the release's label when ``shared``."""
    own = {INSTANCE: "shop", NAME: name} if shared else {"app": name}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": dict(own)},
        "template": {
            "metadata": {"labels": dict(own), "annotations": dict(behaviour or {})},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
        },
    }
    if kind != "DaemonSet":
        spec["replicas"] = replicas
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {**own, INSTANCE: "shop"}},
        "spec": spec,
    }


def mixed(namespace: str, *, shared: bool = True) -> list[dict[str, Any]]:
    """StatefulSets, Deployments and DaemonSets, one crash-looping, one slow to be Ready."""
    crash = {f"{ANNOTATION}-1": "crash-after=1, exit-code=1"}
    slow = {ANNOTATION: "ready=15"}
    found = [
        workload("StatefulSet", f"db-{i}", namespace, shared=shared, replicas=2) for i in range(4)
    ]
    found.append(
        workload("StatefulSet", "broken", namespace, shared=shared, replicas=2, behaviour=crash)
    )
    found += [
        workload("Deployment", f"api-{i}", namespace, shared=shared, replicas=2) for i in range(3)
    ]
    found.append(
        workload("Deployment", "slow", namespace, shared=shared, replicas=2, behaviour=slow)
    )
    found += [workload("DaemonSet", f"agent-{i}", namespace, shared=shared) for i in range(2)]
    return found


def counted(cluster: EmulatedCluster, read: Callable[[], T]) -> tuple[T, Counter[str]]:
    """What ``read`` returned and the requests the API server counted meanwhile."""
    before = Counter(cluster.stats()["requests"])
    result = read()
    after = Counter(cluster.stats()["requests"])
    return result, after - before


def connect(monkeypatch: pytest.MonkeyPatch, cluster: EmulatedCluster) -> None:
    extra = {"kube_config": cluster.kubeconfig}
    monkeypatch.setenv(CONN, json.dumps({"conn_type": "kubernetes", "extra": extra}))


def poke(namespace: str, **hook_kw: Any) -> list[Verdict]:
    """The sync hook's release verdict, one verdict per workload."""
    hook = WorkloadHook(**hook_kw)
    release = hook.get_workloads_readiness(f"{INSTANCE}=shop", namespace=namespace, policy=POLICY)
    return list(release.workloads)


def trigger_read(namespace: str, **hook_kw: Any) -> list[Verdict]:
    """The async hook's release pictures, judged as the release trigger judges them."""

    async def read() -> list[Verdict]:
        hook = AsyncWorkloadHook(**hook_kw)
        async with hook.session():
            pictures = await hook.read_workloads(f"{INSTANCE}=shop", WORKLOAD_KINDS, namespace)
        now = hook.clock.now()
        return [picture.judge(now, POLICY) for picture in pictures]

    return asyncio.run(read())


# --------------------------------------------------------------------------- requests


@pytest.fixture(scope="module")
def releases() -> Iterator[EmulatedCluster]:
    """100 StatefulSets of one release in ``hundred``; a mixed release in ``mixed``; all Ready."""
    with EmulatedCluster(manual_clock=True) as cluster:
        cluster.apply(
            [workload("StatefulSet", f"shop-{i}", "hundred", replicas=2) for i in range(100)]
        )
        cluster.apply(
            [workload("StatefulSet", f"db-{i}", "mixed", replicas=2) for i in range(40)]
            + [workload("Deployment", f"api-{i}", "mixed", replicas=2) for i in range(40)]
            + [workload("DaemonSet", f"agent-{i}", "mixed") for i in range(20)]
        )
        cluster.advance(30)
        yield cluster


@pytest.mark.parametrize(
    ("read", "namespace", "kinds"),
    [
        pytest.param(
            poke,
            "hundred",
            {"StatefulSet": 100},
            id="a poke of 100 StatefulSets makes at most 10 requests",
        ),
        pytest.param(
            trigger_read,
            "hundred",
            {"StatefulSet": 100},
            id="a trigger's read of 100 StatefulSets makes at most 10 requests",
        ),
        pytest.param(
            poke,
            "mixed",
            {"StatefulSet": 40, "Deployment": 40, "DaemonSet": 20},
            id="a poke of 100 StatefulSets, Deployments and DaemonSets makes at most 10 requests",
        ),
        pytest.param(
            trigger_read,
            "mixed",
            {"StatefulSet": 40, "Deployment": 40, "DaemonSet": 20},
            id="a trigger's read of a mixed release of 100 makes at most 10 requests",
        ),
    ],
)
def test_a_release_of_100_workloads_costs_at_most_10_requests(
    releases: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    read: Callable[[str], list[Verdict]],
    namespace: str,
    kinds: dict[str, int],
) -> None:
    connect(monkeypatch, releases)

    verdicts, requests = counted(releases, lambda: read(namespace))

    assert Counter(verdict.kind for verdict in verdicts) == kinds
    assert {verdict.state for verdict in verdicts} == {State.READY}
    assert sum(requests.values()) <= MAX_REQUESTS, dict(requests)
    assert requests["list pods"] == 1, "every workload's pods in one LIST (a page of 500)"


# --------------------------------------------------------------------------- verdicts


def alone(namespace: str, verdicts: list[Verdict], **hook_kw: Any) -> list[Verdict]:
    """Each workload of the release judged by itself (GET, its own LISTs), events and all."""
    hook = WorkloadHook(**hook_kw)
    return [hook.get_workload_readiness(v.kind, v.name, namespace, policy=POLICY) for v in verdicts]


def alone_async(namespace: str, verdicts: list[Verdict], **hook_kw: Any) -> list[Verdict]:
    """Each workload's own watch-cycle picture (GET, its own LISTs), judged."""

    async def read() -> list[Verdict]:
        hook = AsyncWorkloadHook(**hook_kw)
        async with hook.session():
            pictures = [await hook.read_picture(v.kind, v.name, namespace) for v in verdicts]
        now = hook.clock.now()
        return [picture.judge(now, POLICY) for picture, _ in pictures]

    return asyncio.run(read())


#: Emulated seconds at which the release is judged: starting, crashing, slow one Ready, settled.
MOMENTS = (0.0, 2.0, 6.0, 12.0, 30.0)


def pages(count: int, limit: int) -> int:
    """Requests of a paged LIST of ``count`` objects (an empty one is a request too)."""
    return max(1, math.ceil(count / limit))


def one_list(cluster: EmulatedCluster, release: list[Verdict], limit: int) -> int:
    """The pod requests of one LIST by the release's label: every pod of the namespace."""
    return pages(len(cluster.store.list("pods", "shop")), limit)


def a_list_each(cluster: EmulatedCluster, release: list[Verdict], limit: int) -> int:
    """The pod requests of a LIST per workload by its own selector (``app=<name>``)."""
    pods = [pod["metadata"]["labels"].get("app") for pod in cluster.store.list("pods", "shop")]
    return sum(pages(pods.count(verdict.name), limit) for verdict in release)


@pytest.mark.parametrize("page_limit", [500, 4], ids=["in one page", "in pages of 4 pods"])
@pytest.mark.parametrize(
    ("shared", "pod_lists"),
    [
        pytest.param(True, one_list, id="selectors sharing the release's label: one LIST of pods"),
        pytest.param(False, a_list_each, id="selectors sharing nothing: each listed by itself"),
    ],
)
def test_a_release_is_judged_as_each_workload_alone(
    frozen: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    shared: bool,
    pod_lists: Callable[[EmulatedCluster, list[Verdict], int], int],
    page_limit: int,
) -> None:
    frozen.apply(mixed("shop", shared=shared))
    connect(monkeypatch, frozen)
    states: set[State] = set()
    at = 0.0
    for moment in MOMENTS:
        frozen.advance(moment - at)
        at = moment

        release, requests = counted(frozen, lambda: poke("shop", page_limit=page_limit))

        assert len(release) == 11
        assert release == alone("shop", release, page_limit=page_limit), f"at {moment} s"
        assert requests["list pods"] == pod_lists(frozen, release, page_limit), f"at {moment} s"
        states |= {verdict.state for verdict in release}
        pictures = trigger_read("shop", page_limit=page_limit)
        assert pictures == alone_async("shop", pictures, page_limit=page_limit), f"at {moment} s"
    assert states == {State.READY, State.WAITING, State.FAILED}, "every state was compared"
