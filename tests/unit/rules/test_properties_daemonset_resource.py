"""Properties the DS and G rules keep for every input, checked with hypothesis.

Pods come from the catalogue of :mod:`test_properties` (realistic conditions, each
with the state the pod rules give it alone); DaemonSets vary in strategy, which
nodes run an old revision, doubled pods and look-alikes of another owner;
``status.conditions`` takes any JSON shape at all.
"""

from __future__ import annotations

import json
import random
import re
from copy import deepcopy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sts_provider.readiness import (
    ReadinessPolicy,
    State,
    Verdict,
    evaluate_daemonset,
    evaluate_resource,
)
from airflow_sts_provider.readiness import daemonset as daemonset_rules
from airflow_sts_provider.readiness import pods as pod_rules
from airflow_sts_provider.readiness import resource as resource_rules

from .builders import (
    DS_NEW_HASH,
    DS_OLD_HASH,
    NOW,
    REVISIONS,
    broker,
    condition,
    daemonset,
    ds_pod,
    resource,
)
from .test_properties import CATALOGUE, FOREIGN_UID, KINDS, RANK, assert_rule_ids_well_formed, same

Json = dict[str, Any]
DS_TABLES = daemonset_rules.RULES + pod_rules.RULES
G_TABLES = resource_rules.RULES + pod_rules.RULES
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build_ds_pods(kinds: list[str], revisions: list[str], **extra: Any) -> list[Json]:
    """The pod on node ``i`` in state ``kinds[i]`` at ``revisions[i]`` ("missing": none)."""
    pods = []
    for node, (kind, revision) in enumerate(zip(kinds, revisions, strict=True)):
        changes = CATALOGUE[kind][1]
        if changes is not None:
            pods.append(ds_pod(node, revision=revision, **changes, **extra))
    return pods


@st.composite
def daemonsets(draw: st.DrawFn) -> tuple[Json, list[Json], list[Json]]:
    """A DaemonSet, the pods its selector matched, and (maybe) its ControllerRevisions."""
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=5))
    desired = len(kinds)
    hashes = st.sampled_from([DS_NEW_HASH, DS_OLD_HASH])
    revisions = draw(st.lists(hashes, min_size=desired, max_size=desired))
    obj = daemonset(
        desired=desired,
        strategy=draw(st.sampled_from(["RollingUpdate", "OnDelete"])),
        ready=draw(st.integers(min_value=0, max_value=desired)),
        updated=draw(st.integers(min_value=0, max_value=desired)),
        generation=2,
        observed=draw(st.sampled_from([1, 2, 2, 2])),
    )
    pods = build_ds_pods(kinds, revisions)
    # Second pods on some nodes (a surge, a pod on its way out) and look-alikes.
    # Pod names are unique in a namespace, as the API keeps them.
    for index, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), max_size=2))):
        changes = CATALOGUE[kind][1]
        if changes is not None:
            node = draw(st.integers(min_value=0, max_value=desired + 1))
            name = f"agent-x{index}{node}"
            pods.append(ds_pod(node, revision=draw(hashes), name=name, **changes))
    for index, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), max_size=2))):
        changes = CATALOGUE[kind][1]
        if changes is not None:
            node = draw(st.integers(min_value=0, max_value=desired + 1))
            name = f"agent-f{index}{node}"
            pods.append(ds_pod(node, owner_uid=FOREIGN_UID, name=name, **changes))
    return obj, pods, draw(st.sampled_from([[], REVISIONS, REVISIONS[1:]]))


@SETTINGS
@given(daemonsets(), st.randoms(use_true_random=False))
def test_permuting_pods_and_revisions_never_changes_a_daemonset_verdict(
    case: tuple[Json, list[Json], list[Json]], rng: random.Random
) -> None:
    obj, pods, revisions = case
    shuffled_pods, shuffled_revisions = list(pods), list(revisions)
    rng.shuffle(shuffled_pods)
    rng.shuffle(shuffled_revisions)
    assert same(
        evaluate_daemonset(obj, pods, now=NOW, revisions=revisions),
        evaluate_daemonset(obj, shuffled_pods, now=NOW, revisions=shuffled_revisions),
    )


