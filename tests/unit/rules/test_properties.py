"""Properties the rules must keep for every input, checked with hypothesis.

Pods are drawn from a catalogue of realistic conditions, each with the state the
pod rules give it on its own; StatefulSets vary in strategy, partition, pod
management and which pods run an old revision.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sts_provider.readiness import (
    State,
    Verdict,
    evaluate_deployment,
    evaluate_pod,
    evaluate_statefulset,
)
from airflow_sts_provider.readiness import (
    deployment as deployment_rules,
)
from airflow_sts_provider.readiness import (
    pods as pod_rules,
)
from airflow_sts_provider.readiness import (
    statefulset as statefulset_rules,
)

from .builders import (
    NEW_HASH,
    NEW_REV,
    NOW,
    OLD_HASH,
    OLD_REV,
    deployment,
    pod,
    replicaset,
    rs_pod,
    sts,
)

Json = dict[str, Any]
RANK = {State.READY: 0, State.WAITING: 1, State.FAILED: 2}

# name -> (the pod's own state, builder of the pod's changes); None builds no pod at all.
CATALOGUE: dict[str, tuple[State, dict[str, Any] | None]] = {
    "ready": (State.READY, {}),
    "ready after old restarts": (
        State.READY,
        {"restarts": 3, "last_exit": 1, "last_finished_ago": 5000},
    ),
    "stabilizing": (State.WAITING, {"ready_for": 12}),
    "probe failing": (State.WAITING, {"ready": False}),
    "terminating": (State.WAITING, {"deleting": True}),
    "creating": (State.WAITING, {"phase": "Pending", "waiting": "ContainerCreating"}),
    "pulling inside the grace": (
        State.WAITING,
        {"phase": "Pending", "waiting": "ErrImagePull", "created_ago": 30},
    ),
    "unschedulable inside the grace": (State.WAITING, {"unschedulable_for": 10}),
    "missing": (State.WAITING, None),
    "crash looping": (
        State.FAILED,
        {"waiting": "CrashLoopBackOff", "restarts": 5, "last_exit": 1},
    ),
    "oom killed": (
        State.FAILED,
        {"restarts": 1, "last_exit": 137, "last_reason": "OOMKilled", "started_ago": 30},
    ),
    "recovered from an oom kill": (
        State.WAITING,
        {
            "restarts": 1,
            "last_exit": 137,
            "last_reason": "OOMKilled",
            "last_finished_ago": 300,
            "started_ago": 295,
        },
    ),
    "evicted": (State.FAILED, {"phase": "Failed", "ready": False, "pod_reason": "Evicted"}),
    "succeeded": (State.FAILED, {"phase": "Succeeded", "ready": False}),
    "image pull past the grace": (
        State.FAILED,
        {"phase": "Pending", "waiting": "ImagePullBackOff", "created_ago": 500},
    ),
    "unschedulable past the grace": (State.FAILED, {"unschedulable_for": 1000}),
}
KINDS = sorted(CATALOGUE)

FOREIGN_UID = "0b9e7f6a-0000-4000-8000-000000000000"


def build_sts_pods(kinds: list[str], revisions: list[str], **extra: Any) -> list[Json]:
    pods = []
    for ordinal, (kind, revision) in enumerate(zip(kinds, revisions, strict=True)):
        changes = CATALOGUE[kind][1]
        if changes is not None:
            pods.append(pod(ordinal, revision=revision, **changes, **extra))
    return pods


@st.composite
def statefulsets(draw: st.DrawFn) -> tuple[Json, list[Json]]:
    """A StatefulSet and the pods its selector matched (its own and some look-alikes)."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=0, max_size=6))
    replicas = len(kinds)
    revisions = draw(
        st.lists(st.sampled_from([NEW_REV, OLD_REV]), min_size=replicas, max_size=replicas)
    )
    obj = sts(
        replicas=replicas,
        strategy=draw(st.sampled_from(["RollingUpdate", "OnDelete"])),
        partition=draw(st.integers(min_value=0, max_value=replicas + 1)),
        pod_management=draw(st.sampled_from(["OrderedReady", "Parallel"])),
        current_revision=draw(st.sampled_from([NEW_REV, OLD_REV])),
        ready=draw(st.integers(min_value=0, max_value=replicas)),
        updated=draw(st.integers(min_value=0, max_value=replicas)),
        generation=2,
        observed=draw(st.sampled_from([1, 2, 2, 2])),
    )
    pods = build_sts_pods(kinds, revisions)
    # Owned pods past the last ordinal (a scale-down in progress) and look-alikes of
    # another owner, some with the very names of expected pods.
    for index, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), max_size=2))):
        changes = CATALOGUE[kind][1]
        if changes is not None:
            pods.append(pod(replicas + index, **changes))
    for kind in draw(st.lists(st.sampled_from(KINDS), max_size=2)):
        changes = CATALOGUE[kind][1]
        if changes is not None:
            ordinal = draw(st.integers(min_value=0, max_value=replicas + 3))
            pods.append(pod(ordinal, owner_uid=FOREIGN_UID, name=f"web-{ordinal}", **changes))
    return obj, pods


