"""The event triggers on their own, over real HTTPS: what "the same revision" is for each kind.

No Airflow here: each trigger's ``run()`` is iterated as the triggerer would, against
the test cluster (20x), with a rollout between two events. The real scheduler and
triggerer path is ``tests/airflow/test_event_scheduling.py``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any, cast

import pytest

from airflow_sts_provider.triggers.events import (
    DaemonSetReadyEventTrigger,
    DeploymentReadyEventTrigger,
    PodReadyEventTrigger,
    ReadyEventTrigger,
)
from kube_test_cluster.cluster import EmulatedCluster

CONN_ID = "sts_event_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"

Obj = dict[str, Any]


@pytest.fixture
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=20) as running:
        os.environ[CONN_ENV] = running.airflow_connection_json()
        try:
            yield running
        finally:
            os.environ.pop(CONN_ENV, None)


def make(cls: type[ReadyEventTrigger], name: str) -> ReadyEventTrigger:
    return cls(
        name=name,
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        policy={"min_stable_seconds": 20},  # 1 s at 20x
        check_interval=0.5,
        share_watches=False,  # outside a triggerer run() has its own watches anyway
    )


def two_events(trigger: ReadyEventTrigger, between: Callable[[], None]) -> list[Obj]:
    """The trigger's first event, ``between()`` (a rollout), then its next event."""

    async def run() -> list[Obj]:
        events = cast(AsyncGenerator[Any, None], trigger.run())
        try:
            first = await asyncio.wait_for(anext(events), 60)
            await asyncio.to_thread(between)
            second = await asyncio.wait_for(anext(events), 60)
        finally:
            await events.aclose()
        return [first.payload, second.payload]

    return asyncio.run(run())


def new_image(image: str) -> Callable[[Obj], None]:
    def mutate(obj: Obj) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return mutate


@pytest.mark.parametrize(
    ("cls", "scenario", "resource", "name"),
    [
        (DeploymentReadyEventTrigger, "healthy-deployment", "deployments", "healthy-deployment"),
        (DaemonSetReadyEventTrigger, "healthy-daemonset", "daemonsets", "healthy-daemonset"),
    ],
    ids=[
        "a Deployment fires again for its new ReplicaSet's pod-template-hash",
        "a DaemonSet fires again for its new controller-revision-hash",
    ],
)
def test_a_rollout_fires_again_at_its_new_revision(
    cluster: EmulatedCluster, cls: type[ReadyEventTrigger], scenario: str, resource: str, name: str
) -> None:
    cluster.apply_scenario(scenario)
    roll = lambda: cluster.patch(resource, "default", name, new_image("nginx:1.28"))  # noqa: E731
    first, second = two_events(make(cls, name), roll)
    assert [first["status"], second["status"]] == ["success", "success"]
    assert first["revision"] and second["revision"] and first["revision"] != second["revision"]
    assert first["uid"] == second["uid"] == cluster.get(resource, name)["metadata"]["uid"]  # type: ignore[index]
    assert {pod["revision"] for pod in second["verdict"]["pods"]} == {second["revision"]}


def test_a_pod_replaced_under_the_same_name_fires_again(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy", replicas=1)
    cluster.wait_for(lambda: cluster.get("pods", "healthy-0"))
    first_uid = cluster.get("pods", "healthy-0")["metadata"]["uid"]  # type: ignore[index]

    def replace() -> None:  # the StatefulSet controller recreates it under the same name
        cluster.delete("pods", "default", "healthy-0", grace_period_seconds=0)

    first, second = two_events(make(PodReadyEventTrigger, "healthy-0"), replace)
    assert first["uid"] == first_uid and first["identity"] == first_uid
    assert second["uid"] != first_uid and second["identity"] == second["uid"]
