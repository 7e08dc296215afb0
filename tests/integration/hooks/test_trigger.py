"""The deferrable trigger on its own: watch streams, relists, faults and its one event."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_sts_provider.triggers.statefulset import (
    DeploymentRunningTrigger,
    PodRunningTrigger,
    StatefulSetRunningTrigger,
    WorkloadRunningTrigger,
    trigger_for,
)
from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.faults import FaultDecision, Faults

from .held import advance_until_done, expire_the_watches

#: The connection the triggers resolve by id, as in the triggerer: never shipped in kwargs.
CONN_ID = "sts_trigger_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"


@pytest.fixture
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=20) as running:
        yield running


@pytest.fixture(autouse=True)
def _forget_connection() -> Iterator[None]:
    yield
    os.environ.pop(CONN_ENV, None)  # set by make(); must not leak into other tests


def make(
    cls: type[WorkloadRunningTrigger],
    cluster: EmulatedCluster,
    name: str,
    *,
    window: float = 20,
    timeout: float = 60,
    **kwargs: Any,
) -> WorkloadRunningTrigger:
    os.environ[CONN_ENV] = cluster.airflow_connection_json()
    return cls(
        name=name,
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        policy={"min_stable_seconds": window},
        check_interval=0.5,
        deadline=time.time() + timeout,
        **kwargs,
    )


def fire(trigger: WorkloadRunningTrigger) -> dict[str, Any]:
    """Run the trigger to its first (and only) event, bounded so a bug cannot hang."""

    async def first() -> Any:
        return await asyncio.wait_for(anext(trigger.run()), timeout=120)

    payload: dict[str, Any] = asyncio.run(first()).payload
    return payload


def fire_on_a_held_clock(
    trigger: WorkloadRunningTrigger, cluster: EmulatedCluster, watching: Callable[[], bool]
) -> dict[str, Any]:
    """Run the trigger while the cluster's clock stands still until ``watching()`` holds,
    then move the clock on until the trigger fires (:mod:`.held`).

    On a loaded machine a trigger may first list only seconds after it starts, and a
    test cluster at speed 20 finishes a rollout in that time: it would fire without
    ever watching.
    """

    async def run() -> Any:
        task = asyncio.create_task(asyncio.wait_for(anext(trigger.run()), timeout=120))
        await asyncio.to_thread(cluster.wait_for, lambda: watching() or task.done(), 60)
        await advance_until_done(cluster, task)
        return await task

    payload: dict[str, Any] = asyncio.run(run()).payload
    return payload


def both_watches_open(cluster: EmulatedCluster) -> bool:
    """The trigger has listed and now watches the workload and its pods."""
    return int(cluster.stats()["watches_open"]) >= 2


def test_serialize_round_trips_through_its_classpath() -> None:
    trigger = StatefulSetRunningTrigger(
        name="web",
        namespace="shop",
        kubernetes_conn_id="k8s_shop",
        policy={"min_stable_seconds": 30.0},
        check_interval=5,
        deadline=123.0,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_sts_provider.triggers.statefulset.StatefulSetRunningTrigger"
    json.dumps(kwargs)  # everything is plain JSON
    rebuilt = StatefulSetRunningTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("StatefulSet", StatefulSetRunningTrigger),
        ("Deployment", DeploymentRunningTrigger),
        ("Pod", PodRunningTrigger),
    ],
)
def test_trigger_for_picks_the_class_of_the_kind(
    kind: str, cls: type[WorkloadRunningTrigger]
) -> None:
    assert type(trigger_for(kind, name="x", namespace="default")) is cls


def test_success_once_the_window_has_passed_without_events(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy")
    event = fire(make(StatefulSetRunningTrigger, cluster, "healthy"))
    assert event["status"] == "success"
    assert event["verdict"]["state"] == "ready"
    assert event["verdict"]["ready"] == 3


def test_failed_with_the_pod_reason_and_events(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("crashloop")
    cluster.wait_for(lambda: any(e.get("reason") == "BackOff" for e in cluster.events))
    event = fire(make(StatefulSetRunningTrigger, cluster, "crashloop"))
    assert event["status"] == "failed"
    assert "crashloop-1 container app: " in event["message"]
    assert "crashloop-0" not in event["message"].split("Inspect", maxsplit=1)[0]
    assert "recent events" in event["message"], event["message"]


def test_without_fail_fast_it_times_out_with_the_last_verdict(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("crashloop")
    event = fire(make(StatefulSetRunningTrigger, cluster, "crashloop", fail_fast=False, timeout=3))
    assert event["status"] == "timeout"
    assert event["message"].startswith("Sensor has timed out")
    assert event["verdict"]["state"] == "failed"


def test_a_missing_statefulset_waits_until_it_appears(cluster: EmulatedCluster) -> None:
    trigger = make(StatefulSetRunningTrigger, cluster, "slow-start")

    async def scenario_later() -> dict[str, Any]:
        task = asyncio.create_task(asyncio.wait_for(anext(trigger.run()), timeout=120))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.apply_scenario, "slow-start")
        return (await task).payload  # type: ignore[no-any-return]

    event = asyncio.run(scenario_later())
    assert event["status"] == "success"


def test_watches_cut_short_and_flaky_responses_only_delay_success(
    cluster: EmulatedCluster,
) -> None:
    cluster.apply_scenario("rolling-update")
    # fail_next makes faults certain: a run of ~10 requests drew none 1 time in 10
    # from fail_rate alone. Three in a row outlast the in-place retries, so the
    # cycle's own reconnect is exercised too.
    cluster.faults.set(
        watch_cut_after=0.5, fail_rate=0.2, fail_next=3, fail_codes=[503], retry_after=0
    )
    event = fire(make(StatefulSetRunningTrigger, cluster, "rolling-update"))
    assert event["status"] == "success"
    assert cluster.faults.injected >= 3


def test_deployment_and_pod_triggers(cluster: EmulatedCluster) -> None:
    cluster.apply_scenario("healthy-deployment")
    cluster.apply_scenario("crashloop")
    assert fire(make(DeploymentRunningTrigger, cluster, "healthy-deployment"))["status"] == (
        "success"
    )
    assert fire(make(PodRunningTrigger, cluster, "crashloop-1"))["status"] == "failed"


def test_a_missing_watch_right_is_an_error_event() -> None:
    role = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-watch, namespace: default}
rules:
  - {apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get"]}
  - {apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}
"""
    # A held clock: the pods cannot all be Ready and stable before the trigger watches.
    with EmulatedCluster(manual_clock=True, role=role) as locked:
        locked.apply_scenario("healthy")
        event = fire(make(StatefulSetRunningTrigger, locked, "healthy"))
    assert event["status"] == "error"
    assert "cannot watch" in event["message"]