def same(one: Verdict, other: Verdict) -> bool:
    return one == other and one.reason == other.reason


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statefulsets(), st.randoms(use_true_random=False))
def test_permuting_the_pods_never_changes_a_statefulset_verdict(
    case: tuple[Json, list[Json]], rng: random.Random
) -> None:
    obj, pods = case
    shuffled = list(pods)
    rng.shuffle(shuffled)
    assert same(
        evaluate_statefulset(obj, pods, now=NOW), evaluate_statefulset(obj, shuffled, now=NOW)
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(KINDS), max_size=4),
    st.lists(st.sampled_from(KINDS), max_size=3),
    st.randoms(use_true_random=False),
)
def test_permuting_pods_and_replicasets_never_changes_a_deployment_verdict(
    new_kinds: list[str], old_kinds: list[str], rng: random.Random
) -> None:
    pods = [rs_pod(i, **(CATALOGUE[k][1] or {})) for i, k in enumerate(new_kinds)]
    pods += [
        rs_pod(i, pod_hash=OLD_HASH, **(CATALOGUE[k][1] or {})) for i, k in enumerate(old_kinds)
    ]
    replicasets = [replicaset(NEW_HASH), replicaset(OLD_HASH, revision="1", replicas=0)]
    obj = deployment(replicas=len(new_kinds), total=len(new_kinds) + len(old_kinds))
    shuffled_pods, shuffled_sets = list(pods), list(replicasets)
    rng.shuffle(shuffled_pods)
    rng.shuffle(shuffled_sets)
    assert same(
        evaluate_deployment(obj, replicasets, pods, now=NOW),
        evaluate_deployment(obj, shuffled_sets, shuffled_pods, now=NOW),
    )


@st.composite
def one_pod_made_worse(draw: st.DrawFn) -> tuple[list[str], int, str]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    index = draw(st.integers(min_value=0, max_value=len(kinds) - 1))
    current = RANK[CATALOGUE[kinds[index]][0]]
    worse = [k for k in KINDS if RANK[CATALOGUE[k][0]] > current]
    if not worse:
        worse = [kinds[index]]
    return kinds, index, draw(st.sampled_from(worse))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    one_pod_made_worse(),
    st.fixed_dictionaries(
        {
            "strategy": st.sampled_from(["RollingUpdate", "OnDelete"]),
            "pod_management": st.sampled_from(["OrderedReady", "Parallel"]),
            "partition": st.integers(min_value=0, max_value=6),
            "observed": st.sampled_from([1, 2]),
        }
    ),
    st.lists(st.sampled_from([NEW_REV, OLD_REV]), min_size=5, max_size=5),
)
def test_making_one_pod_worse_never_makes_a_statefulset_verdict_better(
    change: tuple[list[str], int, str], shape: dict[str, Any], revisions: list[str]
) -> None:
    kinds, index, worse = change
    revisions = revisions[: len(kinds)]
    obj = sts(replicas=len(kinds), current_revision=OLD_REV, generation=2, **shape)
    before = evaluate_statefulset(obj, build_sts_pods(kinds, revisions), now=NOW)
    worse_kinds = [*kinds[:index], worse, *kinds[index + 1 :]]
    after = evaluate_statefulset(obj, build_sts_pods(worse_kinds, revisions), now=NOW)
    assert RANK[after.state] >= RANK[before.state], (before.reason, after.reason)
    assert after.ready <= before.ready


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_pod_made_worse())
def test_making_one_pod_worse_never_makes_a_deployment_or_pod_verdict_better(
    change: tuple[list[str], int, str],
) -> None:
    kinds, index, worse = change
    worse_kinds = [*kinds[:index], worse, *kinds[index + 1 :]]

    def judge(chosen: list[str]) -> Verdict:
        pods = [
            rs_pod(i, **changes)
            for i, k in enumerate(chosen)
            if (changes := CATALOGUE[k][1]) is not None
        ]
        return evaluate_deployment(
            deployment(replicas=len(kinds)), [replicaset(NEW_HASH)], pods, now=NOW
        )

    assert RANK[judge(worse_kinds).state] >= RANK[judge(kinds).state]
    if CATALOGUE[worse][1] is not None and CATALOGUE[kinds[index]][1] is not None:
        one = evaluate_pod(pod(0, **(CATALOGUE[kinds[index]][1] or {})), now=NOW)
        other = evaluate_pod(pod(0, **(CATALOGUE[worse][1] or {})), now=NOW)
        assert RANK[other.state] >= RANK[one.state]


