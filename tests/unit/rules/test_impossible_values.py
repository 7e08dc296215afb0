"""Impossible numbers are unreadable, never arithmetic (issue 15, section 3, item 11).

The API never sends a count below 0 (``restartCount``, ``spec.replicas``, every
``status`` count, ``observedGeneration``, a ControllerRevision's ``revision``) nor a
``metadata.generation`` below 1. A value out of that range is read like a field of
the wrong type (:mod:`readiness.shapes`): WAITING, the field and its value named,
under the rule that reads it. It is never added, subtracted or clamped: a negative
``restartCount`` must not cancel another container's OOM kill, a negative
``desiredNumberScheduled`` must not count as no eligible node.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest

from airflow_sts_provider.readiness import (
    State,
    Verdict,
    evaluate_daemonset,
    evaluate_deployment,
    evaluate_pod,
    evaluate_resource,
    evaluate_statefulset,
)

from .builders import (
    DS_NEW_HASH,
    NEW_HASH,
    NOW,
    REVISIONS,
    controller_revision,
    daemonset,
    deployment,
    ds_pods,
    pod,
    replicaset,
    resource,
    rs_pod,
    sts,
    sts_pods,
)
from .table import Scenario, case, check

WAITING = State.WAITING
Json = dict[str, Any]
Judge = Callable[[], Verdict]


def _with(obj: Json, path: str, value: Any) -> Json:
    """A copy of ``obj`` with the dotted ``path`` set (``status.containerStatuses.1.x``)."""
    copy = deepcopy(obj)
    *keys, last = path.split(".")
    cur: Any = copy
    for key in keys:
        cur = cur[int(key)] if isinstance(cur, list) else cur[key]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return copy


def _without(obj: Json, path: str) -> Json:
    copy = deepcopy(obj)
    *keys, last = path.split(".")
    cur: Any = copy
    for key in keys:
        cur = cur[key]
    del cur[last]
    return copy


OOM_KILLED = pod(
    1,
    containers=("main", "metrics"),
    restarts=1,
    last_exit=137,
    last_reason="OOMKilled",
    last_finished_ago=40,
    started_ago=35,
)
"""``main`` was OOM-killed 40 s ago, up again for 35 s: P4 fails the pod (not recovered)."""

CANCELLED = _with(OOM_KILLED, "status.containerStatuses.1.restartCount", -1)


def _sts(obj: Json, pods: list[Json] | None = None) -> Judge:
    return lambda: evaluate_statefulset(obj, sts_pods(3) if pods is None else pods, now=NOW)


def _deploy(obj: Json, pods: list[Json] | None = None) -> Judge:
    pods = [rs_pod(i) for i in range(3)] if pods is None else pods
    return lambda: evaluate_deployment(obj, [replicaset(NEW_HASH)], pods, now=NOW)


def _ds(obj: Json, revisions: list[Json] = REVISIONS) -> Judge:
    return lambda: evaluate_daemonset(obj, ds_pods(3), now=NOW, revisions=revisions)


CASES = [
    # pods: P4
    case(
        "the OOM kill itself fails the pod (the line below differs only by the -1)",
        lambda: evaluate_pod(OOM_KILLED, now=NOW),
        State.FAILED,
        "OOMKilled, exit 137",
        rules=("P4",),
    ),
    case(
        "a negative restartCount in one container does not cancel another's OOM kill",
        lambda: evaluate_pod(CANCELLED, now=NOW),
        WAITING,
        "cannot be judged: status.containerStatuses[1].restartCount is -1, out of range",
        rules=("P4",),
    ),
    case(
        "a negative restartCount alone is unreadable, not fewer than no restarts",
        lambda: evaluate_pod(_with(pod(1), "status.containerStatuses.0.restartCount", -3), now=NOW),
        WAITING,
        "restartCount is -3, out of range (never below 0)",
        rules=("P4",),
    ),
    case(
        "a StatefulSet pod whose negative restartCount hides an OOM kill holds the set back",
        _sts(sts(), [pod(0), CANCELLED, pod(2)]),
        WAITING,
        rules=("S10", "P4"),
        ready=2,
    ),
    # DaemonSet: DS3, DS4, DS5, DS2
    case(
        "desiredNumberScheduled -1 is not zero eligible nodes",
        _ds(_with(daemonset(), "status.desiredNumberScheduled", -1)),
        WAITING,
        "DaemonSet agent: cannot be judged: status.desiredNumberScheduled is -1",
        rules=("DS3",),
    ),
    case(
        "numberMisscheduled -1 is not zero misscheduled pods",
        _ds(_with(daemonset(), "status.numberMisscheduled", -1)),
        WAITING,
        "status.numberMisscheduled is -1",
        rules=("DS4",),
    ),
    case(
        "a negative currentNumberScheduled is named, not counted as nodes",
        _ds(_with(daemonset(), "status.currentNumberScheduled", -1)),
        WAITING,
        "status.currentNumberScheduled is -1",
        rules=("DS4",),
        absent=("-1 of 3 nodes scheduled",),
    ),
    case(
        "a ControllerRevision numbered -1 is named, not ranked below revision 0",
        _ds(daemonset(), [controller_revision(DS_NEW_HASH, revision=-1)]),
        WAITING,
        "revision is -1",
        rules=("DS5",),
    ),
    case(
        "a DaemonSet at metadata.generation 0 cannot show its spec observed",
        _ds(daemonset(generation=0, observed=0)),
        WAITING,
        "metadata.generation is 0, out of range (never below 1)",
        rules=("DS2",),
    ),
    # StatefulSet: S2, S3, S4, S9
    case(
        "spec.replicas -1 is not a StatefulSet scaled to zero",
        _sts(_with(sts(replicas=0), "spec.replicas", -1), []),
        WAITING,
        "spec.replicas is -1",
        rules=("S3",),
    ),
    case(
        "a StatefulSet at metadata.generation 0 cannot show its spec observed",
        _sts(sts(generation=0, observed=0)),
        WAITING,
        "metadata.generation is 0",
        rules=("S2",),
    ),
    case(
        "a negative readyReplicas is named, not counted as ready pods",
        _sts(sts(ready=-1, available=3)),
        WAITING,
        "status.readyReplicas is -1",
        rules=("S4",),
        absent=("counts -1",),
    ),
    case(
        "ordinals starting at -1 are named, not taken as starting at 0",
        _sts(sts(ordinals_start=-1)),
        WAITING,
        "spec.ordinals.start is -1",
        rules=("S9",),
    ),
    # Deployment: D2, D5
    case(
        "spec.replicas -1 is not a Deployment scaled to zero",
        _deploy(_with(deployment(replicas=0), "spec.replicas", -1), []),
        WAITING,
        "spec.replicas is -1",
        rules=("D5",),
    ),
    case(
        "a negative observedGeneration is not an observed spec",
        _deploy(
            _with(_without(deployment(), "metadata.generation"), "status.observedGeneration", -1)
        ),
        WAITING,
        "status.observedGeneration is -1",
        rules=("D2",),
    ),
    case(
        "a Deployment at metadata.generation -1 cannot show its spec observed",
        _deploy(_with(deployment(), "metadata.generation", -1)),
        WAITING,
        "metadata.generation is -1",
        rules=("D2",),
    ),
    case(
        "a negative terminatingReplicas is named, not -1 pods terminating",
        _deploy(deployment(terminating=-1)),
        WAITING,
        "status.terminatingReplicas is -1",
        rules=("D5",),
        absent=("-1 pods",),
    ),
    # resource: G2
    case(
        "a resource at metadata.generation 0 cannot show it is reconciled",
        lambda: evaluate_resource(resource(generation=0, observed=0), now=NOW),
        WAITING,
        "Kafka events: cannot be judged: metadata.generation is 0",
        rules=("G2",),
    ),
    case(
        "a negative status.observedGeneration of a resource is named",
        lambda: evaluate_resource(resource(generation=None, observed=-1), now=NOW),
        WAITING,
        "status.observedGeneration is -1",
        rules=("G2",),
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_an_impossible_number_waits_naming_the_field(scenario: Scenario[Judge]) -> None:
    check(scenario.given(), scenario)


@pytest.mark.parametrize("count", [0, 1, 2**63 - 1])
def test_every_count_the_api_can_send_is_read(count: int) -> None:
    obj = _with(pod(1), "status.containerStatuses.0.restartCount", count)
    verdict = evaluate_pod(obj, now=NOW)
    assert "cannot be judged" not in verdict.reason
