"""S1-S12 as a table: a StatefulSet, the pods the selector matched, the expected verdict."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.readiness import ReadinessPolicy, State, evaluate_statefulset

from .builders import NOW, OLD_REV, STS_UID, owner_ref, pod, sts, sts_pods
from .table import Scenario, case, check

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED
Json = dict[str, Any]
CRASH: dict[str, Any] = {"waiting": "CrashLoopBackOff", "restarts": 4, "last_exit": 1}
OOM_KILLED: dict[str, Any] = {
    "restarts": 1,
    "last_exit": 137,
    "last_reason": "OOMKilled",
    "last_finished_ago": 60,
    "started_ago": 30,
}
"""OOM-killed a minute ago and up again for 30 s: a crash still happening (P4 fails it)."""


CASES = [
    case(
        "three Ready, stable pods at the update revision are ready",
        (sts(), sts_pods(3)),
        READY,
        "3 of 3 ready",
        rules=(),
        ready=3,
    ),
    # S1 / S2 / S3 / S11
    case(
        "a StatefulSet being deleted fails",
        (sts(deleting=True), sts_pods(3)),
        FAILED,
        "StatefulSet web is being deleted",
        rules=("S1",),
    ),
    case(
        "a StatefulSet with no status yet waits",
        (sts(no_status=True), []),
        WAITING,
        "spec not yet observed",
        "web-0: not created yet",
        rules=("S2", "S3", "S6", "S9"),
    ),
    case(
        "a stale observedGeneration waits even with ready pods",
        (sts(generation=2, observed=1), sts_pods(3)),
        WAITING,
        "observedGeneration 1 < generation 2",
        rules=("S2",),
        ready=3,
    ),
    case(
        "a stale observedGeneration caps a crash-looping pod at waiting",
        (sts(generation=2, observed=1), [*sts_pods(2), pod(2, **CRASH)]),
        WAITING,
        "observedGeneration 1 < generation 2",
        "web-2 container main: CrashLoopBackOff",
        rules=("S2", "S10", "P3"),
    ),
    case(
        "a stale observedGeneration still fails a StatefulSet being deleted",
        (sts(generation=2, observed=1, deleting=True), sts_pods(3)),
        FAILED,
        "being deleted",
        rules=("S1", "S2"),
    ),
    case(
        "too few pods created waits and names the missing one",
        (sts(created=2, ready=2), sts_pods(2)),
        WAITING,
        "2 of 3 ready",
        "2 of 3 created",
        "web-2: not created yet",
        rules=("S3", "S5", "S9"),
        ready=2,
    ),
    case(
        "extra pods left after a scale-down wait and are named",
        (sts(replicas=2, created=3), [*sts_pods(2), pod(2, deleting=True)]),
        WAITING,
        "1 extra terminating",
        "web-2: extra pod outside ordinals 0..1",
        rules=("S3", "S9"),
        ready=2,
    ),
    case(
        "an extra pod that crash-loops on its way out does not fail the set",
        (sts(replicas=2, created=3), [*sts_pods(2), pod(2, **CRASH)]),
        WAITING,
        "web-2: extra pod",
        rules=("S3", "S9"),
        ready=2,
    ),
    case(
        "scaled to zero with no pods is ready",
        (sts(replicas=0), []),
        READY,
        "0 of 0 ready (scaled to zero)",
        rules=(),
        shows=("S11",),
        ready=0,
    ),
    case(
        "scaled to zero waits while the controller still counts a pod",
        (sts(replicas=0, created=1), [pod(0, deleting=True)]),
        WAITING,
        "1 extra terminating",
        rules=("S3",),
        shows=("S11",),
    ),
    case(
        "spec.replicas left out means one replica",
        (sts(replicas=None), sts_pods(1)),
        READY,
        "1 of 1 ready",
        rules=(),
        ready=1,
    ),
    # S4 / S5
    case(
        "pods look ready but the controller has not counted them yet",
        (sts(ready=2), sts_pods(3)),
        WAITING,
        "controller counts 2 of 3 ready",
        rules=("S4", "S5"),
        ready=3,
    ),
    case(
        "minReadySeconds: available behind ready waits",
        (sts(min_ready_seconds=30, available=2), sts_pods(3)),
        WAITING,
        "2 of 3 available (minReadySeconds 30)",
        rules=("S5",),
    ),
    case(
        "an old cluster without availableReplicas is judged by the other fields",
        (sts(omit=("availableReplicas",)), sts_pods(3)),
        READY,
        rules=(),
    ),
    # S6 / S7 / S9 rolling update
    case(
        "a rolling update half way waits and names the outdated pods",
        (
            sts(current_revision=OLD_REV, updated=1, current=2),
            [pod(0, revision=OLD_REV), pod(1, revision=OLD_REV), pod(2)],
        ),
        WAITING,
        "1 of 3 ready",
        "1 of 3 updated to web-7b8f75b98",
        "web-0: at outdated revision web-5d8f7c6b9, waiting for web-7b8f75b98",
        rules=("S6", "S9"),
        ready=1,
    ),
    case(
        "a finished rolling update whose currentRevision lags is ready by the pod hashes",
        (sts(current_revision=OLD_REV), sts_pods(3)),
        READY,
        rules=(),
    ),
    case(
        "currentRevision lagging with updatedReplicas reported but one pod outdated waits",
        (sts(current_revision=OLD_REV), [*sts_pods(2), pod(2, revision=OLD_REV)]),
        WAITING,
        "web-2: at outdated revision",
        rules=("S7", "S9"),
    ),
    case(
        "partition 2 of 3: only web-2 must carry the update revision",
        (
            sts(current_revision=OLD_REV, partition=2, updated=1, current=2),
            [pod(0, revision=OLD_REV), pod(1, revision=OLD_REV), pod(2)],
        ),
        READY,
        rules=(),
        ready=3,
    ),
    case(
        "partition 2 of 3 with web-2 not updated yet waits",
        (
            sts(current_revision=OLD_REV, partition=2, updated=0),
            [pod(0, revision=OLD_REV), pod(1, revision=OLD_REV), pod(2, revision=OLD_REV)],
        ),
        WAITING,
        "0 of 1 updated",
        "web-2: at outdated revision",
        rules=("S6", "S9"),
    ),
    case(
        "a partition above the replicas holds every pod back and is ready",
        (sts(current_revision=OLD_REV, partition=5, updated=0), sts_pods(3, revision=OLD_REV)),
        READY,
        rules=(),
    ),
    case(
        "missing updatedReplicas is judged by the pod hashes: all updated",
        (sts(omit=("updatedReplicas",)), sts_pods(3)),
        READY,
        rules=(),
    ),
    case(
        "missing updatedReplicas is judged by the pod hashes: one outdated",
        (
            sts(current_revision=OLD_REV, omit=("updatedReplicas",)),
            [*sts_pods(2), pod(2, revision=OLD_REV)],
        ),
        WAITING,
        "2 of 3 updated",
        rules=("S6", "S9"),
    ),
    case(
        "a missing updateRevision waits",
        (sts(omit=("updateRevision",)), sts_pods(3)),
        WAITING,
        "status.updateRevision not reported yet",
        rules=("S6",),
    ),
    case(
        "a pod at the wrong revision waits even when the counts say updated",
        (sts(), [*sts_pods(2), pod(2, revision="web-0000000")]),
        WAITING,
        "web-2: at outdated revision web-0000000",
        rules=("S9",),
        ready=2,
    ),
    # S8 OnDelete
    case(
        "OnDelete: an outdated pod is reported but the set is ready by default",
        (
            sts(strategy="OnDelete", current_revision=OLD_REV, updated=2),
            [pod(0, revision=OLD_REV), *sts_pods(2, start=1)],
        ),
        READY,
        rules=(),
        shows=("S8",),
        ready=3,
    ),
    case(
        "OnDelete: a ready set says how many pods run an outdated template",
        (
            sts(strategy="OnDelete", current_revision=OLD_REV, updated=1),
            [pod(0, revision=OLD_REV), pod(1, revision=OLD_REV), pod(2)],
        ),
        READY,
        "3 of 3 ready; 2 of 3 pods run an outdated template "
        "(OnDelete: delete them to roll them to web-7b8f75b98)",
        rules=(),
        shows=("S8",),
        ready=3,
    ),
    case(
        "OnDelete: one outdated pod is counted in the ready reason too",
        (
            sts(strategy="OnDelete", current_revision=OLD_REV, updated=2),
            [pod(0, revision=OLD_REV), *sts_pods(2, start=1)],
        ),
        READY,
        "3 of 3 ready; 1 of 3 pods runs an outdated template",
        rules=(),
        shows=("S8",),
    ),
    case(
        "OnDelete with every pod updated says nothing of outdated templates",
        (sts(strategy="OnDelete"), sts_pods(3)),
        READY,
        absent=("outdated",),
        rules=(),
    ),
    case(
        "OnDelete strict: an outdated pod keeps the set waiting",
        (
            sts(strategy="OnDelete", current_revision=OLD_REV, updated=2),
            [pod(0, revision=OLD_REV), *sts_pods(2, start=1)],
        ),
        WAITING,
        "web-0: outdated revision web-5d8f7c6b9 (OnDelete: delete the pod",
        rules=("S8",),
        ready=2,
        policy=ReadinessPolicy(require_updated_on_delete=True),
    ),
    case(
        "OnDelete: a crash-looping outdated pod fails with the hint to delete it",
        (
            sts(strategy="OnDelete", current_revision=OLD_REV, updated=2),
            [pod(0, revision=OLD_REV, **CRASH), *sts_pods(2, start=1)],
        ),
        FAILED,
        "web-0 container main: CrashLoopBackOff",
        "OnDelete: delete the pod to roll it to web-7b8f75b98",
        rules=("S10", "P3"),
    ),
    # S10 / S12 pods
    case(
        "a crash-looping pod fails the set and is named",
        (sts(ready=2), [*sts_pods(2), pod(2, **CRASH)]),
        FAILED,
        "2 of 3 ready; web-2 container main: CrashLoopBackOff, last exit 1 (Error)",
        rules=("S5", "S10", "P3"),
        ready=2,
    ),
    case(
        "two failing pods are both listed",
        (
            sts(ready=1),
            [pod(0), pod(1, **CRASH), pod(2, **OOM_KILLED)],
        ),
        FAILED,
        "web-1 container main: CrashLoopBackOff",
        "web-2 container main: OOMKilled, exit 137",
        rules=("S5", "S10", "P3", "P4"),
        ready=1,
    ),
    case(
        "a pod that crashed after being fine spoils the set again",
        (
            sts(),
            [*sts_pods(2), pod(2, restarts=1, last_exit=1, last_finished_ago=20, started_ago=15)],
        ),
        FAILED,
        "web-2 container main: Error, exit 1, 20s ago",
        rules=("S10", "P4"),
    ),
    case(
        "a pod that recovered from a restart keeps the set waiting, not failed, beside ready peers",
        (
            sts(),
            [*sts_pods(2), pod(2, restarts=1, last_exit=1, last_finished_ago=300, started_ago=295)],
        ),
        WAITING,
        "web-2 container main: recovered from a restart at 2026-11-02T11:55:00Z",
        "it counts until 2026-11-02T12:10:00Z",
        rules=("S10", "P4"),
        ready=2,
    ),
    case(
        "a pod recovered from a restart is Running and Ready: it does not hold an evicted pod back",
        (
            sts(ready=2),
            [
                pod(0),
                pod(1, restarts=1, last_exit=1, last_finished_ago=300, started_ago=295),
                pod(2, phase="Failed", ready=False, pod_reason="Evicted"),
            ],
        ),
        FAILED,
        absent=("replaces it only once",),
        rules=("S5", "S10", "P2", "P4"),
    ),
    case(
        "one pod stabilizing keeps the set waiting, and the count says it is Ready",
        (sts(), [*sts_pods(2), pod(2, ready_for=23)]),
        WAITING,
        "3 of 3 Ready, 1 stabilizing; web-2: stabilizing 23s of 60s",
        rules=("S10", "P7"),
        ready=2,
    ),
    case(
        "pods all Ready but stabilizing say so, not 0 of 3 ready",
        (sts(), [pod(i, ready_for=20) for i in range(3)]),
        WAITING,
        "3 of 3 Ready, stabilizing; web-0: stabilizing 20s of 60s",
        absent=("0 of 3 ready",),
        rules=("S10", "P7"),
        ready=0,
    ),
    case(
        "a stabilizing pod beside a crash-looping one is counted Ready, the crash listed",
        (sts(ready=2), [pod(0), pod(1, ready_for=20), pod(2, **CRASH)]),
        FAILED,
        "2 of 3 Ready, 1 stabilizing; web-2 container main: CrashLoopBackOff",
        rules=("S5", "S10", "P3", "P7"),
        ready=1,
    ),
    case(
        "a terminating pod keeps the set waiting",
        (sts(ready=2), [*sts_pods(2), pod(2, deleting=True)]),
        WAITING,
        "web-2: terminating",
        rules=("S5", "S10", "P1"),
    ),
    case(
        "an evicted pod fails the set",
        (sts(ready=2), [*sts_pods(2), pod(2, phase="Failed", ready=False, pod_reason="Evicted")]),
        FAILED,
        "web-2: pod Failed: Evicted",
        rules=("S5", "S10", "P2"),
    ),
    case(
        "an evicted pod behind an unready one names the pod OrderedReady stops at",
        (
            sts(ready=1),
            [
                pod(0),
                pod(1, ready=False),
                pod(2, phase="Failed", ready=False, pod_reason="Evicted"),
            ],
        ),
        FAILED,
        "web-2: pod Failed: Evicted",
        "the controller (OrderedReady) replaces it only once web-1 is Running and Ready",
        rules=("S5", "S10", "P2", "P6"),
    ),
    case(
        "an evicted pod behind a missing ordinal names the missing pod",
        (
            sts(ready=1, created=2),
            [pod(0), pod(2, phase="Failed", ready=False, pod_reason="Evicted")],
        ),
        FAILED,
        "replaces it only once web-1 is Running and Ready",
        rules=("S3", "S5", "S9", "S10", "P2"),
    ),
    case(
        "an evicted pod before the unready one is replaced first: nothing holds it",
        (
            sts(ready=1),
            [
                pod(0, phase="Failed", ready=False, pod_reason="Evicted"),
                pod(1, ready=False),
                pod(2),
            ],
        ),
        FAILED,
        "web-0: pod Failed: Evicted",
        absent=("replaces it only once",),
        rules=("S5", "S10", "P2", "P6"),
    ),
    case(
        "Parallel replaces an evicted pod whatever the other pods do",
        (
            sts(ready=1, pod_management="Parallel"),
            [
                pod(0),
                pod(1, ready=False),
                pod(2, phase="Failed", ready=False, pod_reason="Evicted"),
            ],
        ),
        FAILED,
        "web-2: pod Failed: Evicted",
        absent=("replaces it only once",),
        rules=("S5", "S10", "P2", "P6"),
    ),
    case(
        "a stabilizing pod is Running and Ready: it does not hold an evicted pod back",
        (
            sts(ready=2),
            [
                pod(0),
                pod(1, ready_for=10),
                pod(2, phase="Failed", ready=False, pod_reason="Evicted"),
            ],
        ),
        FAILED,
        absent=("replaces it only once",),
        rules=("S5", "S10", "P2", "P7"),
    ),
    case(
        "a pod unschedulable past the grace fails the set with the scheduler's words",
        (sts(ready=2), [*sts_pods(2), pod(2, unschedulable_for=400)]),
        FAILED,
        "web-2: Unschedulable for 400s (grace 300s): 0/3 nodes are available",
        rules=("S5", "S10", "P5"),
    ),
    case(
        "OrderedReady: a broken pod at the outdated revision fails and says to delete it",
        (
            sts(current_revision=OLD_REV, updated=0, ready=2),
            [*sts_pods(2, revision=OLD_REV), pod(2, revision=OLD_REV, **CRASH)],
        ),
        FAILED,
        "web-2 container main: CrashLoopBackOff",
        "kubernetes#67250",
        "`kubectl delete pod web-2 -n shop`",
        rules=("S5", "S6", "S9", "S10", "S12", "P3"),
    ),
    case(
        "Parallel: a broken pod at the outdated revision waits for the controller to replace it",
        (
            sts(current_revision=OLD_REV, updated=0, ready=2, pod_management="Parallel"),
            [*sts_pods(2, revision=OLD_REV), pod(2, revision=OLD_REV, **CRASH)],
        ),
        WAITING,
        "the controller (Parallel) replaces it",
        rules=("S5", "S6", "S9", "S10", "S12", "P3"),
        absent=("kubernetes#67250",),
    ),
    case(
        "a broken pod below the partition fails without the delete advice",
        (
            sts(current_revision=OLD_REV, partition=2, updated=1),
            [pod(0, revision=OLD_REV, **CRASH), pod(1, revision=OLD_REV), pod(2)],
        ),
        FAILED,
        "web-0 container main: CrashLoopBackOff",
        rules=("S10", "P3"),
        absent=("kubernetes#67250",),
    ),
    # ownership
    case(
        "an orphan pod with the right name is not counted",
        (sts(ready=2), [*sts_pods(2), pod(2, owner_refs=[])]),
        WAITING,
        "web-2: not created yet",
        rules=("S5", "S9"),
        ready=2,
    ),
    case(
        "a pod of another owner with the right name is not counted",
        (sts(ready=2), [*sts_pods(2), pod(2, owner_uid="0b9e7f6a-0000-4000-8000-000000000000")]),
        WAITING,
        "web-2: not created yet",
        rules=("S5", "S9"),
    ),
    case(
        "a non-controller ownerReference does not make a pod ours",
        (
            sts(ready=2),
            [
                *sts_pods(2),
                pod(2, owner_refs=[owner_ref("StatefulSet", "web", STS_UID, controller=False)]),
            ],
        ),
        WAITING,
        "web-2: not created yet",
        rules=("S5", "S9"),
    ),
    case(
        "crash-looping look-alike pods of another owner do not spoil a ready set",
        (sts(), [*sts_pods(3), pod(3, owner_uid="0b9e7f6a-0000-4000-8000-000000000000", **CRASH)]),
        READY,
        rules=(),
        ready=3,
    ),
    # spec.ordinals.start
    case(
        "ordinals starting at 5 expect web-5 to web-7",
        (sts(ordinals_start=5), sts_pods(3, start=5)),
        READY,
        rules=(),
        ready=3,
    ),
    case(
        "ordinals starting at 5 do not accept web-0 to web-2",
        (sts(ordinals_start=5), sts_pods(3)),
        WAITING,
        "web-5: not created yet",
        "web-0: extra pod outside ordinals 5..7",
        rules=("S9",),
        ready=0,
    ),
    case(
        "a large scale-up lists five pods and counts the rest",
        (sts(replicas=8, created=0, ready=0), []),
        WAITING,
        "0 of 8 created",
        "web-4: not created yet",
        "3 more pods not ready",
        rules=("S3", "S5", "S9"),
        absent=("web-5:",),
        ready=0,
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_statefulset_rules(scenario: Scenario[tuple[Json, list[Json]]]) -> None:
    obj, pods = scenario.given
    verdict = evaluate_statefulset(obj, pods, now=NOW, policy=scenario.policy)
    check(verdict, scenario)
    assert verdict.ready == sum(
        1 for report in verdict.pods[: verdict.desired] if report.state is READY
    )
    assert verdict.kind == "StatefulSet"
    assert verdict.name == "web"


def test_reports_list_expected_pods_in_ordinal_order_then_extras() -> None:
    verdict = evaluate_statefulset(
        sts(replicas=3, created=4), [pod(3), pod(2), pod(0), pod(1)], now=NOW
    )
    assert [p.name for p in verdict.pods] == ["web-0", "web-1", "web-2", "web-3"]
    assert verdict.revision == "web-7b8f75b98"
    assert verdict.desired == 3


def test_ordinals_sort_numerically_not_as_text() -> None:
    verdict = evaluate_statefulset(sts(replicas=12), sts_pods(12), now=NOW)
    assert [p.name for p in verdict.pods][9:] == ["web-9", "web-10", "web-11"]
    assert verdict.state is READY


def test_the_same_pod_judged_alone_and_in_its_set_gets_the_same_verdict() -> None:
    crashing = pod(2, **CRASH)
    verdict = evaluate_statefulset(sts(ready=2), [*sts_pods(2), crashing], now=NOW)
    alone = evaluate_statefulset(sts(replicas=1), [pod(0, **CRASH)], now=NOW)
    assert verdict.pods[2].state is alone.pods[0].state is FAILED
