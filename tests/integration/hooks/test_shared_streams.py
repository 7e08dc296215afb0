"""Deferred sensors' triggers sharing watches, driven by Airflow's own SharedStreamManager.

Each test subscribes triggers the way the triggerer's ``run_trigger`` does (key,
``subscribe``, ``filter_shared_stream``, ``unsubscribe``) against the test
cluster over real HTTPS, and counts what the API server saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.triggers.shared_stream import SharedStreamManager

from airflow_sts_provider.hooks.shared import Store
from airflow_sts_provider.triggers.base import SHARED_STREAMS, WorkloadRunningTrigger
from airflow_sts_provider.triggers.daemonset import DaemonSetRunningTrigger
from airflow_sts_provider.triggers.resource import ResourceRunningTrigger
from airflow_sts_provider.triggers.statefulset import (
    DeploymentRunningTrigger,
    PodRunningTrigger,
    StatefulSetRunningTrigger,
)
from airflow_sts_provider.triggers.workloads import WorkloadsRunningTrigger
from kube_test_cluster.cluster import EmulatedCluster

from .held import advance_until_done, expire_the_watches

CONN_ID = "sts_shared_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"

pytestmark = pytest.mark.skipif(not SHARED_STREAMS, reason="this Airflow shares no streams")


@pytest.fixture
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=20) as running:
        os.environ[CONN_ENV] = running.airflow_connection_json()
        yield running
    os.environ.pop(CONN_ENV, None)


def make(
    name: str,
    cls: type[WorkloadRunningTrigger] = StatefulSetRunningTrigger,
    *,
    namespace: str = "default",
    window: float = 20,
    timeout: float = 60,
    **kwargs: Any,
) -> WorkloadRunningTrigger:
    return cls(
        name=name,
        namespace=namespace,
        kubernetes_conn_id=CONN_ID,
        policy={"min_stable_seconds": window},
        check_interval=0.5,
        deadline=time.time() + timeout,
        **kwargs,
    )


@pytest.fixture
def held(frozen: EmulatedCluster) -> Iterator[EmulatedCluster]:
    """The ``frozen`` cluster (:mod:`.held`), with the connection the triggers resolve."""
    os.environ[CONN_ENV] = frozen.airflow_connection_json()
    yield frozen
    os.environ.pop(CONN_ENV, None)


async def subscribe(
    manager: SharedStreamManager, trigger_id: int, trigger: WorkloadRunningTrigger
) -> list[dict[str, Any]]:
    """What the triggerer's ``run_trigger`` does with a trigger that has a shared key."""
    key = trigger.shared_stream_key()
    assert key is not None
    stream = manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=key)
    try:
        return [event.payload async for event in trigger.filter_shared_stream(stream)]
    finally:
        await manager.unsubscribe(trigger_id, key)


async def shared_events(triggers: list[WorkloadRunningTrigger]) -> list[list[dict[str, Any]]]:
    manager = SharedStreamManager()
    runs = [subscribe(manager, i, trigger) for i, trigger in enumerate(triggers)]
    events = list(await asyncio.wait_for(asyncio.gather(*runs), timeout=120))
    await asyncio.sleep(0.5)  # a closed TLS socket needs the loop a moment more (aiohttp)
    return events


async def own_event(trigger: WorkloadRunningTrigger) -> dict[str, Any]:
    payload: dict[str, Any] = (await asyncio.wait_for(anext(trigger.run()), timeout=120)).payload
    return payload


