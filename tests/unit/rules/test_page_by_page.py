"""A workload judged page by page gets the verdict of its whole list, and never passes sooner.

The hook hands a large workload's pods to the rules one page at a time
(``start_*`` + :meth:`Judgement.add_pods`), so it holds a pod's report, not the
pod. These properties pin that down for every kind: any cut of the pods into
pages, with non-object entries among them and a LIST restarted halfway
(:meth:`Judgement.clear_pods`), gives exactly ``evaluate_*``'s verdict; and pods
judged at an earlier ``now`` (a page read before the last one) never make a
verdict READY that the later ``now`` would not.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sts_provider.readiness import (
    Judgement,
    ReadinessPolicy,
    State,
    Verdict,
    evaluate_daemonset,
    evaluate_deployment,
    evaluate_resource,
    evaluate_statefulset,
    start_daemonset,
    start_deployment,
    start_resource,
    start_statefulset,
)

from .builders import NEW_HASH, NOW, OLD_HASH, broker, deployment, replicaset, resource, rs_pod
from .test_properties import CATALOGUE, KINDS, same, statefulsets
from .test_properties_daemonset_resource import daemonsets

Json = dict[str, Any]
#: A workload case: (start a judgement, judge the whole list at once, the pods).
Case = tuple[Callable[[], Judgement], Callable[[list[Any]], Verdict], list[Any]]

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def statefulset_cases(draw: st.DrawFn) -> Case:
    obj, pods = draw(statefulsets())
    return (
        lambda: start_statefulset(obj),
        lambda listed: evaluate_statefulset(obj, listed, now=NOW),
        pods,
    )


@st.composite
def deployment_cases(draw: st.DrawFn) -> Case:
    new_kinds = draw(st.lists(st.sampled_from(KINDS), max_size=4))
    old_kinds = draw(st.lists(st.sampled_from(KINDS), max_size=3))
    pods = [rs_pod(i, **(CATALOGUE[k][1] or {})) for i, k in enumerate(new_kinds)]
    pods += [
        rs_pod(i, pod_hash=OLD_HASH, **(CATALOGUE[k][1] or {})) for i, k in enumerate(old_kinds)
    ]
    sets = [replicaset(NEW_HASH), replicaset(OLD_HASH, revision="1", replicas=0)]
    obj = deployment(replicas=len(new_kinds), total=len(new_kinds) + len(old_kinds))
    return (
        lambda: start_deployment(obj, sets),
        lambda listed: evaluate_deployment(obj, sets, listed, now=NOW),
        pods,
    )


@st.composite
def daemonset_cases(draw: st.DrawFn) -> Case:
    obj, pods, revisions = draw(daemonsets())
    return (
        lambda: start_daemonset(obj, revisions=revisions),
        lambda listed: evaluate_daemonset(obj, listed, now=NOW, revisions=revisions),
        pods,
    )


@st.composite
def resource_cases(draw: st.DrawFn) -> Case:
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=5))
    pods = [broker(i, **changes) for i, k in enumerate(kinds) if (changes := CATALOGUE[k][1])]
    obj = resource()
    return (
        lambda: start_resource(obj),
        lambda listed: evaluate_resource(obj, listed, now=NOW),
        pods,
    )


CASES = {
    "StatefulSet": statefulset_cases(),
    "Deployment": deployment_cases(),
    "DaemonSet": daemonset_cases(),
    "resource": resource_cases(),
}
KIND_IDS = list(CASES)


def pages_of(items: list[Any], cuts: list[int]) -> list[list[Any]]:
    """``items`` cut at the positions ``cuts`` (each taken modulo the length)."""
    edges = sorted({0, len(items), *(c % (len(items) + 1) for c in cuts)})
    return [items[a:b] for a, b in itertools.pairwise(edges)] or [[]]


@pytest.mark.parametrize("kind", KIND_IDS)
@SETTINGS
@given(data=st.data())
def test_any_cut_into_pages_gives_the_verdict_of_the_whole_list(
    kind: str, data: st.DataObject
) -> None:
    start, whole, pods = data.draw(CASES[kind])
    listed = list(pods)
    for at in data.draw(st.lists(st.integers(min_value=0, max_value=20), max_size=2)):
        listed.insert(at % (len(listed) + 1), None)  # a null entry a slim decode fell back on
    judgement = start()
    for page in pages_of(listed, data.draw(st.lists(st.integers(0, 30), max_size=4))):
        judgement.add_pods(page, NOW)
    assert same(judgement.verdict(NOW), whole(listed))


@pytest.mark.parametrize("kind", KIND_IDS)
@SETTINGS
@given(data=st.data())
def test_a_list_restarted_halfway_forgets_its_first_pages(kind: str, data: st.DataObject) -> None:
    start, whole, pods = data.draw(CASES[kind])
    _, _, before = data.draw(CASES[kind])  # what the first attempt listed, before pods changed
    judgement = start()
    judgement.add_pods([*before, None], NOW)  # then the continue token expired
    judgement.clear_pods()
    for page in pages_of(pods, data.draw(st.lists(st.integers(0, 30), max_size=3))):
        judgement.add_pods(page, NOW)
    assert same(judgement.verdict(NOW), whole(pods))


@pytest.mark.parametrize("kind", KIND_IDS)
@SETTINGS
@given(data=st.data(), earlier=st.sampled_from([1, 20, 45, 400, 4000]))
def test_pods_judged_earlier_never_pass_sooner(
    kind: str, data: st.DataObject, earlier: int
) -> None:
    start, whole, pods = data.draw(CASES[kind])
    judgement = start()
    judgement.add_pods(pods, NOW - timedelta(seconds=earlier))
    if judgement.verdict(NOW).state is State.READY:
        assert whole(pods).state is State.READY


@pytest.mark.parametrize(
    ("pages", "finding"),
    [
        (["web-0"], "pods is not a list (string)"),
        ([[{}], [None, {}]], "pods[1] is not an object"),
    ],
    ids=["a pods page that is not a list is told", "an entry is named by its place in the list"],
)
def test_wrong_entries_are_named_as_in_the_whole_list(pages: list[Any], finding: str) -> None:
    judgement = start_statefulset({"metadata": {"name": "web"}, "spec": {"replicas": 0}})
    for page in pages:
        judgement.add_pods(page, NOW)
    verdict = judgement.verdict(NOW)
    assert [f.text for f in verdict.findings if f.rule == "S9"] == [finding]


def test_the_policy_is_checked_when_the_judgement_starts() -> None:
    with pytest.raises(TypeError, match="policy must be a ReadinessPolicy"):
        start_statefulset({}, policy={"min_stable_seconds": 0})  # type: ignore[arg-type]
    judgement = start_statefulset({}, policy=ReadinessPolicy(min_stable_seconds=0))
    with pytest.raises(ValueError, match="timezone-aware"):
        judgement.add_pods([], NOW.replace(tzinfo=None))
