"""D1-D6 as a table: a Deployment, its ReplicaSets, the pods, the expected verdict."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.readiness import State, evaluate_deployment

from .builders import NEW_HASH, NOW, OLD_HASH, deployment, replicaset, rs_pod
from .table import Scenario, case, check

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED
Json = dict[str, Any]
CRASH: dict[str, Any] = {"waiting": "CrashLoopBackOff", "restarts": 4, "last_exit": 1}

NEW_RS = replicaset(NEW_HASH, revision="2")
OLD_RS = replicaset(OLD_HASH, revision="1", replicas=0)
OTHER_RS = replicaset(
    "5b6c7d8e9f", revision="2", owner="billing", owner_uid="0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
)
BOTH = [NEW_RS, OLD_RS]


def new_pods(count: int = 3, **overrides: Any) -> list[Json]:
    return [rs_pod(i, **overrides) for i in range(count)]


CASES = [
    case(
        "a finished rollout with three stable new pods is ready",
        (deployment(), BOTH, new_pods()),
        READY,
        "3 of 3 ready",
        rules=(),
        ready=3,
    ),
    case(
        "a Deployment being deleted fails",
        (deployment(deleting=True), BOTH, new_pods()),
        FAILED,
        "Deployment api is being deleted",
        rules=("D1",),
    ),
    case(
        "a stale observedGeneration waits",
        (deployment(generation=3, observed=2), BOTH, new_pods()),
        WAITING,
        "observedGeneration 2 < generation 3",
        rules=("D2",),
    ),
    case(
        "a Deployment with no observedGeneration waits",
        (deployment(observed=None), BOTH, new_pods()),
        WAITING,
        "no status.observedGeneration",
        rules=("D2",),
    ),
    case(
        "a progress deadline exceeded fails with the controller's message",
        (
            deployment(deadline_exceeded=True, ready=2, available=2),
            BOTH,
            [*new_pods(2), rs_pod(2, ready=False)],
        ),
        FAILED,
        'ProgressDeadlineExceeded after 600s: ReplicaSet "api-75dd4d49d5" has timed out '
        "progressing.",
        rules=("D3", "D5", "D6", "P6"),
    ),
    case(
        "a progress deadline on a spec not yet observed only waits",
        (deployment(deadline_exceeded=True, generation=3, observed=2), BOTH, new_pods()),
        WAITING,
        "ProgressDeadlineExceeded",
        rules=("D2", "D3"),
    ),
    case(
        "a paused rollout waits and says how to resume it",
        (deployment(paused=True), BOTH, new_pods()),
        WAITING,
        "rollout paused (kubectl rollout resume deployment/api)",
        rules=("D4",),
    ),
    case(
        "old pods left over wait and are named",
        (deployment(total=4), BOTH, [*new_pods(), rs_pod(0, pod_hash=OLD_HASH)]),
        WAITING,
        "1 old pod left (4 exist, 3 desired)",
        "api-6c9f8d7b5-x7k2p: old ReplicaSet api-6c9f8d7b5, waiting for it to go",
        rules=("D5",),
        ready=3,
    ),
    case(
        "an old pod still listed keeps the rollout waiting even when the counts are done",
        (deployment(), BOTH, [*new_pods(), rs_pod(0, pod_hash=OLD_HASH, deleting=True)]),
        WAITING,
        "old ReplicaSet api-6c9f8d7b5",
        rules=("D5",),
    ),
    case(
        "terminating replicas reported by the cluster wait",
        (deployment(terminating=2), BOTH, new_pods()),
        WAITING,
        "2 pods terminating",
        rules=("D5",),
    ),
    case(
        "terminatingReplicas of zero does not block",
        (deployment(terminating=0), BOTH, new_pods()),
        READY,
        rules=(),
    ),
    case(
        "updated replicas behind desired wait",
        (
            deployment(updated=2, total=4),
            BOTH,
            [*new_pods(2), rs_pod(0, pod_hash=OLD_HASH), rs_pod(1, pod_hash=OLD_HASH)],
        ),
        WAITING,
        "2 of 3 new pods ready; 2 old pods still serving",
        "2 of 3 updated",
        "2 of 3 new pods exist",
        rules=("D5", "D6"),
        ready=2,
    ),
    case(
        "available replicas behind desired wait",
        (deployment(available=2), BOTH, new_pods()),
        WAITING,
        "2 of 3 available",
        rules=("D5",),
    ),
    case(
        "a crash-looping pod of the new ReplicaSet fails the rollout",
        (deployment(ready=2, available=2), BOTH, [*new_pods(2), rs_pod(2, **CRASH)]),
        FAILED,
        "2 of 3 ready; api-75dd4d49d5-b8w3n container main: CrashLoopBackOff, last exit 1 (Error)",
        rules=("D5", "D6", "P3"),
        ready=2,
    ),
    case(
        "a rollout to a crashing image says how many old pods still serve",
        (
            deployment(updated=1, total=4),
            BOTH,
            [rs_pod(0, **CRASH), *(rs_pod(i, pod_hash=OLD_HASH) for i in range(3))],
        ),
        FAILED,
        "0 of 3 new pods ready; 3 old pods still serving; api-75dd4d49d5-x7k2p container main: "
        "CrashLoopBackOff",
        rules=("D5", "D6", "P3"),
        ready=0,
    ),
    case(
        "a rollout to a crashing image whose old pods are not ready says none serves",
        (
            deployment(updated=1, total=2, ready=0, available=0),
            BOTH,
            [rs_pod(0, **CRASH), rs_pod(1, pod_hash=OLD_HASH, ready=False)],
        ),
        FAILED,
        "0 of 3 new pods ready; 0 old pods still serving",
        rules=("D5", "D6", "P3"),
    ),
    case(
        "an old pod still stabilizing counts as serving: it is Ready, in the endpoints",
        (
            deployment(updated=1, total=2),
            BOTH,
            [rs_pod(0, **CRASH), rs_pod(1, pod_hash=OLD_HASH, ready_for=10)],
        ),
        FAILED,
        "1 old pod still serving",
        rules=("D5", "D6", "P3"),
    ),
    case(
        "an old pod that recovered from a restart counts as serving: it is Ready, in the endpoints",
        (
            deployment(updated=1, total=2),
            BOTH,
            [
                rs_pod(0, **CRASH),
                rs_pod(
                    1,
                    pod_hash=OLD_HASH,
                    restarts=1,
                    last_exit=1,
                    last_finished_ago=300,
                    started_ago=295,
                ),
            ],
        ),
        FAILED,
        "1 old pod still serving",
        rules=("D5", "D6", "P3"),
    ),
    case(
        "new pods Ready but stabilizing say so beside the old pods still serving",
        (
            deployment(total=4),
            BOTH,
            [*(rs_pod(i, ready_for=10) for i in range(3)), rs_pod(0, pod_hash=OLD_HASH)],
        ),
        WAITING,
        "3 of 3 new pods Ready, stabilizing; 1 old pod still serving",
        rules=("D5", "D6", "P7"),
        ready=0,
    ),
    case(
        "a crash-looping pod of an old ReplicaSet does not fail the rollout",
        (deployment(total=4), BOTH, [*new_pods(), rs_pod(0, pod_hash=OLD_HASH, **CRASH)]),
        WAITING,
        "old ReplicaSet",
        rules=("D5",),
    ),
    case(
        "a new pod stabilizing keeps the rollout waiting",
        (deployment(), BOTH, [*new_pods(2), rs_pod(2, ready_for=10)]),
        WAITING,
        "stabilizing 10s of 60s",
        rules=("D6", "P7"),
        ready=2,
    ),
    case(
        "no ReplicaSet at the Deployment's revision yet waits",
        (deployment(revision="3"), BOTH, new_pods()),
        WAITING,
        "new ReplicaSet (revision 3) not found yet",
        rules=("D5", "D6"),
        ready=0,
    ),
    case(
        "a Deployment without a revision annotation waits for its ReplicaSet",
        (deployment(revision=None), BOTH, new_pods()),
        WAITING,
        "new ReplicaSet (its revision) not found yet",
        rules=("D5", "D6"),
    ),
    case(
        "a ReplicaSet of another Deployment at the same revision is ignored",
        (deployment(), [OTHER_RS, OLD_RS], new_pods()),
        WAITING,
        "not found yet",
        rules=("D6",),
    ),
    case(
        "pods of another Deployment's ReplicaSet are ignored",
        (
            deployment(),
            [*BOTH, OTHER_RS],
            [*new_pods(), rs_pod(0, pod_hash="5b6c7d8e9f", owner="billing", **CRASH)],
        ),
        READY,
        rules=(),
        ready=3,
    ),
    case(
        "fewer new pods listed than desired wait",
        (deployment(), BOTH, new_pods(2)),
        WAITING,
        "2 of 3 new pods exist",
        rules=("D6",),
        ready=2,
    ),
    case(
        "a Deployment scaled to zero with no pods is ready",
        (deployment(replicas=0), BOTH, []),
        READY,
        "0 of 0 ready (scaled to zero)",
        rules=(),
    ),
    case(
        "spec.replicas left out means one replica",
        (deployment(replicas=None), BOTH, new_pods(1)),
        READY,
        "1 of 1 ready",
        rules=(),
    ),
    case(
        "a Deployment with no status yet waits",
        (
            deployment(
                observed=None,
                omit=(
                    "replicas",
                    "updatedReplicas",
                    "readyReplicas",
                    "availableReplicas",
                    "conditions",
                ),
            ),
            [],
            [],
        ),
        WAITING,
        "0 of 3 ready",
        "status.replicas not reported yet",
        rules=("D2", "D5", "D6"),
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_deployment_rules(scenario: Scenario[tuple[Json, list[Json], list[Json]]]) -> None:
    obj, replicasets, pods = scenario.given
    verdict = evaluate_deployment(obj, replicasets, pods, now=NOW, policy=scenario.policy)
    check(verdict, scenario)
    assert verdict.kind == "Deployment"


def test_the_verdict_names_the_new_template_hash_and_lists_new_pods_first() -> None:
    verdict = evaluate_deployment(
        deployment(total=4), BOTH, [rs_pod(0, pod_hash=OLD_HASH), *new_pods()], now=NOW
    )
    assert verdict.revision == NEW_HASH
    assert [p.revision for p in verdict.pods] == [NEW_HASH, NEW_HASH, NEW_HASH, OLD_HASH]
    assert verdict.pods[-1].state is WAITING