def requests(cluster: EmulatedCluster, key: str) -> int:
    count: int = cluster.stats()["requests"].get(key, 0)
    return count


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what depends on the instant it was judged.

    That is the seconds, and for a failure the pod's lines: a crash-looping container
    is "Error, exit 1" one second and "CrashLoopBackOff" the next, so two paths that
    judge it a moment apart word it differently, and tell it by P4 (a recent restart)
    one second and by P3 the next: those two ids are one here. Every other rule id of
    the verdict and of each pod is still compared.
    """
    verdict = event["verdict"] or {}
    pods = [(p["name"], p["state"], _crash(p.get("rule"))) for p in verdict.get("pods", ())]
    rules = verdict.get("rules")
    rules = sorted({_crash(r) for r in rules}) if rules is not None else None
    message = re.sub(r"\d+s\b", "Ns", event["message"])
    if event["status"] == "failed":
        message = message.splitlines()[0]
    return {
        "status": event["status"],
        "message": message,
        "verdict": {
            **{k: verdict.get(k) for k in ("kind", "state", "ready", "desired")},
            "rules": rules,
        },
        "pods": pods,
    }


def _crash(rule: Any) -> Any:
    """P3 (CrashLoopBackOff) and P4 (just restarted): one crash loop, seen a moment apart."""
    return "P3|P4" if rule in ("P3", "P4") else rule


# --------------------------------------------------------------------------- the key


@pytest.mark.parametrize(
    ("trigger", "shares"),
    [
        (make("web"), True),
        (make("web", share_watches=False), False),
        (make("web", connection_extras={"in_cluster": True}), False),
        (make("web", PodRunningTrigger), True),
        (make("web", DeploymentRunningTrigger), True),
        (
            WorkloadsRunningTrigger(
                label_selector="app=shop", kinds=["StatefulSet"], namespace="default"
            ),
            False,
        ),
        (
            ResourceRunningTrigger(
                name="kafka",
                namespace="default",
                api_version="kafka.strimzi.io/v1beta2",
                resource_kind="Kafka",
            ),
            False,
        ),
    ],
    ids=[
        "a deferred sensor's trigger shares by default",
        "share_watches=False keeps its own watches",
        "a 0.1 trigger carrying its connection keeps its own",
        "a pod trigger shares",
        "a deployment trigger shares",
        "a release's polling trigger cannot share",
        "a custom resource known only after discovery keeps its own",
    ],
)
def test_which_triggers_share(trigger: WorkloadRunningTrigger, shares: bool) -> None:
    assert (trigger.shared_stream_key() is not None) is shares


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (make("db"), True),
        (make("web", namespace="shop"), False),
        (make("web", DeploymentRunningTrigger), False),
        (make("web", cluster_context="prod"), False),
        (
            StatefulSetRunningTrigger(name="web", namespace="default", kubernetes_conn_id="k8s_b"),
            False,
        ),
    ],
    ids=[
        "another workload of the kind in the namespace shares the stream",
        "another namespace is another stream",
        "another kind reads other resources",
        "another kubeconfig context is another cluster",
        "another connection is another identity",
    ],
)
def test_the_key_is_resources_connection_and_namespace(
    other: WorkloadRunningTrigger, same: bool
) -> None:
    assert (make("web").shared_stream_key() == other.shared_stream_key()) is same


def test_a_trigger_deferred_before_share_watches_existed_still_loads_and_shares() -> None:
    _, kwargs = make("web").serialize()
    assert "share_watches" not in kwargs  # the default serializes as before
    rebuilt = StatefulSetRunningTrigger(**kwargs)
    assert rebuilt.shared_stream_key() is not None
    _, off = make("web", share_watches=False).serialize()
    assert off["share_watches"] is False
    assert StatefulSetRunningTrigger(**off).shared_stream_key() is None


# --------------------------------------------------------------------------- sharing


def test_triggers_of_one_namespace_share_one_watch_per_resource(held: EmulatedCluster) -> None:
    cluster = held
    for name in ("healthy", "slow-start", "crashloop"):
        cluster.apply_scenario(name)
    cluster.apply_scenario("healthy", namespace="shop")
    # The clock stands still until all four watches are counted: nothing can be
    # decided (and its group gone) before the watches of every group opened.
    triggers = [
        make("healthy", window=10),
        make("healthy", window=10),  # two sensors on one workload
        make("slow-start", window=10),
        make("crashloop", window=10),
        make("healthy", namespace="shop", window=10),
    ]
    seen: dict[str, Any] = {}

    async def scenario() -> list[list[dict[str, Any]]]:
        task = asyncio.create_task(shared_events(triggers))
        await asyncio.to_thread(cluster.wait_for, lambda: cluster.stats()["watches_open"] >= 4, 60)
        seen.update(cluster.stats())
        await advance_until_done(cluster, task)
        fired = await task
        # Every watch closes once its group is gone: waited for with the loop running,
        # which aiohttp needs to close a TLS socket (after asyncio.run ends, a loaded
        # machine left one open past a 10 s bound). The bound is a hang guard only.
        none_open = lambda: cluster.stats()["watches_open"] == 0  # noqa: E731
        await asyncio.to_thread(cluster.wait_for, none_open, 120)
        return fired

    events = asyncio.run(scenario())
    assert seen["watches_open_by_resource"] == {"pods": 2, "statefulsets": 2}  # 2 namespaces
    assert [[e["status"] for e in fired] for fired in events] == [
        ["success"],
        ["success"],
        ["success"],
        ["failed"],
        ["success"],
    ]
    assert requests(cluster, "list pods") == 2  # once per namespace, never per trigger
    assert requests(cluster, "get statefulsets") == 0
    assert cluster.stats()["watches_open"] == 0
    assert Store.live == {}


def test_each_trigger_fires_the_event_its_own_watches_would(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy")
    cluster.apply_scenario("crashloop")
    cluster.apply_scenario("healthy-deployment")
    cluster.apply_scenario("healthy-daemonset")
    cluster.wait_for(lambda: any(e.get("reason") == "BackOff" for e in cluster.events))
    cases: list[tuple[str, type[WorkloadRunningTrigger], dict[str, Any]]] = [
        ("healthy", StatefulSetRunningTrigger, {}),
        ("crashloop", StatefulSetRunningTrigger, {}),
        ("crashloop", StatefulSetRunningTrigger, {"fail_fast": False, "timeout": 3}),
        ("healthy-deployment", DeploymentRunningTrigger, {}),
        ("healthy-daemonset", DaemonSetRunningTrigger, {}),
        ("crashloop-1", PodRunningTrigger, {}),
        ("absent", StatefulSetRunningTrigger, {"timeout": 3}),
    ]
    cluster.wait_for(
        lambda: asyncio.run(own_event(make("healthy", window=1)))["status"] == "success"
    )

    async def both() -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
        def build(share: bool) -> list[WorkloadRunningTrigger]:
            return [make(n, cls, window=1, share_watches=share, **kw) for n, cls, kw in cases]

        shared = asyncio.create_task(shared_events(build(True)))
        own = await asyncio.gather(*(own_event(t) for t in build(False)))
        return await shared, list(own)

    shared, own = asyncio.run(both())
    assert [len(fired) for fired in shared] == [1] * len(cases)
    assert [comparable(fired[0]) for fired in shared] == [comparable(e) for e in own]
    assert "recent events" in shared[1][0]["message"]


def test_a_late_subscriber_decides_from_the_current_picture(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy")
    cluster.apply_scenario("slow-start")

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        manager = SharedStreamManager()
        early = asyncio.create_task(subscribe(manager, 1, make("slow-start", window=600)))
        await asyncio.to_thread(cluster.wait_for, lambda: cluster.stats()["watches_open"] == 2, 60)
        await asyncio.sleep(1.5)  # healthy is READY in the store by now (window 1s)
        before = cluster.stats()
        late = await asyncio.wait_for(subscribe(manager, 2, make("healthy", window=1)), 60)
        after = cluster.stats()
        early.cancel()
        await asyncio.gather(early, return_exceptions=True)
        return late, before, after

    late, before, after = asyncio.run(scenario())
    assert [e["status"] for e in late] == ["success"]
    assert late[0]["verdict"]["ready"] == 3
    assert after["requests"].get("list pods") == before["requests"].get("list pods") == 1
    assert after["watches_opened"] == before["watches_opened"]


@pytest.mark.parametrize(
    ("expire", "relists"),
    [(False, 0), (True, 1)],
    ids=[
        "a cut watch resumes from its version for everyone, with no relist",
        "an expired version (410) relists once for everyone",
    ],
)
def test_a_dropped_or_expired_shared_watch(
    held: EmulatedCluster, expire: bool, relists: int
) -> None:
    cluster = held
    cluster.apply_scenario("slow-start")
    cluster.faults.set(watch_cut_after=0.3)
    triggers = [make("slow-start", window=3) for _ in range(4)]

    async def scenario() -> list[list[dict[str, Any]]]:
        task = asyncio.create_task(shared_events(triggers))
        # Both shared watches opened once (with cuts every 0.3 s, "open now" flickers).
        opened = lambda: cluster.stats()["watches_opened"] >= 2  # noqa: E731
        await asyncio.to_thread(cluster.wait_for, opened, 60)
        if expire:
            await asyncio.to_thread(expire_the_watches, cluster)
        await advance_until_done(cluster, task)
        return await task

    events = asyncio.run(scenario())
    assert [[e["status"] for e in fired] for fired in events] == [["success"]] * 4
    assert requests(cluster, "watch pods") > 2  # the watch was reopened
    lists = (requests(cluster, "list pods"), requests(cluster, "list statefulsets"))
    assert lists == (1 + relists, 1 + relists), cluster.stats()


def test_a_forbidden_watch_fails_every_subscriber_with_todays_message() -> None:
    role = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-pod-watch, namespace: default}
rules:
  - {apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch"]}
  - {apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}
"""
    with EmulatedCluster(speed=20, role=role) as locked:
        os.environ[CONN_ENV] = locked.airflow_connection_json()
        locked.apply_scenario("healthy")
        locked.apply_scenario("slow-start")
        names = ["healthy", "slow-start", "healthy"]
        shared = asyncio.run(shared_events([make(n, window=600) for n in names]))
        own = [asyncio.run(own_event(make(n, window=600, share_watches=False))) for n in names]
    os.environ.pop(CONN_ENV, None)
    assert [[e["status"] for e in fired] for fired in shared] == [["error"]] * 3
    assert [fired[0]["message"] for fired in shared] == [e["message"] for e in own]
    assert "cannot watch" in shared[0][0]["message"]