# --------------------------------------------------------------------------- credentials


def test_a_kubeconfig_file_travels_as_its_path_and_is_read_in_the_triggerer(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection without cluster configuration: the worker used KUBECONFIG; ship its path."""
    from airflow_sts_provider.hooks.statefulset import StatefulSetHook

    monkeypatch.setenv(CONN_ENV, json.dumps({"conn_type": "kubernetes"}))
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
    # The client reads KUBECONFIG once, at import; a worker sets it before starting.
    from kubernetes.config import kube_config

    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(cluster.kubeconfig_path))
    shipped = StatefulSetHook(kubernetes_conn_id=CONN_ID).trigger_connection_kwargs()
    assert shipped == {"config_file": str(cluster.kubeconfig_path)}
    cluster.apply_scenario("healthy")
    trigger = StatefulSetRunningTrigger(
        name="healthy",
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        policy={"min_stable_seconds": 20},
        check_interval=0.5,
        deadline=time.time() + 60,
        **shipped,
    )
    assert cluster.token
    assert cluster.token not in json.dumps(trigger.serialize())
    assert fire(trigger)["status"] == "success"


def test_a_kubeconfig_file_the_triggerer_cannot_read_is_one_clear_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONN_ENV, json.dumps({"conn_type": "kubernetes"}))
    missing = tmp_path / "kubeconfig"
    trigger = StatefulSetRunningTrigger(
        name="web",
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        config_file=str(missing),
        deadline=time.time() + 30,
    )
    event = fire(trigger)
    assert event["status"] == "error"
    assert str(missing) in event["message"]
    assert "kube_config_path" in event["message"]


def test_the_hook_registers_the_token_it_authenticates_with_as_a_secret(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    from airflow_sts_provider.hooks.statefulset import StatefulSetHook

    monkeypatch.setenv(CONN_ENV, cluster.airflow_connection_json())
    token = cluster.token
    assert token and token in str(redact(f"Authorization: Bearer {token}"))
    StatefulSetHook(kubernetes_conn_id=CONN_ID).get_conn()
    assert token not in str(redact(f"Authorization: Bearer {token}"))


# --------------------------------------------------------------------------- the first verdict


def test_a_trigger_that_never_gets_an_answer_times_out_with_the_first_pokes_verdict() -> None:
    os.environ[CONN_ENV] = json.dumps(
        {"conn_type": "kubernetes", "extra": {"kube_config": unreachable_kubeconfig()}}
    )
    trigger = StatefulSetRunningTrigger(
        name="web",
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        deadline=time.time() + 2,
        first_verdict={"state": "waiting", "reason": "1 of 3 ready; web-2: stabilizing 20s/60s"},
    )
    event = fire(trigger)
    assert event["status"] == "timeout"
    assert "still WAITING: 1 of 3 ready; web-2: stabilizing" in event["message"]


def unreachable_kubeconfig() -> dict[str, Any]:
    """A kubeconfig whose server refuses connections (a closed port on this machine)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }


