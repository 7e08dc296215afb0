"""A body that is not a JSON object is transient on every path, sync and async.

The test cluster serves a share of its answers as a 200 whose body is truncated
JSON, ``null``, a proxy's HTML page or a JSON array (and replaces watch lines
likewise). Every read the provider makes must see that as a transient error:
the sensor's poke is "not done", the trigger retries in place, and the verdict
in the end is the workload's own, never a ``ValueError`` about the body.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_sts_provider.exceptions import TransientKubernetesError
from airflow_sts_provider.hooks.follow import change_of
from airflow_sts_provider.hooks.reads import Watch
from airflow_sts_provider.hooks.wire import Request
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook, WorkloadHook
from airflow_sts_provider.kinds import kind_of
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict
from airflow_sts_provider.triggers.base import SHARED_STREAMS, WorkloadRunningTrigger
from airflow_sts_provider.triggers.deployment import DeploymentRunningTrigger
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger
from kube_test_cluster.apiserver.faults import CORRUPTIONS, FaultDecision, Faults
from kube_test_cluster.cluster import EmulatedCluster

CONN_ID = "sts_corrupt_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"
#: Pokes per test: enough draws to hit every read at these rates.
POKES = 25
#: A seed whose first draw corrupts at 10% and 30% alike: the first read is always hit.
FIRST_CORRUPT = 31


class CorruptWatches(Faults):
    """Corrupts the first event line of the first watch of each resource, nothing else.

    Deterministic where a rate is not: every watch the trigger opens loses its first
    event, so it must resume from the version it last saw (not skip the line, not
    fail). Only the first watch of each path: a watch resumed from the same version
    replays the same event, which a fault on every watch would corrupt forever.
    """

    def __init__(self, corruption: str) -> None:
        super().__init__()
        self.corruption = corruption
        self.corrupted: set[str] = set()
        self._seen = threading.Lock()

    def decide(self, path: str) -> FaultDecision:
        resource = path.split("?", 1)[0]
        with self._seen:
            if "watch=true" in path and resource not in self.corrupted:
                self.corrupted.add(resource)
                return FaultDecision(corrupt=self.corruption)
        return super().decide(path)


@pytest.fixture
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=20) as running:
        os.environ[CONN_ENV] = running.airflow_connection_json()
        yield running
    os.environ.pop(CONN_ENV, None)


def poke(hook: WorkloadHook, kind: str, name: str) -> Verdict | TransientKubernetesError:
    """One poke's outcome: a verdict, or the one exception a poke may end with here."""
    try:
        return hook.get_workload_readiness(
            kind, name, "default", ReadinessPolicy(min_stable_seconds=5)
        )
    except TransientKubernetesError as exc:
        return exc


# --------------------------------------------------------------------------- the sync poke


@pytest.mark.parametrize(
    ("kind", "scenario"),
    [("StatefulSet", "healthy"), ("Deployment", "healthy-deployment"), ("Pod", "healthy-0")],
    ids=[
        "a StatefulSet poke is a verdict or transient",
        "a Deployment poke is a verdict or transient",
        "a Pod poke is a verdict or transient",
    ],
)
def test_every_poke_on_corrupt_bodies_is_a_verdict_or_transient(
    cluster: EmulatedCluster, kind: str, scenario: str
) -> None:
    cluster.apply_scenario("healthy" if scenario == "healthy-0" else scenario)
    cluster.faults.set(corrupt_rate=0.3, seed=21)
    hook = WorkloadHook(kubernetes_conn_id=CONN_ID, transient_retries=0)
    outcomes = [poke(hook, kind, scenario) for _ in range(POKES)]
    transient = [o for o in outcomes if isinstance(o, TransientKubernetesError)]
    assert transient, "no corrupt body reached the hook"
    assert {o.verb for o in transient} <= {"get", "list"}
    assert any(isinstance(o, Verdict) for o in outcomes)


