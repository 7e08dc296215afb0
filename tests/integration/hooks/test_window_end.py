"""A stability window watched live ends when it truly does, never a moment before.

The API stamps ``lastTransitionTime`` to the second; the test cluster knows the
moment its kubelet turned each pod Ready, so the trigger's ``ready_since`` and the
moment it fires can be held against the truth (:mod:`airflow_sts_provider.hooks.stamps`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger
from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.nodes.pod import PodSim

CONN_ID = "sts_window_end_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"
WINDOW = 3.0


@pytest.fixture(autouse=True)
def _forget_connection() -> Iterator[None]:
    yield
    os.environ.pop(CONN_ENV, None)


def statefulset(name: str) -> dict[str, Any]:
    labels = {"app": name}
    behaviour = {"sts.emulator/behaviour": "ready=2"}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 2,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": behaviour},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }


@pytest.mark.parametrize("shared", [False, True], ids=["own watches", "shared watches"])
def test_a_window_never_ends_before_the_pods_truly_turned_ready_plus_the_window(
    monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    turned_ready: dict[str, datetime] = {}
    set_condition = PodSim._set_condition

    def recording(self: PodSim, kind: str, value: bool, when: datetime, *args: Any) -> None:
        was = (self.conditions.get("Ready") or {}).get("status")
        if kind == "Ready" and value and was != "True":
            turned_ready[self.name] = when  # the kubelet's own moment, before truncation
        set_condition(self, kind, value, when, *args)

    monkeypatch.setattr(PodSim, "_set_condition", recording)
    with EmulatedCluster() as cluster:  # the real clock: its rate is this machine's
        os.environ[CONN_ENV] = cluster.airflow_connection_json()
        cluster.apply(statefulset("live"))
        trigger = StatefulSetRunningTrigger(
            name="live",
            namespace="default",
            kubernetes_conn_id=CONN_ID,
            policy={"min_stable_seconds": WINDOW},
            check_interval=30,
            deadline=time.time() + 300,
            share_watches=shared,
        )

        async def first() -> tuple[dict[str, Any], datetime]:
            event = await asyncio.wait_for(anext(trigger.run()), timeout=240)
            return event.payload, cluster.clock.now()

        event, fired_at = asyncio.run(first())

    assert event["status"] == "success", event
    assert sorted(turned_ready) == ["live-0", "live-1"]
    for pod in event["verdict"]["pods"]:
        since = datetime.fromisoformat(pod["ready_since"])
        assert since >= turned_ready[pod["name"]], (pod, turned_ready)
    assert fired_at >= max(turned_ready.values()) + timedelta(seconds=WINDOW)