# --------------------------------------------------------------------------- resilience


class CountingFaults(Faults):
    """The cluster's faults, remembering every path the trigger asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def decide(self, path: str) -> FaultDecision:
        self.paths.append(path)
        return super().decide(path)


def test_a_failing_watch_is_retried_in_place_without_relisting() -> None:
    """One failed watch request used to tear down the cycle and list everything again."""
    faults = CountingFaults()
    with EmulatedCluster(manual_clock=True, faults=faults) as flaky:
        flaky.apply_scenario("healthy")
        faults.set(path_pattern=r"watch=true", fail_next=4, fail_codes=[503], retry_after=0)
        trigger = make(StatefulSetRunningTrigger, flaky, "healthy")
        logged = Lines()  # what the task's trigger log shows
        trigger._log = logged  # type: ignore[assignment]
        event = fire_on_a_held_clock(
            trigger, flaky, lambda: faults.injected == 4 and both_watches_open(flaky)
        )
    assert event["status"] == "success"
    assert faults.injected == 4
    pod_lists = [p for p in faults.paths if "/pods?" in p and "watch=true" not in p]
    assert len(pod_lists) == 1, pod_lists
    assert any(" interrupted (" in line for line in logged.lines), logged.lines


class Lines:
    """A trigger's logger that keeps its lines (Airflow's is structlog's, caplog sees none)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _keep(self, message: str, *args: object, **_: object) -> None:
        self.lines.append(message % args if args else message)

    info = warning = debug = error = exception = _keep


@pytest.mark.parametrize(
    ("fail_fast", "status"),
    [(True, "failed"), (False, "timeout")],
    ids=["it fails, saying so", "without fail_fast it keeps waiting for it to come back"],
)
def test_a_workload_deleted_while_the_trigger_waits(
    cluster: EmulatedCluster, fail_fast: bool, status: str
) -> None:
    cluster.apply_scenario("slow-start")
    # Without fail_fast the wait ends at its timeout; with it, at the deletion.
    timeout = 60 if fail_fast else 8
    trigger = make(
        StatefulSetRunningTrigger,
        cluster,
        "slow-start",
        window=600,
        timeout=timeout,
        fail_fast=fail_fast,
    )

    async def delete_later() -> dict[str, Any]:
        task = asyncio.create_task(asyncio.wait_for(anext(trigger.run()), timeout=90))
        # Deleted once the trigger has seen it (listed, and now watches): not "never found".
        seen = lambda: both_watches_open(cluster) or task.done()  # noqa: E731
        await asyncio.to_thread(cluster.wait_for, seen, 60)
        await asyncio.to_thread(cluster.delete, "statefulsets", "default", "slow-start")
        return (await task).payload  # type: ignore[no-any-return]

    event = asyncio.run(delete_later())
    assert event["status"] == status
    if fail_fast:
        assert "StatefulSet default/slow-start was deleted while waiting" in event["message"]


