"""The sensor's own decisions, with the hook replaced by a stub that returns verdicts.

Narrow on purpose: argument checks at parse time, the verdict -> Airflow mapping,
the log lines and the error text. The real read path is covered end to end
against the test cluster in the other modules of this folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)

from airflow_sts_provider.exceptions import (
    KubernetesPermissionError,
    TransientKubernetesError,
)
from airflow_sts_provider.readiness import PodReport, ReadinessPolicy, State, Verdict
from airflow_sts_provider.reporting import not_found_verdict
from airflow_sts_provider.sensors.daemonset import DaemonSetRunningSensor
from airflow_sts_provider.sensors.resource import ResourceRunningSensor
from airflow_sts_provider.sensors.statefulset import (
    DeploymentRunningSensor,
    PodRunningSensor,
    StatefulSetRunningSensor,
)
from airflow_sts_provider.sensors.workloads import WorkloadsRunningSensor

NOW = datetime(2026, 11, 3, 12, 0, 0, tzinfo=UTC)


def pod(name: str, state: State, reason: str) -> PodReport:
    ready = NOW - timedelta(seconds=90) if state is State.READY else None
    return PodReport(name, state, f"{name}: {reason}", ready, 0, "web-7b8f", "10.1.0.7", "node-1")


READY = Verdict(
    "StatefulSet",
    "web",
    "shop",
    State.READY,
    "2 of 2 ready",
    2,
    2,
    "web-7b8f",
    (pod("web-0", State.READY, "ready"), pod("web-1", State.READY, "ready")),
)
WAITING = Verdict(
    "StatefulSet",
    "web",
    "shop",
    State.WAITING,
    "1 of 2 ready; web-1: stabilizing 23s of 60s",
    2,
    1,
    "web-7b8f",
    (pod("web-0", State.READY, "ready"), pod("web-1", State.WAITING, "stabilizing 23s of 60s")),
)
FAILED = Verdict(
    "StatefulSet",
    "web",
    "shop",
    State.FAILED,
    "1 of 2 ready; web-1: container app CrashLoopBackOff",
    2,
    1,
    "web-7b8f",
    (
        pod("web-0", State.READY, "ready"),
        pod(
            "web-1",
            State.FAILED,
            "container app CrashLoopBackOff (exit 1) [recent events: BackOff: Back-off (x4)]",
        ),
    ),
)


class StubHook:
    """Answers every read with the next item of ``answers`` (a Verdict or an exception)."""

    def __init__(self, *answers: Verdict | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[Any, ...]] = []

    def get_workload_readiness(
        self, kind: str, name: str, namespace: str | None, policy: ReadinessPolicy
    ) -> Verdict:
        self.calls.append((kind, name, namespace, policy))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    server = "https://cluster.example:6443"
    explained = 0

    def explain_absence(self, kind: Any, name: str, namespace: str | None) -> str:
        self.explained += 1
        return f"{kind.name.lower()} {namespace}/{name} not found: did you mean `web-1`?"

    def resolve_namespace(self, namespace: str | None) -> str:
        return namespace or "default"


def sensor_with(*answers: Verdict | Exception, **kwargs: Any) -> StatefulSetRunningSensor:
    sensor = StatefulSetRunningSensor(task_id="wait", name="web", namespace="shop", **kwargs)
    sensor.__dict__["hook"] = StubHook(*answers)  # the cached_property, filled in advance
    return sensor


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name must be the StatefulSet's name"),
        ({"name": "   "}, "name must be the StatefulSet's name"),
        ({"name": "Web_1"}, "'Web_1' is not a valid Kubernetes StatefulSet name"),
        ({"name": "web-"}, "'web-' is not a valid Kubernetes StatefulSet name"),
        ({"name": "a" * 254}, "is not a valid Kubernetes StatefulSet name"),
        ({"name": "web", "namespace": "Prod"}, "namespace 'Prod' is not a valid"),
        ({"name": "web", "namespace": "a.b"}, "namespace 'a.b' is not a valid"),
        ({"name": "web", "min_stable_seconds": -1}, "min_stable_seconds must be >= 0"),
        ({"name": "web", "min_stable_seconds": "soon"}, "min_stable_seconds must be a number"),
        ({"name": "web", "max_restarts": -2}, "max_restarts must be >= 0"),
        ({"name": "web", "max_restarts": 1.5}, "max_restarts must be a whole number"),
        ({"name": "web", "image_pull_grace_seconds": -5}, "image_pull_grace_seconds must be >= 0"),
        ({"name": "web", "kubernetes_conn_id": ""}, "kubernetes_conn_id must name a connection"),
        ({"name": "web", "fail_fast": "yes"}, "fail_fast must be True or False"),
        (
            {"name": "{{ params.name }}", "min_stable_seconds": -1},
            "min_stable_seconds must be >= 0",
        ),
        ({"name": "web", "min_stable_seconds": float("inf")}, "must be a finite number"),
        ({"name": "web", "deferrable": "no"}, "deferrable must be True or False"),
        (
            {"name": "web", "require_updated_on_delete": "False"},
            "require_updated_on_delete must be True or False",
        ),
        ({"name": "a" * 64}, "use at most 63"),
        (
            {"name": "web", "poke_interval": 600, "timeout": 60},
            "poke_interval (600s) is longer than timeout",
        ),
    ],
    ids=[
        "an empty name",
        "a blank name",
        "a name with capitals and underscore",
        "a name ending with a dash",
        "a name longer than 253 characters",
        "a namespace with capitals",
        "a namespace with a dot",
        "a negative stability window",
        "a stability window that is not a number",
        "a negative restart budget",
        "a fractional restart budget",
        "a negative grace",
        "an empty connection id",
        "a fail_fast that is not a bool",
        "a bad literal next to a templated name",
        "an endless stability window",
        "a deferrable given as a string",
        "a require_updated_on_delete given as a string",
        "a StatefulSet name longer than its pods' labels allow",
        "a poke interval longer than the timeout",
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="StatefulSetRunningSensor\\(task_id='wait'\\)") as info:
        StatefulSetRunningSensor(task_id="wait", **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "{{ params.statefulset }}"},
        {"name": "web", "namespace": "{{ params.namespace }}"},
        {"name": "web", "min_stable_seconds": "{{ params.window }}"},
        {"name": "web", "max_restarts": "{{ params.restarts }}"},
        {"name": "kafka.broker-0", "min_stable_seconds": "30", "max_restarts": "2"},
        {"name": "web", "min_stable_seconds": 0, "max_restarts": 0},
    ],
    ids=[
        "a templated name is checked after rendering",
        "a templated namespace is checked after rendering",
        "a templated window is checked after rendering",
        "a templated restart budget is checked after rendering",
        "numbers given as strings are accepted",
        "zero window and zero restarts are valid",
    ],
)
def test_valid_and_templated_arguments_parse(kwargs: dict[str, Any]) -> None:
    StatefulSetRunningSensor(task_id="wait", **kwargs)


def test_a_template_that_renders_to_a_bad_value_fails_the_task_for_good() -> None:
    sensor = StatefulSetRunningSensor(
        task_id="wait", name="web", min_stable_seconds="{{ params.window }}"
    )
    sensor.min_stable_seconds = "-3"  # what rendering produced
    with pytest.raises(AirflowFailException, match="min_stable_seconds must be >= 0"):
        sensor.poke({})


def test_rendered_arguments_become_the_policy() -> None:
    sensor = sensor_with(READY, min_stable_seconds="15", max_restarts="2")
    sensor.unschedulable_grace_seconds = 30
    sensor.poke({})
    _, _, _, policy = sensor.hook.calls[0]  # type: ignore[attr-defined]
    assert policy == ReadinessPolicy(
        min_stable_seconds=15, max_restarts=2, unschedulable_grace_seconds=30
    )


@pytest.mark.parametrize(
    ("kwargs", "mode"),
    [({}, "reschedule"), ({"mode": "poke"}, "poke")],
    ids=["reschedule mode by default", "an explicit mode is kept"],
)
def test_mode(kwargs: dict[str, Any], mode: str) -> None:
    assert StatefulSetRunningSensor(task_id="wait", name="web", **kwargs).mode == mode


@pytest.mark.parametrize(
    "cls", [StatefulSetRunningSensor, DeploymentRunningSensor, PodRunningSensor]
)
def test_every_sensor_templates_name_namespace_and_connection(cls: type[Any]) -> None:
    assert {"name", "namespace", "kubernetes_conn_id"} <= set(cls.template_fields)


def test_the_hook_is_built_lazily_with_the_sensors_connection() -> None:
    sensor = StatefulSetRunningSensor(task_id="wait", name="web", kubernetes_conn_id="k8s_prod")
    assert "hook" not in sensor.__dict__
    assert sensor.hook.conn_id == "k8s_prod"


# --------------------------------------------------------------------------- poke


def test_ready_is_done_and_the_verdict_is_the_xcom() -> None:
    result = sensor_with(READY).poke({})
    assert result.is_done
    assert result.xcom_value == READY.to_dict()


def test_waiting_is_not_done() -> None:
    assert not sensor_with(WAITING).poke({}).is_done


def test_failed_with_fail_fast_raises_naming_each_failing_pod_with_reason_and_events() -> None:
    with pytest.raises(AirflowFailException) as info:
        sensor_with(FAILED).poke({})
    text = str(info.value)
    assert "StatefulSet shop/web is not coming up (1 of 2 ready" in text
    assert "web-1: container app CrashLoopBackOff (exit 1)" in text
    assert "BackOff: Back-off (x4)" in text
    assert "web-0" not in text.split("Inspect", maxsplit=1)[0]


def test_failed_without_fail_fast_keeps_waiting() -> None:
    assert not sensor_with(FAILED, fail_fast=False).poke({}).is_done


def test_a_transient_api_error_is_not_done_this_poke(capfd: pytest.CaptureFixture[str]) -> None:
    error = TransientKubernetesError(
        "get statefulsets shop/web: HTTP 503", verb="get", resource="statefulsets", namespace="shop"
    )
    assert not sensor_with(error).poke({}).is_done
    assert "not done this poke: get statefulsets shop/web: HTTP 503" in capfd.readouterr().out


def test_a_permission_error_fails_the_task_for_good() -> None:
    error = KubernetesPermissionError(
        "Kubernetes API forbidden (403): cannot list pods in namespace shop",
        verb="list",
        resource="pods",
        namespace="shop",
    )
    with pytest.raises(AirflowFailException, match="cannot list pods in namespace shop"):
        sensor_with(error).poke({})


def test_each_poke_logs_one_summary_and_one_line_per_pod_not_ready(
    capfd: pytest.CaptureFixture[str],
) -> None:
    sensor_with(WAITING).poke({})
    lines = [line for line in capfd.readouterr().out.splitlines() if "StatefulSetRunning" in line]
    asking = "Asking cluster https://cluster.example:6443 via kubernetes_default for StatefulSet"
    assert asking + " shop/web" in lines.pop(0)  # the try's first poke says whom it asks
    assert len(lines) == 2
    assert (
        "StatefulSet shop/web: WAITING, 1/2 ready, revision web-7b8f: "
        "1 of 2 ready; web-1: stabilizing 23s of 60s" in lines[0]
    )
    assert "[WAITING] web-1: stabilizing 23s of 60s" in lines[1]


# --------------------------------------------------------------------------- deferrable


def event_of(status: str, message: str = "m") -> dict[str, Any]:
    return {"status": status, "verdict": READY.to_dict(), "message": message}


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        (event_of("success"), lambda result: result == READY.to_dict()),
        (event_of("failed", "web-1: CrashLoopBackOff"), AirflowFailException),
        (event_of("error", "forbidden (403)"), AirflowFailException),
        (event_of("timeout", "Sensor has timed out"), AirflowSensorTimeout),
    ],
    ids=[
        "success returns the verdict as the XCom",
        "failed fails the task",
        "an API error fails the task",
        "timeout is the sensor's timeout",
    ],
)
def test_execute_complete_maps_the_trigger_event(
    event: dict[str, Any], outcome: type[Exception] | Callable[[Any], bool]
) -> None:
    sensor = StatefulSetRunningSensor(task_id="wait", name="web", deferrable=True)
    if isinstance(outcome, type):
        with pytest.raises(outcome, match=re.escape(event["message"])):
            sensor.execute_complete({}, event)
    else:
        assert outcome(sensor.execute_complete({}, event))


def test_deferrable_execute_with_soft_fail_skips_a_broken_rollout() -> None:
    sensor = sensor_with(FAILED, deferrable=True, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        sensor.execute({})


def test_deferrable_execute_returns_at_once_when_already_ready() -> None:
    assert sensor_with(READY, deferrable=True).execute({}) == READY.to_dict()


# --------------------------------------------------------------------------- saying why at the end

NOT_FOUND = not_found_verdict("StatefulSet", "web", "shop")


def test_the_timeout_carries_the_last_verdicts_reason() -> None:
    sensor = sensor_with(WAITING, mode="poke", poke_interval=0, timeout=0)
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.poke({})
    assert str(info.value).startswith("Sensor has timed out: StatefulSet shop/web still WAITING: ")
    assert WAITING.reason in str(info.value)


def test_a_soft_fail_skip_says_why() -> None:
    sensor = sensor_with(FAILED, soft_fail=True)
    with pytest.raises(AirflowSkipException) as info:
        sensor.poke({})
    assert "Skipping due to soft_fail is set to True: StatefulSet shop/web is not coming up" in (
        str(info.value)
    )


def test_a_typo_is_explained_on_the_first_poke_with_when_it_will_fail(
    capfd: pytest.CaptureFixture[str],
) -> None:
    sensor = sensor_with(NOT_FOUND, NOT_FOUND, mode="poke", not_found_grace_seconds=300)
    assert not sensor.poke({}).is_done
    first = capfd.readouterr().out
    assert "statefulset shop/web not found: did you mean `web-1`?; failing in 300s" in first
    assert not sensor.poke({}).is_done
    later = capfd.readouterr().out
    assert "did you mean" not in later and "Asking cluster" not in later  # once a try
    assert sensor.__dict__["hook"].explained == 1


def test_a_gate_times_out_in_an_hour_unless_told_otherwise() -> None:
    assert sensor_with(READY).timeout == 3600
    assert sensor_with(READY, timeout=60).timeout == 60


def test_a_name_that_never_appears_fails_after_its_grace_suggesting_the_closest_names() -> None:
    sensor = sensor_with(NOT_FOUND, NOT_FOUND, mode="poke", not_found_grace_seconds=3600)
    assert not sensor.poke({}).is_done  # within its grace: "not there yet"
    sensor.not_found_grace_seconds = 0
    with pytest.raises(AirflowFailException) as info:
        sensor.poke({})
    text = str(info.value)
    assert "statefulset shop/web not found: did you mean `web-1`?" in text
    assert "not_found_grace_seconds=0" in text


# --------------------------------------------------------------------------- the other kinds


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (
            "resource",
            {"api_version": "", "kind": "Kafka", "name": "kafka"},
            "api_version must be a non-empty string",
        ),
        (
            "resource",
            {
                "api_version": "kafka.strimzi.io/v1beta2",
                "kind": "Kafka",
                "name": "kafka",
                "failure_reasons": (3,),
            },
            "failure_reasons must be strings",
        ),
        ("workloads", {"label_selector": ""}, "label_selector must be a label selector"),
        ("workloads", {"label_selector": "app=x", "kinds": ("Pod",)}, "kinds must name workload"),
        ("daemonset", {"name": "a" * 64}, "use at most 63"),
    ],
    ids=[
        "a resource sensor without an apiVersion",
        "failure reasons that are not strings",
        "a release gate without a selector",
        "a release gate over pods",
        "a DaemonSet name longer than its pods' labels allow",
    ],
)
def test_the_other_sensors_check_their_arguments_when_parsed(
    cls: str, kwargs: dict[str, Any], message: str
) -> None:
    sensor = {
        "resource": ResourceRunningSensor,
        "workloads": WorkloadsRunningSensor,
        "daemonset": DaemonSetRunningSensor,
    }[cls]
    with pytest.raises(ValueError, match=message):
        sensor(task_id="wait", **kwargs)


def test_the_resource_and_release_sensors_template_their_selectors() -> None:
    assert "pod_selector" in ResourceRunningSensor.template_fields
    assert "label_selector" in WorkloadsRunningSensor.template_fields
    gate = WorkloadsRunningSensor(task_id="gate", label_selector="app.kubernetes.io/instance=x")
    assert gate.mode == "reschedule"
    assert gate.kinds == ("StatefulSet", "Deployment", "DaemonSet")


class ReleaseStub(StubHook):
    """A release that matches nothing, every poke."""

    def get_workloads_readiness(
        self, selector: str, kinds: Any, namespace: Any, policy: Any
    ) -> Any:
        from airflow_sts_provider.workloads import combine

        return combine(selector, namespace or "default", [])

    def explain_no_match(self, selector: str, kinds: Any, namespace: Any) -> str:
        self.explained += 1
        return f"no StatefulSet matches {selector}: did you mean `app=shop`?"


def test_a_release_selector_that_matches_nothing_says_so_at_once_and_fails_after_its_grace(
    capfd: pytest.CaptureFixture[str],
) -> None:
    gate = WorkloadsRunningSensor(
        task_id="gate", label_selector="app=shpo", mode="poke", not_found_grace_seconds=300
    )
    gate.__dict__["hook"] = ReleaseStub()
    assert not gate.poke({}).is_done
    assert "did you mean `app=shop`?; failing in 300s" in capfd.readouterr().out
    gate.not_found_grace_seconds = 0
    with pytest.raises(AirflowFailException, match=r"did you mean `app=shop`\?, \d+s after"):
        gate.poke({})


def test_a_gate_retries_only_what_airflow_itself_fails() -> None:
    """Retries by default, quickly: a FAILED verdict and a timeout never use them."""
    sensor = sensor_with(FAILED)
    assert (sensor.retries, sensor.retry_delay) == (2, timedelta(seconds=15))
    with pytest.raises(AirflowFailException):  # Airflow does not retry this one
        sensor.poke({})
    assert sensor_with(READY, retries=0).retries == 0


def test_a_rescheduled_poke_asks_airflow_for_its_first_reschedule_once() -> None:
    asked: list[Any] = []

    class Ti:
        def get_first_reschedule_date(self, context: Any) -> Any:
            asked.append(context)
            return None

    sensor = sensor_with(NOT_FOUND)  # reschedule mode: the announce and the grace both ask
    assert not sensor.poke({"ti": Ti()}).is_done  # type: ignore[typeddict-item]
    assert len(asked) == 1
