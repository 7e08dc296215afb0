"""G1-G8 as a table: a resource that reports conditions, the pods given, the rule's options."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.readiness import ReadinessPolicy, State, evaluate_resource

from .builders import NOW, broker, condition, resource
from .table import Scenario, case, check

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED
Json = dict[str, Any]
Given = tuple[Json, list[Json], dict[str, Any]]
CRASH: dict[str, Any] = {"waiting": "CrashLoopBackOff", "restarts": 4, "last_exit": 1}
READY_COND = condition("Ready", reason="Ready")
NOT_READY = condition(
    "NotReady",
    reason="TimeoutException",
    message="Exceeded timeout of 300000ms while waiting for StatefulSet events-zookeeper",
)


def cr(*conditions: Any, **fields: Any) -> Json:
    """A Kafka with exactly ``conditions`` (none given: Ready=True for 10 minutes)."""
    return resource(conditions=list(conditions) if conditions else None, **fields)


CASES = [
    case(
        "Ready=True for ten minutes is ready",
        (cr(), [], {}),
        READY,
        "Kafka events: Ready=True for 600s",
        rules=(),
        ready=0,
    ),
    case(
        "Ready=True with healthy broker pods is ready and counts them",
        (cr(), [broker(0), broker(1), broker(2)], {}),
        READY,
        "3 of 3 ready",
        rules=(),
        ready=3,
    ),
    case(
        "another readiness condition can be asked for",
        (
            cr(condition("Available", reason="MinimumReplicasAvailable")),
            [],
            {"condition": "Available"},
        ),
        READY,
        rules=(),
    ),
    # G1 / G2
    case(
        "a resource being deleted fails",
        (cr(deleting=True), [], {}),
        FAILED,
        "Kafka events is being deleted",
        rules=("G1",),
    ),
    case(
        "a stale status.observedGeneration waits",
        (cr(generation=2, observed=1), [], {}),
        WAITING,
        "not yet reconciled (status.observedGeneration 1 < generation 2)",
        rules=("G2",),
    ),
    case(
        "a stale observedGeneration on the Ready condition itself waits",
        (cr(condition("Ready", observed=1), generation=2, observed=None), [], {}),
        WAITING,
        "status.conditions[0].observedGeneration 1 < generation 2",
        rules=("G2",),
    ),
    case(
        "an operator that writes no observedGeneration is judged by its conditions",
        (cr(observed=None), [], {}),
        READY,
        rules=(),
    ),
    case(
        "a stale observedGeneration caps a crash-looping broker at waiting",
        (cr(generation=2, observed=1), [broker(0), broker(1, **CRASH)], {}),
        WAITING,
        rules=("G2", "G8", "P3"),
        ready=1,
    ),
    # G3 / G4
    case(
        "Stalled=True fails with the operator's reason and message",
        (
            cr(
                READY_COND,
                condition("Stalled", reason="ReconcileFailed", message="listener port in use"),
            ),
            [],
            {},
        ),
        FAILED,
        "Stalled=True, ReconcileFailed: listener port in use",
        rules=("G3",),
    ),
    case(
        "Stalled=True on a generation not yet reconciled only waits",
        (cr(condition("Stalled", reason="ReconcileFailed"), generation=2), [], {}),
        WAITING,
        rules=("G2", "G3", "G5"),
    ),
    case(
        "Stalled=False is no failure",
        (cr(READY_COND, condition("Stalled", "False")), [], {}),
        READY,
        rules=(),
    ),
    case(
        "Reconciling=True waits with its reason",
        (cr(READY_COND, condition("Reconciling", reason="RollingUpdate")), [], {}),
        WAITING,
        "Reconciling=True, RollingUpdate",
        rules=("G4",),
    ),
    # G5
    case(
        "no conditions at all is never ready (kstatus would say Current)",
        (cr(no_status=True), [], {}),
        WAITING,
        "reports no Ready condition yet",
        rules=("G5",),
    ),
    case(
        "an empty conditions list waits",
        (resource(conditions=[]), [], {}),
        WAITING,
        rules=("G5",),
    ),
    case(
        "older Strimzi's NotReady=True is quoted while no Ready condition exists",
        (cr(NOT_READY), [], {}),
        WAITING,
        "reports no Ready condition yet (NotReady=True, TimeoutException: Exceeded timeout",
        rules=("G5",),
    ),
    case(
        "conditions that are not a list wait naming the field",
        (resource(conditions={"type": "Ready", "status": "True"}), [], {}),
        WAITING,
        "status.conditions is not a list",
        rules=("G5",),
    ),
    case(
        "a condition that is not an object waits naming it, even beside Ready=True",
        (resource(conditions=[READY_COND, "Ready"]), [], {}),
        WAITING,
        "status.conditions[1] is not an object",
        rules=("G5",),
    ),
    case(
        "a condition without a type waits naming the field",
        (resource(conditions=[{"status": "True"}]), [], {}),
        WAITING,
        "status.conditions[0].type is missing",
        rules=("G5",),
    ),
    # G6
    case(
        "Ready=False waits with the operator's reason and message",
        (
            cr(
                condition(
                    "Ready", "False", reason="ClusterIsNotReady", message="Cluster Is Not Ready"
                )
            ),
            [],
            {},
        ),
        WAITING,
        "Ready=False, ClusterIsNotReady: Cluster Is Not Ready",
        rules=("G6",),
    ),
    case(
        "Ready=False with a reason named in failure_reasons fails",
        (
            cr(condition("Ready", "False", reason="ClusterIsNotReady")),
            [],
            {"failure_reasons": ("ClusterIsNotReady",)},
        ),
        FAILED,
        rules=("G6",),
    ),
    case(
        "Ready=Unknown waits even with its reason in failure_reasons",
        (
            cr(condition("Ready", "Unknown", reason="ClusterIsNotReady")),
            [],
            {"failure_reasons": ("ClusterIsNotReady",)},
        ),
        WAITING,
        rules=("G6",),
    ),
    case(
        "a Ready condition without a status waits naming the field",
        (resource(conditions=[{"type": "Ready", "reason": "Ready"}]), [], {}),
        WAITING,
        "status.conditions[0].status is missing",
        rules=("G6",),
    ),
    # G7
    case(
        "Ready=True for twelve seconds is stabilizing",
        (cr(condition("Ready", ago=12)), [], {}),
        WAITING,
        "stabilizing 12s of 60s",
        rules=("G7",),
    ),
    case(
        "a shorter stability window accepts it",
        (cr(condition("Ready", ago=12)), [], {}),
        READY,
        rules=(),
        policy=ReadinessPolicy(min_stable_seconds=10),
    ),
    case(
        "Ready=True without lastTransitionTime cannot be timed and waits, as a pod does (P7)",
        (cr(condition("Ready", ago=None)), [], {}),
        WAITING,
        "status.conditions[0].lastTransitionTime is missing: the stability window cannot be timed",
        rules=("G7",),
    ),
    case(
        "an operator known to write no transition time is stable at once, and the verdict says so",
        (cr(condition("Ready", ago=None)), [], {"untimed_is_stable": True}),
        READY,
        "Kafka events: Ready=True, stable: its operator writes no transition time",
        rules=(),
        shows=("G7",),
    ),
    case(
        "a transition time is still timed for a kind known to write none",
        (cr(condition("Ready", ago=12)), [], {"untimed_is_stable": True}),
        WAITING,
        "stabilizing 12s of 60s",
        rules=("G7",),
    ),
    case(
        "an unreadable transition time waits even for a kind known to write none",
        (
            resource(
                conditions=[{"type": "Ready", "status": "True", "lastTransitionTime": "soon"}]
            ),
            [],
            {"untimed_is_stable": True},
        ),
        WAITING,
        "lastTransitionTime unreadable",
        rules=("G7",),
    ),
    case(
        "with no stability window asked, an untimed Ready=True is ready (as a pod's P7)",
        (cr(condition("Ready", ago=None)), [], {}),
        READY,
        rules=(),
        policy=ReadinessPolicy(min_stable_seconds=0),
    ),
    case(
        "an unreadable lastTransitionTime waits naming the field",
        (
            resource(
                conditions=[{"type": "Ready", "status": "True", "lastTransitionTime": "soon"}]
            ),
            [],
            {},
        ),
        WAITING,
        "status.conditions[0].lastTransitionTime unreadable",
        rules=("G7",),
    ),
    # duplicate conditions of one type: any one that is not True holds the resource back
    case(
        "a later Ready=False beside a Ready=True is not ready",
        (cr(READY_COND, condition("Ready", "False", reason="BrokerDown")), [], {}),
        WAITING,
        "status.conditions[1] Ready=False, BrokerDown",
        rules=("G6",),
    ),
    case(
        "a later Ready=False with a failure reason fails beside a Ready=True",
        (
            cr(READY_COND, condition("Ready", "False", reason="BrokerDown")),
            [],
            {"failure_reasons": ("BrokerDown",)},
        ),
        FAILED,
        rules=("G6",),
    ),
    case(
        "a later Ready=Unknown beside a Ready=True waits",
        (cr(READY_COND, condition("Ready", "Unknown")), [], {}),
        WAITING,
        "Ready=Unknown",
        rules=("G6",),
    ),
    case(
        "two Ready=True are timed by the later transition",
        (cr(READY_COND, condition("Ready", ago=12)), [], {}),
        WAITING,
        "stabilizing 12s of 60s",
        rules=("G7",),
    ),
    case(
        "a second Ready=True without a transition time cannot be timed",
        (cr(READY_COND, condition("Ready", ago=None)), [], {}),
        WAITING,
        "status.conditions[1].lastTransitionTime is missing",
        rules=("G7",),
    ),
    case(
        "a second Ready condition's stale observedGeneration waits",
        (cr(READY_COND, condition("Ready", observed=1), generation=2, observed=2), [], {}),
        WAITING,
        "status.conditions[1].observedGeneration 1 < generation 2",
        rules=("G2",),
    ),
    case(
        "a later Stalled=True behind a Stalled=False fails",
        (
            cr(
                READY_COND,
                condition("Stalled", "False"),
                condition("Stalled", reason="ReconcileFailed"),
            ),
            [],
            {},
        ),
        FAILED,
        "Stalled=True, ReconcileFailed",
        rules=("G3",),
    ),
    case(
        "a later Reconciling=True behind a Reconciling=False waits",
        (
            cr(
                READY_COND,
                condition("Reconciling", "False"),
                condition("Reconciling", reason="RollingUpdate"),
            ),
            [],
            {},
        ),
        WAITING,
        "Reconciling=True, RollingUpdate",
        rules=("G4",),
    ),
    # G8
    case(
        "a crash-looping broker fails the gate while the operator still says Ready",
        (cr(), [broker(0), broker(1, **CRASH), broker(2)], {}),
        FAILED,
        "events-kafka-1 container main: CrashLoopBackOff",
        rules=("G8", "P3"),
        ready=2,
    ),
    case(
        "a broker pod still starting waits",
        (cr(), [broker(0), broker(1, ready_for=12)], {}),
        WAITING,
        "events-kafka-1: stabilizing 12s of 60s",
        rules=("G8", "P7"),
        ready=1,
    ),
    case(
        "a terminating broker pod waits",
        (cr(), [broker(0), broker(1, deleting=True)], {}),
        WAITING,
        rules=("G8", "P1"),
        ready=1,
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_resource_rules(scenario: Scenario[Given]) -> None:
    obj, pods, options = scenario.given
    verdict = evaluate_resource(obj, pods, now=NOW, policy=scenario.policy, **options)
    check(verdict, scenario)
    assert verdict.kind == obj["kind"]
    assert verdict.name == "events"
    assert verdict.desired == len(pods)


EVENTS = [
    case(
        "events for a resource without pods leave its reason without a pod count",
        (cr(condition("Ready", "False", reason="NotReady")), [], {"events-kafka-0": ["BackOff"]}),
        WAITING,
        "Kafka events Ready=False, NotReady",
        rules=("G6",),
        absent=("0 of 0",),
    ),
    case(
        "no events leave a ready resource's window note in place",
        (cr(), [broker(0), broker(1)], {}),
        READY,
        "2 of 2 ready; Ready=True for 600s",
        rules=(),
    ),
    case(
        "events for a broker not ready keep the count and add the broker's words",
        (cr(), [broker(0), broker(1, ready=False)], {"events-kafka-1": ["Readiness probe failed"]}),
        WAITING,
        "1 of 2 ready; events-kafka-1 container main: running, not ready "
        "[recent events: Readiness probe failed]",
        rules=("G8", "P6"),
    ),
]


@pytest.mark.parametrize("scenario", EVENTS)
def test_pod_events_rebuild_a_reason_only_where_a_pod_changed(
    scenario: Scenario[tuple[Json, list[Json], dict[str, list[str]]]],
) -> None:
    obj, pods, events = scenario.given
    verdict = evaluate_resource(obj, pods, now=NOW)
    check(verdict.with_pod_events(events), scenario)


def test_pods_are_reported_in_name_order_whatever_order_they_come_in() -> None:
    verdict = evaluate_resource(cr(), [broker(2), broker(0), broker(1)], now=NOW)
    assert [p.name for p in verdict.pods] == ["events-kafka-0", "events-kafka-1", "events-kafka-2"]


def test_a_single_failure_reason_given_as_a_string_is_one_reason() -> None:
    obj = cr(condition("Ready", "False", reason="Failed"))
    assert evaluate_resource(obj, now=NOW, failure_reasons="Failed").state is FAILED
    assert evaluate_resource(obj, now=NOW, failure_reasons="F").state is WAITING


def test_the_verdict_is_json_safe_and_names_the_generation_as_revision() -> None:
    data = evaluate_resource(cr(generation=3, observed=3), now=NOW).to_dict()
    assert data["kind"] == "Kafka"
    assert data["revision"] == "3"
    assert data["rules"] == []
