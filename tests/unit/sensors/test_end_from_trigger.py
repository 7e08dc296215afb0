"""``end_from_trigger``: a READY ends a deferred task in the triggerer only where a user
sees nothing change; everything else resumes it on a worker as before."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Asset
from airflow.triggers.base import TaskSuccessEvent

from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor
from airflow_sts_provider.sensors.workloads import WorkloadsRunningSensor
from airflow_sts_provider.triggers import base as trigger_base
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger
from tests.unit.sensors.stubs import ConnectionStub


class OwnCompletion(StatefulSetRunningSensor):
    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        return "mine"


class OwnPostExecute(StatefulSetRunningSensor):
    def post_execute(self, context: Any, result: Any = None) -> None:
        pass


@pytest.mark.parametrize(
    ("cls", "kwargs", "ends"),
    [
        (StatefulSetRunningSensor, {}, True),
        (WorkloadsRunningSensor, {"label_selector": "app=web"}, True),
        (StatefulSetRunningSensor, {"end_from_trigger": False}, False),
        (StatefulSetRunningSensor, {"outlets": [Asset("s3://bucket/ready")]}, False),
        (StatefulSetRunningSensor, {"do_xcom_push": False}, False),
        (StatefulSetRunningSensor, {"multiple_outputs": True}, False),
        (StatefulSetRunningSensor, {"post_execute": lambda context, result: None}, False),
        (OwnCompletion, {}, False),
        (OwnPostExecute, {}, False),
    ],
    ids=[
        "a plain deferred sensor ends in the triggerer",
        "so does a release gate",
        "end_from_trigger=False always resumes on a worker",
        "outlets resume: only a worker emits their asset events",
        "do_xcom_push=False resumes: the triggerer would push the verdict",
        "multiple_outputs resumes: a worker pushes one XCom per key",
        "a post_execute hook resumes: only a worker runs it",
        "a subclass's own execute_complete resumes: it must run",
        "a subclass's own post_execute resumes likewise",
    ],
)
def test_the_trigger_ends_the_task_only_where_nothing_a_user_sees_changes(
    cls: type[StatefulSetRunningSensor], kwargs: dict[str, Any], ends: bool
) -> None:
    if "label_selector" not in kwargs:
        kwargs["name"] = "web"
    sensor = cls(task_id="wait", namespace="shop", deferrable=True, **kwargs)
    sensor.__dict__["hook"] = ConnectionStub()  # the cached_property, filled in advance
    trigger = sensor._trigger(None)
    assert trigger.end_from_trigger is ends
    assert ("end_from_trigger" in trigger.serialize()[1]) is ends


def test_a_sensor_whose_output_is_mapped_over_resumes_on_a_worker() -> None:
    with DAG("gate", schedule=None):
        sensor = StatefulSetRunningSensor(task_id="wait", name="web", deferrable=True)
        EmptyOperator.partial(task_id="each").expand(doc_md=sensor.output)
    sensor.__dict__["hook"] = ConnectionStub()
    assert sensor._trigger(None).end_from_trigger is False


def test_end_from_trigger_given_as_a_string_is_an_import_error() -> None:
    with pytest.raises(ValueError, match="end_from_trigger must be True or False"):
        StatefulSetRunningSensor(task_id="wait", name="web", end_from_trigger="no")  # type: ignore[arg-type]


VERDICT = {"kind": "StatefulSet", "state": "ready", "reason": "3/3 pods ready"}
TI = SimpleNamespace(dag_id="gate", task_id="wait", run_id="manual_1", map_index=-1)


@pytest.mark.parametrize(
    ("ends", "in_triggerer", "status", "handed_over", "task_ends"),
    [
        (True, True, "success", True, True),
        (True, True, "failed", True, False),
        (True, True, "timeout", True, False),
        (True, True, "error", True, False),
        (True, False, "success", True, False),
        (False, True, "success", True, False),
        (True, True, "success", False, False),
    ],
    ids=[
        "READY in a triggerer ends the task, its verdict pushed first",
        "FAILED resumes on a worker: AirflowFailException is never retried",
        "a timeout resumes likewise",
        "an API error resumes likewise",
        "dag.test() runs the trigger without a task instance: it resumes with the verdict",
        "a trigger deferred without it resumes as before",
        "a verdict that cannot be pushed resumes: the worker pushes it",
    ],
)
def test_the_event_a_trigger_fires(  # noqa: PLR0917 - one argument per column
    monkeypatch: pytest.MonkeyPatch,
    ends: bool,
    in_triggerer: bool,
    status: str,
    handed_over: bool,
    task_ends: bool,
) -> None:
    pushed: list[tuple[Any, Any]] = []

    async def push(ti: Any, verdict: Any) -> None:
        if not handed_over:
            raise ConnectionError("supervisor gone")
        pushed.append((ti, verdict))

    monkeypatch.setattr(trigger_base, "_push_return_value", push)
    trigger = StatefulSetRunningTrigger(name="web", namespace="shop", end_from_trigger=ends)
    if in_triggerer:
        trigger.task_instance = TI  # type: ignore[assignment]  # as the triggerer sets it
    payload = {"status": status, "verdict": VERDICT, "message": "ready"}
    event = asyncio.run(trigger._event_for(payload))
    if task_ends:
        assert isinstance(event, TaskSuccessEvent)
        assert event.xcoms is None  # Airflow would store them encoded once more
        assert pushed == [(TI, VERDICT)]
    else:
        assert not isinstance(event, TaskSuccessEvent)
        assert event.payload == payload


def test_the_first_trigger_that_may_end_a_task_readies_the_triggerer_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[Any] = []

    async def read(ti: Any) -> None:
        reads.append(ti)

    monkeypatch.setattr(trigger_base, "_read_return_value", read)
    monkeypatch.setattr(trigger_base, "_HANDOVER_READY", [])

    async def triggers_start() -> None:
        for ends, ti in [(False, TI), (True, None), (True, TI), (True, TI)]:
            trigger = StatefulSetRunningTrigger(name="web", namespace="shop", end_from_trigger=ends)
            if ti is not None:
                trigger.task_instance = ti  # type: ignore[assignment]
            trigger._prepare_handover()
        await asyncio.gather(*trigger_base._HANDOVER_READY)

    asyncio.run(triggers_start())
    assert reads == [TI]  # not without end_from_trigger, not outside a triggerer, once