def test_a_name_that_never_appears_fails_the_trigger_after_its_grace(
    cluster: EmulatedCluster,
) -> None:
    cluster.apply_scenario("slow-start")
    trigger = make(StatefulSetRunningTrigger, cluster, "slow-strat", not_found_grace_seconds=1)
    event = fire(trigger)
    assert event["status"] == "failed"
    assert "did you mean `slow-start`?" in event["message"]


def _ready_then_compacted(cluster: EmulatedCluster) -> None:
    """``healthy`` Ready, then a newer write and no history: its own version is gone."""
    cluster.apply_scenario("healthy")
    while ((cluster.get("statefulsets", "healthy") or {}).get("status") or {}).get(
        "readyReplicas"
    ) != 3:
        cluster.advance(2)

    def touch(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("annotations", {})["touched"] = "yes"

    cluster.patch("pods", "default", "healthy-0", touch)
    cluster.store.compact()


def test_a_workload_unchanged_since_before_the_watch_history_is_watched_without_a_relist(
    frozen: EmulatedCluster,
) -> None:
    """Its own resourceVersion is older than the server's history: a watch from it is 410
    at once, and relisting read the same version again (GET, 410, relist, for ever)."""
    _ready_then_compacted(frozen)
    trigger = make(StatefulSetRunningTrigger, frozen, "healthy", window=60)
    event = fire_on_a_held_clock(trigger, frozen, lambda: both_watches_open(frozen))
    assert event["status"] == "success"
    requests = frozen.stats()["requests"]
    assert (requests.get("list pods"), requests.get("watch statefulsets")) == (1, 1), requests


def test_a_watch_stale_when_its_history_expired_still_decides_after_the_relist(
    frozen: EmulatedCluster,
) -> None:
    """A watch interrupted (stale), then 410 on resuming: the relisted cycle is whole, and
    the stale mark of the cycle before must not keep it from ever deciding."""
    frozen.apply_scenario("slow-start")
    frozen.faults.set(watch_cut_after=0.3)
    trigger = make(StatefulSetRunningTrigger, frozen, "slow-start", window=3, timeout=90)

    async def run() -> dict[str, Any]:
        task = asyncio.create_task(asyncio.wait_for(anext(trigger.run()), timeout=120))
        # Both watches opened once (with cuts every 0.3 s, "open now" flickers).
        opened = lambda: frozen.stats()["watches_opened"] >= 2  # noqa: E731
        await asyncio.to_thread(frozen.wait_for, opened, 60)
        await asyncio.to_thread(expire_the_watches, frozen)
        await advance_until_done(frozen, task)
        return (await task).payload  # type: ignore[no-any-return]

    event = asyncio.run(run())
    assert event["status"] == "success", event["message"]
    assert frozen.stats()["requests"].get("list pods") == 2  # one relist


def test_a_release_selector_that_never_matches_fails_the_trigger_after_its_grace(
    cluster: EmulatedCluster,
) -> None:
    from airflow_sts_provider.triggers.workloads import WorkloadsRunningTrigger

    cluster.apply_scenario("release")
    os.environ[CONN_ENV] = cluster.airflow_connection_json()
    trigger = WorkloadsRunningTrigger(
        label_selector="app.kubernetes.io/instance=relaese",
        kinds=["StatefulSet", "Deployment", "DaemonSet"],
        namespace="default",
        kubernetes_conn_id=CONN_ID,
        check_interval=0.5,
        deadline=time.time() + 60,
        not_found_grace_seconds=1,
    )
    event = fire(trigger)
    assert event["status"] == "failed"
    assert "did you mean `app.kubernetes.io/instance=release`?" in event["message"]