@SETTINGS
@given(daemonsets())
def test_daemonset_rule_ids_are_in_table_order_and_name_each_pod_not_ready(
    case: tuple[Json, list[Json], list[Json]],
) -> None:
    obj, pods, revisions = case
    verdict = evaluate_daemonset(obj, pods, now=NOW, revisions=revisions)
    assert_rule_ids_well_formed(verdict, DS_TABLES)
    data = verdict.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data


@st.composite
def one_pod_made_worse(draw: st.DrawFn) -> tuple[list[str], int, str]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    index = draw(st.integers(min_value=0, max_value=len(kinds) - 1))
    current = RANK[CATALOGUE[kinds[index]][0]]
    worse = [k for k in KINDS if RANK[CATALOGUE[k][0]] > current] or [kinds[index]]
    return kinds, index, draw(st.sampled_from(worse))


@SETTINGS
@given(
    one_pod_made_worse(),
    st.sampled_from(["RollingUpdate", "OnDelete"]),
    st.sampled_from([1, 2]),
    st.lists(st.sampled_from([DS_NEW_HASH, DS_OLD_HASH]), min_size=5, max_size=5),
    st.booleans(),
)
def test_making_one_pod_worse_never_makes_a_daemonset_verdict_better(
    change: tuple[list[str], int, str],
    strategy: str,
    observed: int,
    hashes: list[str],
    with_revisions: bool,
) -> None:
    kinds, index, worse = change
    hashes = hashes[: len(kinds)]
    obj = daemonset(desired=len(kinds), strategy=strategy, generation=2, observed=observed)
    revisions = REVISIONS if with_revisions else []
    before = evaluate_daemonset(obj, build_ds_pods(kinds, hashes), now=NOW, revisions=revisions)
    worse_kinds = [*kinds[:index], worse, *kinds[index + 1 :]]
    pods = build_ds_pods(worse_kinds, hashes)
    after = evaluate_daemonset(obj, pods, now=NOW, revisions=revisions)
    assert RANK[after.state] >= RANK[before.state], (before.reason, after.reason)
    assert after.ready <= before.ready


DS_STATUS = sorted(daemonset()["status"])
DS_ESSENTIAL = {
    "desiredNumberScheduled",
    "currentNumberScheduled",
    "numberReady",
    "numberAvailable",
    "updatedNumberScheduled",
    "observedGeneration",
}


def _drop(obj: Json, keys: list[str], nulls: bool) -> Json:
    copy = deepcopy(obj)
    for key in keys:
        if nulls:
            copy["status"][key] = None
        else:
            copy["status"].pop(key, None)
    return copy


@SETTINGS
@given(st.lists(st.sampled_from(DS_STATUS), unique=True), st.booleans(), daemonsets())
def test_stripping_daemonset_status_never_raises_nor_invents_readiness(
    removed: list[str], nulls: bool, drawn: tuple[Json, list[Json], list[Json]]
) -> None:
    pods = [ds_pod(node) for node in range(3)]
    verdict = evaluate_daemonset(_drop(daemonset(), removed, nulls), pods, now=NOW)
    if DS_ESSENTIAL & set(removed):
        assert verdict.state is not State.READY, (removed, verdict.reason)
    obj, any_pods, revisions = drawn
    evaluate_daemonset(_drop(obj, removed, nulls), any_pods, now=NOW, revisions=revisions)
    for stripped in ({**obj, "status": None}, {k: v for k, v in obj.items() if k != "status"}):
        if obj["status"]["desiredNumberScheduled"]:
            assert evaluate_daemonset(stripped, any_pods, now=NOW).state is not State.READY


# --------------------------------------------------------------------------- resources


@SETTINGS
@given(st.lists(st.sampled_from(KINDS), max_size=5), st.randoms(use_true_random=False))
def test_permuting_the_pods_never_changes_a_resource_verdict(
    kinds: list[str], rng: random.Random
) -> None:
    pods = [broker(i, **changes) for i, k in enumerate(kinds) if (changes := CATALOGUE[k][1])]
    shuffled = list(pods)
    rng.shuffle(shuffled)
    obj = resource()
    assert same(evaluate_resource(obj, pods, now=NOW), evaluate_resource(obj, shuffled, now=NOW))


CONDITION_SETS: list[list[Json]] = [
    [condition("Ready", reason="Ready")],
    [condition("Ready", ago=12)],
    [condition("Ready", "False", reason="Failed")],
    [condition("Ready", ago=None), condition("Reconciling", reason="Rolling")],
]


