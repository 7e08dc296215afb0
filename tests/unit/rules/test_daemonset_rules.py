"""DS1-DS9 as a table: a DaemonSet, the pods the selector matched, its ControllerRevisions."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.readiness import ReadinessPolicy, State, evaluate_daemonset

from .builders import (
    DS_NEW_HASH,
    DS_OLD_HASH,
    NOW,
    REVISIONS,
    controller_revision,
    daemonset,
    ds_pod,
    ds_pods,
)
from .table import Scenario, case, check

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED
Json = dict[str, Any]
Given = tuple[Json, list[Json], list[Json]]
CRASH: dict[str, Any] = {"waiting": "CrashLoopBackOff", "restarts": 4, "last_exit": 1}
OLD: dict[str, Any] = {"revision": DS_OLD_HASH}
STRICT_ON_DELETE = ReadinessPolicy(require_updated_on_delete=True)


CASES = [
    case(
        "a pod Ready and stable on each of three nodes is ready",
        (daemonset(), ds_pods(3), REVISIONS),
        READY,
        "3 of 3 ready",
        rules=(),
        ready=3,
    ),
    case(
        "without ControllerRevisions the counts alone judge the revision",
        (daemonset(), ds_pods(3, revision=DS_OLD_HASH), []),
        READY,
        rules=(),
        ready=3,
    ),
    # DS1 / DS2 / DS3 / DS9
    case(
        "a DaemonSet being deleted fails",
        (daemonset(deleting=True), ds_pods(3), REVISIONS),
        FAILED,
        "DaemonSet agent is being deleted",
        rules=("DS1",),
    ),
    case(
        "a stale observedGeneration waits even with ready pods",
        (daemonset(generation=2, observed=1), ds_pods(3), REVISIONS),
        WAITING,
        "observedGeneration 1 < generation 2",
        rules=("DS2",),
        ready=3,
    ),
    case(
        "a stale observedGeneration caps a crash-looping pod at waiting",
        (daemonset(generation=2, observed=1), [*ds_pods(2), ds_pod(2, **CRASH)], REVISIONS),
        WAITING,
        rules=("DS2", "DS8", "P3"),
    ),
    case(
        "a DaemonSet with no status yet waits",
        (daemonset(no_status=True), [], REVISIONS),
        WAITING,
        "status.desiredNumberScheduled not reported yet",
        rules=("DS2", "DS3"),
    ),
    case(
        "no node counted yet waits even with pods running",
        (daemonset(desired=None), ds_pods(3), REVISIONS),
        WAITING,
        rules=("DS3",),
    ),
    case(
        "no node eligible is ready",
        (daemonset(desired=0), [], REVISIONS),
        READY,
        "no node is eligible",
        rules=(),
        shows=("DS9",),
        ready=0,
    ),
    case(
        "no node eligible still fails a DaemonSet being deleted",
        (daemonset(desired=0, deleting=True), [], REVISIONS),
        FAILED,
        rules=("DS1",),
        shows=("DS9",),
    ),
    # DS4
    case(
        "a node not scheduled yet waits and counts the nodes",
        (daemonset(scheduled=2, ready=2), ds_pods(2), REVISIONS),
        WAITING,
        "2 of 3 nodes scheduled",
        "2 of 3 nodes run a pod",
        rules=("DS4", "DS6", "DS7"),
        ready=2,
    ),
    case(
        "a pod on a node that should not run one waits",
        (daemonset(misscheduled=1), ds_pods(3), REVISIONS),
        WAITING,
        "1 pod on nodes that should not run one",
        rules=("DS4",),
        ready=3,
    ),
    # DS5
    case(
        "a rolling update half way waits and names the outdated pod and its node",
        (daemonset(updated=2), [*ds_pods(2), ds_pod(2, **OLD)], REVISIONS),
        WAITING,
        "2 of 3 updated to 7b8f75b98",
        "on node-2: at outdated revision 5d8f7c6b9, waiting for 7b8f75b98",
        rules=("DS5", "DS7"),
        ready=2,
    ),
    case(
        "a rollout under way says its old pods still serve, not just 0 of 3 ready",
        (daemonset(updated=0), ds_pods(3, **OLD), REVISIONS),
        WAITING,
        "0 of 3 new pods ready; 3 old pods still serving; 0 of 3 updated to 7b8f75b98",
        rules=("DS5", "DS7"),
        ready=0,
    ),
    case(
        "a rollout to a crashing image says how many old pods still serve",
        (
            daemonset(updated=1, ready=2),
            [ds_pod(0, **CRASH), ds_pod(1, **OLD), ds_pod(2, **OLD)],
            REVISIONS,
        ),
        FAILED,
        "0 of 3 new pods ready; 2 old pods still serving; ",
        "container main: CrashLoopBackOff",
        rules=("DS5", "DS6", "DS7", "DS8", "P3"),
        ready=0,
    ),
    case(
        "a surge pod beside its old one: the old one still serves",
        (
            daemonset(updated=3, ready=2),
            [*ds_pods(2), ds_pod(2, ready_for=12), ds_pod(2, **OLD)],
            REVISIONS,
        ),
        WAITING,
        "3 of 3 new pods Ready, 1 stabilizing; 1 old pod still serving",
        rules=("DS6", "DS7", "DS8", "P7"),
        ready=2,
    ),
    case(
        "a rolling update without revisions is judged by updatedNumberScheduled",
        (daemonset(updated=1), ds_pods(3, revision=DS_OLD_HASH), []),
        WAITING,
        "1 of 3 updated",
        rules=("DS5",),
        ready=3,
    ),
    case(
        "OnDelete: outdated pods are reported but do not block",
        (
            daemonset(strategy="OnDelete", updated=1),
            [ds_pod(0), ds_pod(1, **OLD), ds_pod(2, **OLD)],
            REVISIONS,
        ),
        READY,
        rules=(),
        ready=3,
    ),
    case(
        "OnDelete with require_updated_on_delete: outdated pods wait",
        (
            daemonset(strategy="OnDelete", updated=1),
            [ds_pod(0), ds_pod(1, **OLD), ds_pod(2, **OLD)],
            REVISIONS,
        ),
        WAITING,
        "1 of 3 updated to 7b8f75b98 (OnDelete: delete the old pods to roll them)",
        "OnDelete: delete the pod to roll it to 7b8f75b98",
        rules=("DS5",),
        policy=STRICT_ON_DELETE,
        ready=1,
    ),
    case(
        "OnDelete: a broken outdated pod fails, the controller will not replace it",
        (
            daemonset(strategy="OnDelete", ready=2),
            [*ds_pods(2), ds_pod(2, **OLD, **CRASH)],
            REVISIONS,
        ),
        FAILED,
        "delete the pod to roll it",
        rules=("DS6", "DS8", "P3"),
    ),
    # DS6
    case(
        "pods look ready but the controller has not counted them yet",
        (daemonset(ready=2), ds_pods(3), REVISIONS),
        WAITING,
        "controller counts 2 of 3 ready",
        rules=("DS6",),
        ready=3,
    ),
    case(
        "minReadySeconds: available behind ready waits",
        (daemonset(min_ready_seconds=30, available=2), ds_pods(3), REVISIONS),
        WAITING,
        "2 of 3 available (minReadySeconds 30)",
        rules=("DS6",),
    ),
    # DS7
    case(
        "a node whose only pod is terminating is named",
        (daemonset(ready=2), [*ds_pods(2), ds_pod(2, deleting=True)], REVISIONS),
        WAITING,
        "2 of 3 nodes run a pod (node-2: only a terminating pod)",
        rules=("DS6", "DS7", "DS8", "P1"),
        ready=2,
    ),
    case(
        "two pods on one node during a surge wait and name the node",
        (daemonset(), [*ds_pods(3), ds_pod(2, **OLD)], REVISIONS),
        WAITING,
        "second pod on node-2 beside",
        rules=("DS7",),
        ready=3,
    ),
    case(
        "a crash-looping old pod beside its replacement only blocks",
        (daemonset(), [*ds_pods(3), ds_pod(2, **OLD, **CRASH)], REVISIONS),
        WAITING,
        rules=("DS7",),
        ready=3,
    ),
    case(
        "a crash-looping outdated pod under RollingUpdate waits for the controller to replace it",
        (daemonset(updated=2), [*ds_pods(2), ds_pod(2, **OLD, **CRASH)], REVISIONS),
        WAITING,
        "at outdated revision 5d8f7c6b9",
        "CrashLoopBackOff",
        rules=("DS5", "DS7"),
        ready=2,
    ),
    case(
        "pods on more nodes than desired wait",
        (daemonset(), ds_pods(4), REVISIONS),
        WAITING,
        "pods on 4 nodes, 3 desired",
        rules=("DS7",),
    ),
    case(
        "an unschedulable pod is placed on the node its affinity names",
        (
            daemonset(ready=2),
            [*ds_pods(2), ds_pod(2, unschedulable_for=10, ready=False)],
            REVISIONS,
        ),
        WAITING,
        rules=("DS6", "DS8", "P5"),
        ready=2,
    ),
    case(
        "two pending pods pinned to one node by affinity are doubled",
        (
            daemonset(ready=2),
            [
                *ds_pods(2),
                ds_pod(2, unschedulable_for=10, ready=False),
                ds_pod(2, name="agent-zzzzz", unschedulable_for=10, ready=False),
            ],
            REVISIONS,
        ),
        WAITING,
        "agent-zzzzz: second pod on node-2",
        rules=("DS6", "DS7", "DS8", "P5"),
        ready=2,
    ),
    case(
        "pods of another owner do not count",
        (daemonset(), ds_pods(3, owner_uid="0b9e7f6a-0000-4000-8000-000000000000"), REVISIONS),
        WAITING,
        "0 of 3 nodes run a pod",
        rules=("DS7",),
        ready=0,
    ),
    # DS8
    case(
        "a crash-looping pod fails the DaemonSet at once",
        (daemonset(ready=2), [*ds_pods(2), ds_pod(2, **CRASH)], REVISIONS),
        FAILED,
        "container main: CrashLoopBackOff",
        rules=("DS6", "DS8", "P3"),
        ready=2,
    ),
    case(
        "a stabilizing pod waits",
        (daemonset(), [*ds_pods(2), ds_pod(2, ready_for=12)], REVISIONS),
        WAITING,
        "3 of 3 Ready, 1 stabilizing; agent-",
        "stabilizing 12s of 60s",
        rules=("DS8", "P7"),
        ready=2,
    ),
    case(
        "a rollout waits until the replaced pods are gone",
        (daemonset(), [*ds_pods(3), ds_pod(1, **OLD, deleting=True)], REVISIONS),
        WAITING,
        rules=("DS8", "P1"),
        ready=3,
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_daemonset_rules(scenario: Scenario[Given]) -> None:
    obj, pods, revisions = scenario.given
    verdict = evaluate_daemonset(obj, pods, now=NOW, policy=scenario.policy, revisions=revisions)
    check(verdict, scenario)
    assert verdict.kind == "DaemonSet"
    assert verdict.name == "agent"


def test_the_current_revision_is_the_owned_one_with_the_highest_revision() -> None:
    foreign = controller_revision("0000000000", revision=9, owner_uid="someone-else")
    unlabelled = controller_revision(DS_NEW_HASH, revision=3, label=False)
    revisions = [unlabelled, foreign, controller_revision(DS_OLD_HASH, revision=1)]
    verdict = evaluate_daemonset(daemonset(), ds_pods(3), now=NOW, revisions=revisions)
    assert verdict.revision == DS_NEW_HASH
    assert verdict.state is READY


def test_reports_list_one_pod_per_node_then_doubled_then_terminating() -> None:
    pods = [ds_pod(1, **OLD, deleting=True), ds_pod(2, **OLD), *reversed(ds_pods(3))]
    verdict = evaluate_daemonset(daemonset(), pods, now=NOW, revisions=REVISIONS)
    assert [p.node for p in verdict.pods] == ["node-0", "node-1", "node-2", "node-2", "node-1"]
    assert [p.revision for p in verdict.pods[:3]] == [DS_NEW_HASH] * 3
    assert [p.rule for p in verdict.pods] == [None, None, None, "DS7", "P1"]
    assert verdict.desired == 3
