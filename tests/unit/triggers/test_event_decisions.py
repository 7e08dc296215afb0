"""The event triggers' decision: once per revision, remembered across restarts.

Narrow on purpose: ``_decide`` is fed verdicts and pictures by hand, the hook is a
stub that only adds events, the state store is a dict. The real path (a triggerer,
a scheduler and the test cluster) is ``tests/airflow/test_event_scheduling.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.triggers.base import BaseEventTrigger

from airflow_sts_provider.exceptions import (
    AssetWatcherError,
    KubernetesPermissionError,
    TransientKubernetesError,
    UnservedKindError,
)
from airflow_sts_provider.hooks.reads import Picture
from airflow_sts_provider.kinds import KINDS, import_class, kind_of
from airflow_sts_provider.readiness import PodReport, State, Verdict
from airflow_sts_provider.triggers.events import (
    PodReadyEventTrigger,
    ReadyEventTrigger,
    ResourceReadyEventTrigger,
    StatefulSetReadyEventTrigger,
)

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Seen:
    """One judgement: the workload's state, uid and revision (uid None: it is gone)."""

    state: State
    uid: str | None = "uid-1"
    revision: str | None = "web-a"


def seen_ready(revision: str = "web-a", uid: str = "uid-1") -> Seen:
    return Seen(State.READY, uid, revision)


GONE = Seen(State.WAITING, None, None)


def verdict(seen: Seen, kind: str = "StatefulSet") -> Verdict:
    pod_state = State.FAILED if seen.state is State.FAILED else State.READY
    pod = PodReport(
        "web-0", pod_state, "web-0: CrashLoopBackOff", None, 3, seen.revision, None, None
    )
    return Verdict(kind, "web", "default", seen.state, "x", 1, 1, seen.revision, (pod,))


def picture(seen: Seen, kind: str = "StatefulSet") -> Picture:
    workload = None
    if seen.uid is not None:
        workload = {"metadata": {"name": "web", "uid": seen.uid, "generation": 4}}
    return Picture(kind=kind_of(kind), name="web", namespace="default", workload=workload)


class StubHook:
    """Adds one Warning event to the failing pods, as the real hook's enrichment does."""

    def __init__(self) -> None:
        self.enriched = 0

    async def with_events(self, v: Verdict, p: Picture) -> Verdict:
        self.enriched += 1
        return v.with_pod_events({pod.name: ["BackOff: Back-off restarting"] for pod in v.pods})