@pytest.mark.parametrize(
    ("rate", "kind", "scenario", "state", "needle"),
    [
        (0.1, "StatefulSet", "healthy", State.READY, "3/3"),
        (0.3, "StatefulSet", "healthy", State.READY, "3/3"),
        (0.3, "Deployment", "healthy-deployment", State.READY, "3/3"),
        (0.3, "StatefulSet", "crashloop", State.FAILED, "crashloop-1"),
    ],
    ids=[
        "10% corrupt bodies: a healthy StatefulSet is judged READY",
        "30% corrupt bodies: a healthy StatefulSet is judged READY",
        "30% corrupt bodies: a healthy Deployment is judged READY",
        "30% corrupt bodies: a crash loop is judged FAILED naming crashloop-1",
    ],
)
def test_pokes_through_corrupt_bodies_reach_the_workloads_own_verdict(
    cluster: EmulatedCluster,
    *,
    rate: float,
    kind: str,
    scenario: str,
    state: State,
    needle: str,
) -> None:
    cluster.apply_scenario(scenario)
    cluster.faults.set(corrupt_rate=rate, seed=FIRST_CORRUPT)  # at least the first read
    hook = WorkloadHook(kubernetes_conn_id=CONN_ID)
    last: list[Verdict | TransientKubernetesError] = []

    def decided() -> bool:
        last[:] = [poke(hook, kind, scenario)]
        return isinstance(last[0], Verdict) and last[0].state is state

    cluster.wait_for(decided, timeout=30)
    verdict = last[0]
    assert isinstance(verdict, Verdict)
    assert needle in f"{verdict.reason} {verdict.ready}/{verdict.desired}"
    assert cluster.faults.injected > 0


# --------------------------------------------------------------------------- the async reads


def run_async(hook: AsyncWorkloadHook, reads: Any) -> Any:
    async def inside() -> Any:
        async with hook.session():
            return await asyncio.wait_for(reads(hook), timeout=20)

    return asyncio.run(inside())


def test_every_async_read_on_corrupt_bodies_is_a_picture_or_transient(
    cluster: EmulatedCluster,
) -> None:
    cluster.apply_scenario("healthy")
    cluster.faults.set(corrupt_rate=0.3, seed=5)
    hook = AsyncWorkloadHook(conn_id=CONN_ID, transient_retries=0)

    async def reads(api: AsyncWorkloadHook) -> list[str]:
        outcomes = []
        for _ in range(POKES):
            try:
                picture, _ = await api.read_picture(kind_of("StatefulSet"), "healthy", "default")
                await api.read_workload(picture)
                outcomes.append("picture")
            except TransientKubernetesError:
                outcomes.append("transient")
        return outcomes

    outcomes = run_async(hook, reads)
    assert set(outcomes) == {"picture", "transient"}


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=[f"a {c} watch line" for c in CORRUPTIONS])
def test_a_watch_line_that_is_not_an_object_is_transient(
    cluster: EmulatedCluster, corruption: str
) -> None:
    cluster.apply_scenario("healthy")
    cluster.wait_for(lambda: cluster.get("pods", "healthy-2") is not None)
    hook = AsyncWorkloadHook(conn_id=CONN_ID)

    async def reads(api: AsyncWorkloadHook) -> Any:
        _, watches = await api.read_picture(kind_of("StatefulSet"), "healthy", "default")
        cluster.faults.set(corrupt_rate=1.0, path_pattern="watch=true")
        watch = watches[0]

        def touch(key: str) -> None:  # an event right after the watch opened
            cluster.store.update(
                "statefulsets",
                "default",
                "healthy",
                lambda o: o["metadata"].setdefault("labels", {}).update(touched="1"),
            )

        with pytest.raises(TransientKubernetesError) as caught:
            async for _ in api.watch(watch, watch.resource_version, on_open=touch):
                pass
        return caught.value

    error = run_async(hook, reads)
    assert (error.verb, error.resource) == ("watch", "statefulsets")


# --------------------------------------------------------------------------- the trigger


def make(
    cls: type[WorkloadRunningTrigger], name: str, *, window: float = 20, **kwargs: Any
) -> WorkloadRunningTrigger:
    return cls(
        name=name,
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        policy={"min_stable_seconds": window},
        check_interval=0.5,
        deadline=time.time() + 60,
        **kwargs,
    )


def fire(trigger: WorkloadRunningTrigger) -> dict[str, Any]:
    async def first() -> Any:
        return await asyncio.wait_for(anext(trigger.run()), timeout=90)

    payload: dict[str, Any] = asyncio.run(first()).payload
    return payload