def test_a_workload_deleted_while_waiting_still_fails_saying_so(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("slow-start")
    cluster.apply_scenario("healthy")

    async def delete_later() -> list[list[dict[str, Any]]]:
        task = asyncio.create_task(
            shared_events([make("slow-start", window=600, timeout=60), make("healthy", window=600)])
        )
        # Deleted once both have been seen (listed, and watched): not "never found".
        watching = lambda: cluster.stats()["watches_open"] >= 2 or task.done()  # noqa: E731
        await asyncio.to_thread(cluster.wait_for, watching, 60)
        await asyncio.to_thread(cluster.delete, "statefulsets", "default", "slow-start")
        await asyncio.to_thread(cluster.delete, "statefulsets", "default", "healthy")
        return await task

    deleted, other = asyncio.run(delete_later())
    assert [e["status"] for e in deleted] == ["failed"]
    assert "StatefulSet default/slow-start was deleted while waiting" in deleted[0]["message"]
    assert "StatefulSet default/healthy was deleted while waiting" in other[0]["message"]


def test_run_keeps_its_own_watches_as_on_an_airflow_without_shared_streams(
    cluster: EmulatedCluster,
) -> None:
    """A triggerer that never asks for the key calls ``run()``: nothing is shared."""
    cluster.apply_scenario("healthy")
    event = asyncio.run(own_event(make("healthy", window=1)))
    assert event["status"] == "success"
    assert requests(cluster, "get statefulsets") >= 1  # its own GET by name
    assert Store.live == {}
    json.dumps(event)


def test_an_event_trigger_shares_the_stream_and_keeps_watching(cluster: EmulatedCluster) -> None:
    """An AssetWatcher's trigger and a deferred sensor's share one group; it fires once, goes on."""
    from airflow_sts_provider.triggers.events import StatefulSetReadyEventTrigger

    cluster.apply_scenario("healthy")
    watcher = StatefulSetReadyEventTrigger(
        name="healthy",
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        check_interval=0.5,
        policy={"min_stable_seconds": 1},
    )
    assert watcher.shared_stream_key() == make("healthy").shared_stream_key()
    fired: list[dict[str, Any]] = []

    async def scenario() -> list[dict[str, Any]]:
        manager = SharedStreamManager()
        key = watcher.shared_stream_key()
        stream = manager.subscribe(trigger_id=1, trigger=watcher, key=key)

        async def watch() -> None:
            async for event in watcher.filter_shared_stream(stream):
                fired.append(event.payload)

        task = asyncio.create_task(watch())
        sensor = await subscribe(manager, 2, make("healthy", window=1))
        await asyncio.sleep(2.0)  # the watcher keeps judging the same revision: no second event
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await manager.unsubscribe(1, key)
        await asyncio.sleep(0.5)
        return sensor

    sensor = asyncio.run(scenario())
    assert [e["status"] for e in sensor] == ["success"]
    assert [e["status"] for e in fired] == ["success"]
    assert requests(cluster, "watch pods") == 1


def test_a_shared_poll_that_dies_leaves_each_trigger_on_its_own_watches(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The triggerer fails every subscriber of a poll that raised; they watch alone instead."""
    from airflow_sts_provider.hooks import shared

    async def broken(*_args: Any) -> Any:
        raise RuntimeError("the informer broke")
        yield  # pragma: no cover - an async generator

    monkeypatch.setattr(shared, "informer", broken)
    cluster.apply_scenario("healthy")
    events = asyncio.run(shared_events([make("healthy", window=1) for _ in range(3)]))
    assert [[e["status"] for e in fired] for fired in events] == [["success"]] * 3
    assert requests(cluster, "get statefulsets") >= 3  # each read its own workload


# --------------------------------------------------------------------------- refused rights

_RIGHTS = {
    "statefulsets": ("apps", ["get", "list", "watch"]),
    "deployments": ("apps", ["get", "list", "watch"]),
    "daemonsets": ("apps", ["get", "list", "watch"]),
    "replicasets": ("apps", ["list", "watch"]),
    "controllerrevisions": ("apps", ["list", "watch"]),
    "pods": ("", ["get", "list", "watch"]),
    "events": ("", ["list"]),
}


def role_without(resource: str, verb: str) -> str:
    """The documented least-privilege Role less one verb on one resource."""
    rules = []
    for plural, (group, verbs) in _RIGHTS.items():
        kept = [v for v in verbs if not (plural == resource and v == verb)]
        rules.append(f'  - {{apiGroups: ["{group}"], resources: ["{plural}"], verbs: {kept}}}')
    return (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
        "metadata: {name: less-one-right, namespace: default}\nrules:\n" + "\n".join(rules) + "\n"
    )


@pytest.mark.parametrize(
    ("cls", "scenario", "resource", "verb", "outcome"),
    [
        (StatefulSetRunningTrigger, "healthy", "pods", "list", "error"),
        (StatefulSetRunningTrigger, "healthy", "statefulsets", "list", "success"),
        (StatefulSetRunningTrigger, "healthy", "pods", "watch", "error"),
        (DeploymentRunningTrigger, "healthy-deployment", "replicasets", "list", "error"),
        (DeploymentRunningTrigger, "healthy-deployment", "deployments", "list", "success"),
        (DaemonSetRunningTrigger, "healthy-daemonset", "controllerrevisions", "list", "error"),
        (DaemonSetRunningTrigger, "healthy-daemonset", "daemonsets", "watch", "error"),
        (PodRunningTrigger, "healthy", "pods", "list", "success"),
    ],
    ids=[
        "no list on pods: every shared statefulset trigger errors as its own would",
        "no list on statefulsets: they succeed on their own narrower reads",
        "no watch on pods: they error as their own would",
        "no list on replicasets: every deployment trigger errors as its own would",
        "no list on deployments: they succeed on their own narrower reads",
        "no list on controllerrevisions: every daemonset trigger errors as its own would",
        "no watch on daemonsets: they error as their own would",
        "no list on pods: a pod trigger succeeds on its own get and watch",
    ],
)
def test_a_refused_shared_read_ends_each_trigger_as_its_own_reads_would(
    cls: type[WorkloadRunningTrigger], scenario: str, resource: str, verb: str, outcome: str
) -> None:
    """Never a wait until the timeout: the triggers' own deadline (600 s) is far beyond the
    test's bound on the whole run (120 s), so a subscriber left waiting fails the test.

    The clock is held, so nothing is ready before every trigger has read (and, where
    it must, watched); it moves on only where the narrower reads let them succeed.
    """
    name = "healthy-0" if cls is PodRunningTrigger else scenario
    role = role_without(resource, verb)
    with EmulatedCluster(manual_clock=True, role=role) as locked:
        os.environ[CONN_ENV] = locked.airflow_connection_json()
        try:
            locked.apply_scenario(scenario)
            triggers = [make(name, cls, window=1, timeout=600) for _ in range(3)]
            alone = make(name, cls, window=1, timeout=600, share_watches=False)

            async def both() -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
                runs = asyncio.gather(own_event(alone), shared_events(triggers))
                if outcome == "success":
                    await advance_until_done(locked, runs)
                own, shared = await asyncio.wait_for(runs, timeout=120)
                return own, shared

            own, shared = asyncio.run(both())
        finally:
            os.environ.pop(CONN_ENV, None)
    assert own["status"] == outcome
    assert [[e["status"] for e in fired] for fired in shared] == [[outcome]] * 3
    if outcome == "error":
        assert [fired[0]["message"] for fired in shared] == [own["message"]] * 3
        assert f"cannot {verb} {resource}" in own["message"]


def test_a_refused_shared_list_raises_in_an_asset_watcher() -> None:
    from airflow_sts_provider.exceptions import AssetWatcherError
    from airflow_sts_provider.triggers.events import StatefulSetReadyEventTrigger

    with EmulatedCluster(speed=20, role=role_without("pods", "list")) as locked:
        os.environ[CONN_ENV] = locked.airflow_connection_json()
        try:
            locked.apply_scenario("healthy")
            watcher = StatefulSetReadyEventTrigger(
                name="healthy", namespace="default", kubernetes_conn_id=CONN_ID, check_interval=0.5
            )

            async def watch() -> None:
                manager = SharedStreamManager()
                key = watcher.shared_stream_key()
                stream = manager.subscribe(trigger_id=1, trigger=watcher, key=key)
                try:
                    async for _ in watcher.filter_shared_stream(stream):
                        pass
                finally:
                    await manager.unsubscribe(1, key)

            with pytest.raises(AssetWatcherError, match="cannot list pods"):
                asyncio.run(asyncio.wait_for(watch(), timeout=120))
        finally:
            os.environ.pop(CONN_ENV, None)