class DictStore:
    """The part of ``AssetStateStoreAccessors`` a trigger uses: ``aget``/``aset`` of one asset."""

    def __init__(self, data: JsonDict | None = None, *, broken: bool = False) -> None:
        self.data: JsonDict = {} if data is None else data
        self.reads = 0
        self.broken = broken

    async def aget(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        if self.broken:
            raise RuntimeError("state store unreachable")
        return self.data.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        if self.broken:
            raise RuntimeError("state store unreachable")
        self.data[key] = value


def make(cls: type[ReadyEventTrigger] = StatefulSetReadyEventTrigger, **kwargs: Any) -> Any:
    return cls(name="web", namespace="default", **kwargs)


def decide(trigger: ReadyEventTrigger, seen: Seen, hook: StubHook | None = None) -> JsonDict | None:
    """One judgement as the loop makes it: remember the verdict, then ask ``_decide``."""
    kind = trigger.kind
    v, p = verdict(seen, kind), picture(seen, kind)
    trigger._remember(v)
    return asyncio.run(trigger._decide(hook or StubHook(), v, p))  # type: ignore[arg-type]


def statuses(trigger: ReadyEventTrigger, story: list[Seen]) -> list[str | None]:
    return [(event or {}).get("status") for event in (decide(trigger, seen) for seen in story)]


# --------------------------------------------------------------------------- once per revision

F = Seen(State.FAILED, "uid-1", "web-b")
W = Seen(State.WAITING, "uid-1", "web-b")


@pytest.mark.parametrize(
    ("on_failure", "story", "expected"),
    [
        (False, [seen_ready()], ["success"]),
        (False, [seen_ready(), seen_ready()], ["success", None]),
        (False, [seen_ready(), Seen(State.WAITING), seen_ready()], ["success", None, None]),
        (False, [seen_ready(), W, seen_ready("web-b")], ["success", None, "success"]),
        (False, [seen_ready(), seen_ready("web-b"), seen_ready()], ["success"] * 3),
        (False, [Seen(State.WAITING)], [None]),
        (False, [seen_ready(), W, F], ["success", None, None]),
        (True, [seen_ready(), W, F, F], ["success", None, "failed", None]),
        (True, [F, W, F], ["failed", None, None]),
        (True, [F, seen_ready("web-b")], ["failed", "success"]),
        (False, [seen_ready(), GONE], ["success", None]),
        (False, [seen_ready(), GONE, seen_ready(uid="uid-2")], ["success", None, "success"]),
        (
            False,
            [Seen(State.READY, revision=None), Seen(State.READY, revision=None)],
            ["success", None],
        ),
        (True, [seen_ready(), F, seen_ready()], ["success", "failed", "success"]),
        (False, [seen_ready(), F, seen_ready()], ["success", None, "success"]),
        (False, [seen_ready(), W, seen_ready()], ["success", None, "success"]),
        (True, [F, seen_ready(), F], ["failed", "success", "failed"]),
        (
            False,
            [seen_ready(), Seen(State.WAITING, revision=None), seen_ready()],
            ["success", None, None],
        ),
    ],
    ids=[
        "a revision that becomes READY fires",
        "the same revision READY again fires nothing",
        "a flap at the same revision fires nothing",
        "a new revision that becomes READY fires again",
        "a rollback to the previous revision is a rollout of its own and fires",
        "WAITING fires nothing",
        "FAILED without on_failure fires nothing",
        "FAILED with on_failure fires once for the failing revision",
        "a FAILED revision that flaps to WAITING and back does not fire twice",
        "a FAILED revision that recovers fires READY",
        "a deleted workload fires nothing",
        "a workload created again under the same name is a new identity and fires",
        "without a revision the generation identifies it",
        "a rollback after a failed rollout fires READY again, and the failure once",
        "a rollback after a failed rollout fires READY again without on_failure",
        "a rollback from an unfinished rollout fires READY again",
        "a revision rolled out again after a rollback fires its failure again",
        "a moment without a known revision is no rollout and fires nothing",
    ],
)
def test_fires_once_per_revision(
    on_failure: bool, story: list[Seen], expected: list[str | None]
) -> None:
    assert statuses(make(on_failure=on_failure), story) == expected


def test_a_ready_event_names_the_revision_the_uid_and_the_verdict() -> None:
    event = decide(make(), seen_ready("web-7b8f"))
    assert event is not None
    assert (event["status"], event["revision"], event["uid"]) == ("success", "web-7b8f", "uid-1")
    assert event["identity"] == "uid-1@web-7b8f"
    assert (event["kind"], event["namespace"], event["name"]) == ("StatefulSet", "default", "web")
    assert event["verdict"]["state"] == "ready"


def test_a_failed_event_carries_the_failing_pods_and_their_events() -> None:
    hook = StubHook()
    event = decide(make(on_failure=True), F, hook)
    assert event is not None and event["status"] == "failed"
    assert hook.enriched == 1
    (pod,) = event["verdict"]["pods"]
    assert pod["state"] == "failed"
    assert "BackOff" in pod["reason"]
    assert "web-0" in event["message"]


@pytest.mark.parametrize(
    ("story", "expected"),
    [
        ([seen_ready("rev-1"), seen_ready("rev-2")], ["success", None]),
        ([seen_ready(uid="uid-1"), seen_ready(uid="uid-2")], ["success", "success"]),
    ],
    ids=[
        "a pod is its uid: a changed revision label is not a new pod",
        "a pod replaced under the same name is a new pod and fires",
    ],
)
def test_a_pod_is_identified_by_its_uid(story: list[Seen], expected: list[str | None]) -> None:
    assert statuses(make(PodReadyEventTrigger), story) == expected


def test_a_custom_resource_fires_once_per_generation() -> None:
    trigger = make(
        ResourceReadyEventTrigger, api_version="kafka.strimzi.io/v1beta2", resource_kind="Kafka"
    )
    v = Verdict("Kafka", "web", "default", State.READY, "ok", 0, 0, "4", ())
    p = Picture(
        kind=kind_of("StatefulSet"),
        name="web",
        namespace="default",
        workload={"metadata": {"uid": "k"}},
    )
    trigger._remember(v)
    first = asyncio.run(trigger._decide(StubHook(), v, p))
    again = asyncio.run(trigger._decide(StubHook(), v, p))
    assert first is not None and first["identity"] == "k@4" and again is None


# --------------------------------------------------------------------------- the state store


def test_a_restarted_trigger_with_the_state_store_does_not_fire_again() -> None:
    store = DictStore()
    first = make()
    first.asset_state_store = store
    assert statuses(first, [seen_ready()]) == ["success"]
    assert store.data == {first.state_key: {"ready": "uid-1@web-a"}}  # written before it fired
    restarted = make()
    restarted.asset_state_store = store
    assert statuses(restarted, [seen_ready(), seen_ready(), seen_ready("web-b")]) == [
        None,
        None,
        "success",
    ]
    assert store.reads == 2  # once per trigger instance, not once per judgement


def test_without_a_state_store_a_restarted_trigger_fires_again() -> None:
    assert statuses(make(), [seen_ready()]) == ["success"]
    assert statuses(make(), [seen_ready()]) == ["success"]


def test_a_broken_state_store_warns_and_keeps_the_memory_in_process(
    capfd: pytest.CaptureFixture[str],
) -> None:
    trigger = make()
    trigger.asset_state_store = DictStore(broken=True)
    assert statuses(trigger, [seen_ready(), seen_ready()]) == ["success", None]
    logged = capfd.readouterr().out
    assert "Could not read the asset state store" in logged
    assert "Could not write the asset state store" in logged


def test_identical_watchers_of_several_assets_remember_in_each() -> None:
    one, other = DictStore(), DictStore({})
    trigger = make()
    trigger.asset_state_store = SimpleNamespace(_by_name={"a": one, "b": other}, _by_uri={})
    assert statuses(trigger, [seen_ready()]) == ["success"]
    assert one.data == other.data == {trigger.state_key: {"ready": "uid-1@web-a"}}
    restarted = make()
    restarted.asset_state_store = SimpleNamespace(
        _by_name={"a": DictStore(), "b": other}, _by_uri={}
    )
    assert statuses(restarted, [seen_ready()]) == [None]


def test_each_workload_has_its_own_key_in_the_store() -> None:
    assert make().state_key != StatefulSetReadyEventTrigger(name="web", namespace="shop").state_key
    assert make().state_key != make(PodReadyEventTrigger).state_key


# --------------------------------------------------------------------------- errors and arguments


@asynccontextmanager
async def no_session() -> AsyncIterator[None]:
    yield


def failing_hook(exc: Exception) -> Any:
    return SimpleNamespace(session=no_session, retry=SimpleNamespace(delay=lambda *_: 0.0))


@pytest.mark.parametrize(
    "exc",
    [
        KubernetesPermissionError(
            "403 forbidden: watch statefulsets",
            verb="watch",
            resource="statefulsets",
            namespace="default",
            status=403,
        ),
        UnservedKindError("kafka.strimzi.io/v1beta2", "Kafka", "404 from discovery"),
    ],
    ids=[
        "a 403 raises instead of firing",
        "a kind the cluster does not serve raises instead of firing",
    ],
)
def test_a_permanent_error_raises_and_fires_no_dag_run(
    exc: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    trigger = make()

    async def cycle(hook: Any, _cycle: Any) -> None:
        raise exc

    monkeypatch.setattr(trigger, "hook", lambda: failing_hook(exc))
    monkeypatch.setattr(trigger, "_cycle", cycle)
    with pytest.raises(AssetWatcherError, match="starts no DAG run") as raised:
        asyncio.run(anext(trigger.run()))
    assert "default/web" in str(raised.value)


def test_a_transient_error_keeps_waiting_then_fires(monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = make()
    answers: list[Exception | JsonDict] = [
        TransientKubernetesError(
            "503", verb="list", resource="pods", namespace="default", status=503
        ),
        {"status": "success"},
    ]

    async def cycle(hook: Any, _cycle: Any) -> JsonDict:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(trigger, "hook", lambda: failing_hook(RuntimeError()))
    monkeypatch.setattr(trigger, "_cycle", cycle)
    event = asyncio.run(anext(trigger.run()))
    assert event.payload == {"status": "success"} and answers == []


@pytest.mark.parametrize(
    "argument",
    [
        {"deadline": 1.0},
        {"fail_fast": True},
        {"not_found_grace_seconds": 30},
        {"first_verdict": {}},
    ],
    ids=[
        "a deadline is refused",
        "fail_fast is refused",
        "a not-found grace is refused",
        "a first verdict is refused",
    ],
)
def test_deferral_only_arguments_are_refused(argument: JsonDict) -> None:
    with pytest.raises(TypeError, match=next(iter(argument))):
        make(**argument)


def test_serialize_round_trips_without_deferral_arguments() -> None:
    trigger = make(on_failure=True, policy={"min_stable_seconds": 3})
    classpath, kwargs = trigger.serialize()
    assert not {"deadline", "fail_fast", "first_verdict", "not_found_grace_seconds"} & set(kwargs)
    rebuilt = import_class(classpath)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["on_failure"] is True


@pytest.mark.parametrize(
    "kind", list(KINDS), ids=[f"the {k} row names its event trigger" for k in KINDS]
)
def test_every_kind_row_names_an_event_trigger_of_its_own_kind(kind: str) -> None:
    cls = import_class(KINDS[kind].event_trigger)
    assert issubclass(cls, BaseEventTrigger)
    assert issubclass(cls, import_class(KINDS[kind].trigger))  # the same watch and judge loop
    assert cls.fires_once is False
    assert cls(name="web", namespace="default").kind == kind


def test_airflow_is_told_of_every_event_trigger_module() -> None:
    import airflow_sts_provider

    (entry,) = airflow_sts_provider.get_provider_info()["triggers"]
    modules = {path.rpartition(".")[0] for path in (row.event_trigger for row in KINDS.values())}
    assert modules <= set(entry["python-modules"])