def _drop(obj: Json, keys: list[str], nulls: bool) -> Json:
    copy = deepcopy(obj)
    for key in keys:
        if nulls:
            copy["status"][key] = None
        else:
            copy["status"].pop(key, None)
    return copy


STS_STATUS = sorted(sts()["status"])
STS_ESSENTIAL = {"observedGeneration", "replicas", "readyReplicas", "updateRevision"}
DEPLOY_STATUS = sorted(deployment()["status"])
DEPLOY_ESSENTIAL = {
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
}
POD_STATUS = sorted(pod(0)["status"])
POD_ESSENTIAL = {"phase", "conditions", "containerStatuses"}


def _subsets(keys: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(keys), unique=True)


@settings(max_examples=150, deadline=None)
@given(_subsets(STS_STATUS), st.booleans(), statefulsets())
def test_removing_statefulset_status_fields_never_raises_nor_invents_readiness(
    removed: list[str], nulls: bool, drawn: tuple[Json, list[Json]]
) -> None:
    healthy = sts()
    pods = [pod(i) for i in range(3)]
    verdict = evaluate_statefulset(_drop(healthy, removed, nulls), pods, now=NOW)
    if STS_ESSENTIAL & set(removed) or len(removed) == len(STS_STATUS):
        assert verdict.state is not State.READY, (removed, verdict.reason)
    obj, any_pods = drawn
    for each in any_pods:
        for key in removed:
            each["status"].pop(key, None)
    evaluate_statefulset(_drop(obj, removed, nulls), any_pods, now=NOW)


@settings(max_examples=100, deadline=None)
@given(_subsets(DEPLOY_STATUS), st.booleans())
def test_removing_deployment_status_fields_never_raises_nor_invents_readiness(
    removed: list[str], nulls: bool
) -> None:
    obj = _drop(deployment(), removed, nulls)
    verdict = evaluate_deployment(obj, [replicaset()], [rs_pod(i) for i in range(3)], now=NOW)
    if DEPLOY_ESSENTIAL & set(removed):
        assert verdict.state is not State.READY, (removed, verdict.reason)


@settings(max_examples=100, deadline=None)
@given(_subsets(POD_STATUS), st.booleans(), st.sampled_from(KINDS))
def test_removing_pod_status_fields_never_raises_nor_invents_readiness(
    removed: list[str], nulls: bool, kind: str
) -> None:
    verdict = evaluate_pod(_drop(pod(0), removed, nulls), now=NOW)
    if POD_ESSENTIAL & set(removed):
        assert verdict.state is not State.READY, (removed, verdict.reason)
    changes = CATALOGUE[kind][1]
    if changes is not None:
        evaluate_pod(_drop(pod(0, **changes), removed, nulls), now=NOW)


JUDGES: list[Callable[[Json, list[Json]], Verdict]] = [
    lambda obj, pods: evaluate_statefulset(obj, pods, now=NOW),
    lambda obj, pods: evaluate_pod(pods[0], now=NOW) if pods else evaluate_pod(obj, now=NOW),
]