@pytest.mark.parametrize(
    ("rate", "cls", "scenario", "status", "needle"),
    [
        (0.1, StatefulSetRunningTrigger, "slow-start", "success", "is ready"),
        (0.3, StatefulSetRunningTrigger, "slow-start", "success", "is ready"),
        (0.3, DeploymentRunningTrigger, "healthy-deployment", "success", "is ready"),
        (0.3, StatefulSetRunningTrigger, "crashloop", "failed", "crashloop-1"),
    ],
    ids=[
        "10% corrupt bodies: a StatefulSet coming up fires success",
        "30% corrupt bodies: a StatefulSet coming up fires success",
        "30% corrupt bodies: a healthy Deployment fires success",
        "30% corrupt bodies: a crash loop fires failed naming crashloop-1",
    ],
)
def test_the_trigger_rides_out_corrupt_bodies(
    cluster: EmulatedCluster,
    *,
    rate: float,
    cls: type[WorkloadRunningTrigger],
    scenario: str,
    status: str,
    needle: str,
) -> None:
    cluster.faults.set(corrupt_rate=rate, seed=FIRST_CORRUPT)
    cluster.apply_scenario(scenario)
    event = fire(make(cls, scenario))
    assert (event["status"], needle in event["message"]) == (status, True), event["message"]
    assert cluster.faults.injected > 0


@pytest.mark.parametrize(
    "corruption",
    CORRUPTIONS,
    ids=[f"each first watch: a {c} line" for c in CORRUPTIONS],
)
def test_the_trigger_resumes_watches_whose_first_line_is_corrupt(corruption: str) -> None:
    faults = CorruptWatches(corruption)
    with EmulatedCluster(speed=20, faults=faults) as running:
        os.environ[CONN_ENV] = running.airflow_connection_json()
        try:
            running.apply_scenario("slow-start")
            event = fire(make(StatefulSetRunningTrigger, "slow-start", window=10))
        finally:
            os.environ.pop(CONN_ENV, None)
    assert event["status"] == "success", event["message"]
    assert event["verdict"]["ready"] == 3
    assert len(faults.corrupted) >= 2  # the StatefulSet's watch and its pods' at least


# --------------------------------------------------------------------------- JSON, not an event

WATCH = Watch("pods", Request("watch", "pods", "default"), {}, None)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "MODIFIED", "object": None},
        {"type": "ADDED", "object": "web-0"},
        {"type": "ADDED", "object": [{"metadata": {"name": "web-0"}}]},
        {"type": "MODIFIED", "object": {"metadata": "web-0"}},
        {"type": "ERROR", "object": None},
        {"type": "SNAPSHOT", "object": {"metadata": {"name": "web-0"}}},
        {"object": {"metadata": {"name": "web-0"}}},
    ],
    ids=[
        "a null object",
        "a string object",
        "an array object",
        "metadata that is not an object",
        "an ERROR without a Status",
        "a type the API never sends",
        "no type at all",
    ],
)
def test_a_json_line_that_is_not_a_watch_event_is_transient(event: dict[str, Any]) -> None:
    """Never applied to the picture (a null object would be judged as a pod named "");
    one reader for own and shared watches alike (the hook's ``follow``)."""
    with pytest.raises(TransientKubernetesError):
        change_of(WATCH.request, event)


@pytest.mark.skipif(not SHARED_STREAMS, reason="this Airflow shares no streams")
def test_shared_watches_ride_out_corrupt_bodies(cluster: EmulatedCluster) -> None:
    """The triggerer's shared streams (Airflow >= 3.3), 30% corrupt bodies, three outcomes."""
    from airflow.triggers.shared_stream import SharedStreamManager

    cluster.faults.set(corrupt_rate=0.3, seed=FIRST_CORRUPT)
    for scenario in ("slow-start", "healthy-deployment", "crashloop"):
        cluster.apply_scenario(scenario)
    triggers = [
        make(StatefulSetRunningTrigger, "slow-start", share_watches=True),
        make(DeploymentRunningTrigger, "healthy-deployment", share_watches=True),
        make(StatefulSetRunningTrigger, "crashloop", share_watches=True),
    ]

    async def subscribe(manager: Any, number: int, trigger: WorkloadRunningTrigger) -> Any:
        key = trigger.shared_stream_key()
        assert key is not None
        stream = manager.subscribe(trigger_id=number, trigger=trigger, key=key)
        try:
            return [event.payload async for event in trigger.filter_shared_stream(stream)]
        finally:
            await manager.unsubscribe(number, key)

    async def everyone() -> list[Any]:
        manager = SharedStreamManager()
        runs = [subscribe(manager, i, trigger) for i, trigger in enumerate(triggers)]
        fired = list(await asyncio.wait_for(asyncio.gather(*runs), timeout=120))
        await asyncio.sleep(0.5)  # a closed TLS socket needs the loop a moment more (aiohttp)
        return fired

    fired = asyncio.run(everyone())
    assert [run[0]["status"] for run in fired] == [
        "success",
        "success",
        "failed",
    ], fired
    assert "crashloop-1" in fired[2][0]["message"]
    assert cluster.faults.injected > 0
