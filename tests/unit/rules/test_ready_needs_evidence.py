"""READY needs evidence: every container the spec names seen running and ready, and timed.

Each line was judged READY before issue 10 (section 3): a container of the spec
with no status of its name, a pod with no ``spec.containers``, a stability window
timed by some stamps only, counts given as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest

from airflow_sts_provider.readiness import (
    ReadinessPolicy,
    State,
    evaluate_pod,
    evaluate_statefulset,
)

from .builders import NOW, pod, sts, sts_pods
from .table import Scenario, case, check

Json = dict[str, Any]
WAITING = State.WAITING


def changed(obj: Json, change: Callable[[Json], Any]) -> Json:
    copy = deepcopy(obj)
    change(copy)
    return copy


def _app(obj: Json) -> Json:
    status: Json = obj["status"]["containerStatuses"][0]
    return status


def _ready_condition(obj: Json) -> Json:
    found: Json = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    return found


CASES = [
    case(
        "a container of the spec with no status of its name is not seen running",
        changed(pod(1), lambda p: _app(p).update(name="other")),
        WAITING,
        "web-1 container main: no status yet",
        rules=("P6",),
    ),
    case(
        "an init container of the spec with no status of its name has not been seen done",
        changed(
            pod(1, init=("migrate",)),
            lambda p: p["status"]["initContainerStatuses"][0].update(name="other"),
        ),
        WAITING,
        "web-1 init container migrate: no status yet",
        rules=("P6",),
    ),
    case(
        "a pod without spec.containers has no container to see running",
        changed(pod(1), lambda p: p["spec"].pop("containers")),
        WAITING,
        "spec.containers names no container",
        rules=("P6",),
    ),
    case(
        "a pod with an empty spec.containers has no container to see running",
        changed(pod(1), lambda p: p["spec"].update(containers=[])),
        WAITING,
        "spec.containers names no container",
        rules=("P6",),
    ),
    case(
        "Ready without a lastTransitionTime cannot be timed",
        changed(pod(1), lambda p: _ready_condition(p).pop("lastTransitionTime")),
        WAITING,
        "condition Ready lastTransitionTime missing",
        "cannot be timed",
        rules=("P7",),
    ),
    case(
        "Ready with a lastTransitionTime that is not RFC 3339 cannot be timed",
        changed(pod(1), lambda p: _ready_condition(p).update(lastTransitionTime="yesterday")),
        WAITING,
        "lastTransitionTime not RFC 3339: 'yesterday'",
        rules=("P7",),
    ),
    case(
        "a running container without startedAt cannot be timed",
        changed(pod(1), lambda p: _app(p)["state"]["running"].pop("startedAt")),
        WAITING,
        "container main running.startedAt missing",
        rules=("P7",),
    ),
    case(
        "a startedAt of the wrong type cannot be timed",
        changed(pod(1), lambda p: _app(p)["state"]["running"].update(startedAt=1700000000)),
        WAITING,
        "running.startedAt not RFC 3339: 1700000000",
        rules=("P7",),
    ),
    case(
        "restartCount as a string is a wrong type, not a count",
        changed(pod(1), lambda p: _app(p).update(restartCount="3")),
        WAITING,
        "restartCount is not an integer (string)",
        rules=("P4",),
    ),
    case(
        "a window of 0 asks for no timing: a pod without stamps is ready",
        changed(pod(1), lambda p: _app(p)["state"]["running"].pop("startedAt")),
        State.READY,
        rules=(),
        policy=ReadinessPolicy(min_stable_seconds=0),
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_ready_needs_evidence(scenario: Scenario[Json]) -> None:
    check(evaluate_pod(scenario.given, now=NOW, policy=scenario.policy), scenario)


def test_a_statefulset_whose_generation_is_a_string_is_not_ready() -> None:
    obj = sts(replicas=2)
    obj["metadata"]["generation"] = "2"
    verdict = evaluate_statefulset(obj, sts_pods(2), now=NOW)
    assert verdict.state is WAITING
    assert "metadata.generation is not an integer" in verdict.reason
    assert verdict.rules == ("S2",)


def test_a_statefulset_pod_missing_a_container_status_is_not_ready() -> None:
    pods = sts_pods(2)
    pods[1]["status"]["containerStatuses"][0]["name"] = "other"
    verdict = evaluate_statefulset(sts(replicas=2), pods, now=NOW)
    assert verdict.state is WAITING
    assert verdict.rules == ("S10", "P6")
    assert "web-1 container main: no status yet" in verdict.reason