@settings(max_examples=150, deadline=None)
@given(statefulsets(), st.sampled_from(JUDGES))
def test_to_dict_is_always_json_safe(
    case: tuple[Json, list[Json]], judge: Callable[[Json, list[Json]], Verdict]
) -> None:
    obj, pods = case
    data = judge(obj, pods).to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["state"] in {"ready", "waiting", "failed"}


def _judge_healthy_workload(kind: str, removed: list[str], nulls: bool) -> Verdict:
    if kind == "StatefulSet":
        obj = _drop(sts(), removed, nulls)
        return evaluate_statefulset(obj, [pod(i) for i in range(3)], now=NOW)
    obj = _drop(deployment(), removed, nulls)
    return evaluate_deployment(obj, [replicaset()], [rs_pod(i) for i in range(3)], now=NOW)


@pytest.mark.parametrize("nulls", [False, True], ids=["left out", "null"])
@pytest.mark.parametrize(
    ("kind", "key"),
    [
        *[
            pytest.param("StatefulSet", key, id=f"StatefulSet without status.{key} is not ready")
            for key in sorted(STS_ESSENTIAL)
        ],
        *[
            pytest.param("Deployment", key, id=f"Deployment without status.{key} is not ready")
            for key in sorted(DEPLOY_ESSENTIAL)
        ],
    ],
)
def test_each_essential_status_field_is_needed(kind: str, key: str, nulls: bool) -> None:
    assert _judge_healthy_workload(kind, [], nulls).state is State.READY
    assert _judge_healthy_workload(kind, [key], nulls).state is not State.READY


@pytest.mark.parametrize("nulls", [False, True], ids=["left out", "null"])
@pytest.mark.parametrize("key", sorted(POD_ESSENTIAL))
def test_each_essential_pod_status_field_is_needed(key: str, nulls: bool) -> None:
    assert evaluate_pod(pod(0), now=NOW).state is State.READY
    assert evaluate_pod(_drop(pod(0), [key], nulls), now=NOW).state is not State.READY


def assert_rule_ids_well_formed(verdict: Verdict, tables: tuple[str, ...]) -> None:
    """Rule ids once each in table order; READY exactly when no rule is named."""
    rank = {rule: index for index, rule in enumerate(tables)}
    assert list(verdict.rules) == sorted(set(verdict.rules), key=rank.__getitem__)
    assert (verdict.state is State.READY) == (verdict.rules == ()), verdict.reason
    for report in verdict.pods:
        assert (report.rule is None) == (report.state is State.READY), report
        assert report.rule is None or report.rule in verdict.rules, (report, verdict.rules)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statefulsets())
def test_statefulset_rule_ids_are_in_table_order_and_name_each_pod_not_ready(
    case: tuple[Json, list[Json]],
) -> None:
    obj, pods = case
    tables = statefulset_rules.RULES + pod_rules.RULES
    assert_rule_ids_well_formed(evaluate_statefulset(obj, pods, now=NOW), tables)
    for each in pods:
        assert_rule_ids_well_formed(evaluate_pod(each, now=NOW), pod_rules.RULES)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(KINDS), max_size=4),
    st.lists(st.sampled_from(KINDS), max_size=3),
    st.sampled_from(["2", "3"]),
)
def test_deployment_rule_ids_are_in_table_order_and_name_each_pod_not_ready(
    new_kinds: list[str], old_kinds: list[str], revision: str
) -> None:
    pods = [rs_pod(i, **(CATALOGUE[k][1] or {})) for i, k in enumerate(new_kinds)]
    pods += [
        rs_pod(i, pod_hash=OLD_HASH, **(CATALOGUE[k][1] or {})) for i, k in enumerate(old_kinds)
    ]
    replicasets = [replicaset(NEW_HASH), replicaset(OLD_HASH, revision="1", replicas=0)]
    obj = deployment(replicas=len(new_kinds), revision=revision)
    verdict = evaluate_deployment(obj, replicasets, pods, now=NOW)
    assert_rule_ids_well_formed(verdict, deployment_rules.RULES + pod_rules.RULES)