@SETTINGS
@given(one_pod_made_worse(), st.sampled_from(CONDITION_SETS), st.sampled_from([1, 2]))
def test_making_one_pod_worse_never_makes_a_resource_verdict_better(
    change: tuple[list[str], int, str], conditions: list[Json], observed: int
) -> None:
    kinds, index, worse = change

    def judge(chosen: list[str]) -> Verdict:
        pods = [broker(i, **c) for i, k in enumerate(chosen) if (c := CATALOGUE[k][1]) is not None]
        obj = resource(conditions=conditions, generation=2, observed=observed)
        return evaluate_resource(obj, pods, now=NOW, failure_reasons=("Failed",))

    before, after = judge(kinds), judge([*kinds[:index], worse, *kinds[index + 1 :]])
    assert RANK[after.state] >= RANK[before.state], (before.reason, after.reason)
    assert after.ready <= before.ready


STATUS_KEYS = ["conditions", "observedGeneration"]
CONDITION_KEYS = ["type", "status", "lastTransitionTime", "reason", "observedGeneration"]


@SETTINGS
@given(
    st.lists(st.sampled_from(STATUS_KEYS), unique=True),
    st.lists(st.sampled_from(CONDITION_KEYS), unique=True),
    st.booleans(),
)
def test_stripped_resource_status_is_never_ready(
    status_removed: list[str], condition_removed: list[str], nulls: bool
) -> None:
    obj = resource(conditions=[condition("Ready", reason="Ready", observed=1)])
    ready = obj["status"]["conditions"][0]
    for fields, keys in ((ready, condition_removed), (obj["status"], status_removed)):
        for key in keys:
            del fields[key]
            if nulls:
                fields[key] = None
    verdict = evaluate_resource(obj, now=NOW)
    # a Ready=True without its lastTransitionTime cannot be timed (G7, as P7): never READY
    timed = {"type", "status", "lastTransitionTime"}
    essential = {"conditions"} & set(status_removed) or timed & set(condition_removed)
    assert (verdict.state is State.READY) == (not essential), verdict.reason
    for stripped in ({**obj, "status": None}, {k: v for k, v in obj.items() if k != "status"}):
        assert evaluate_resource(stripped, now=NOW).state is State.WAITING


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["Ready", "True", "False", "Stalled", "Reconciling", "2026-11-02T11:50:00Z"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_VALUES = JSON | st.sampled_from(["Ready", "True", "Stalled", "2026-11-02T11:50:00Z", 1, 2])
CONDITION_LIKE = st.dictionaries(
    st.sampled_from([*CONDITION_KEYS, "message"]), FIELD_VALUES, max_size=6
)
CONDITIONS = JSON | st.lists(CONDITION_LIKE | JSON, max_size=4)


def _well_formed_ready(conditions: Any, window: float) -> bool:
    """A readable list whose every Ready entry is True, each timed when a window is asked
    (issue 15: a later duplicate counts, an untimed one is not stable): the only way to
    be READY."""
    if not isinstance(conditions, list):
        return False
    if not all(
        isinstance(c, dict) and isinstance(c.get("type"), str) and c["type"] for c in conditions
    ):
        return False
    ready = [c for c in conditions if c["type"] == "Ready"]
    timed = window <= 0 or all(
        isinstance(c.get("lastTransitionTime"), str)
        and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c["lastTransitionTime"])
        for c in ready
    )
    return bool(ready) and all(c.get("status") == "True" for c in ready) and timed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONDITIONS, st.sampled_from([(), ("Failed", "True")]), st.sampled_from([0.0, 60.0]))
def test_malformed_conditions_of_any_json_shape_never_raise(
    conditions: Any, failure_reasons: tuple[str, ...], window: float
) -> None:
    obj = resource()
    obj["status"]["conditions"] = conditions
    policy = ReadinessPolicy(min_stable_seconds=window)
    verdict = evaluate_resource(
        obj, [broker(0)], now=NOW, policy=policy, failure_reasons=failure_reasons
    )
    assert_rule_ids_well_formed(verdict, G_TABLES)
    data = verdict.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    if verdict.state is State.READY:
        assert _well_formed_ready(conditions, window), conditions
    obj["status"] = conditions  # the whole status malformed, too
    evaluate_resource(obj, now=NOW, policy=policy)
