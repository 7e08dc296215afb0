"""What a verdict carries into an XCom or a trigger event stays small, however big the workload.

Airflow keeps both in its metadata DB: a 1,000,000-replica set once made a 1.79 MB
verdict, a 3,000-pod custom resource 0.66 MB. Counts stay exact; the cut is said.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_sts_provider.readiness import (
    State,
    Verdict,
    evaluate_resource,
    evaluate_statefulset,
)
from airflow_sts_provider.workloads import combine

from .builders import NOW, pod, resource, sts, sts_pods

LIMIT = 64 * 1024

EVENTS = [
    f"BackOff: Back-off restarting failed container main in pod {i} " + "x" * 200 for i in range(5)
]


def crashing(count: int) -> list[dict[str, Any]]:
    return [pod(i, waiting="CrashLoopBackOff", message="m" * 300, restarts=9) for i in range(count)]


def with_events(verdict: Verdict) -> Verdict:
    return verdict.with_pod_events({p.name: EVENTS for p in verdict.pods})


def size(payload: Any) -> int:
    return len(json.dumps(payload))


CASES = {
    "a million replicas and no pod": lambda: evaluate_statefulset(
        sts(replicas=1_000_000, created=0, ready=0, current=0, updated=0, available=0), [], now=NOW
    ),
    "3,000 crash-looping pods with their events": lambda: with_events(
        evaluate_statefulset(sts(replicas=3000, ready=0), crashing(3000), now=NOW)
    ),
    "a custom resource with 3,000 pods": lambda: evaluate_resource(
        resource(), sts_pods(3000, ready=False), now=NOW
    ),
}


@pytest.mark.parametrize("build", CASES.values(), ids=list(CASES))
def test_a_huge_verdict_fits_with_exact_counts_and_says_what_was_cut(build: Any) -> None:
    verdict = build()
    payload = verdict.to_dict()
    assert size(payload) <= LIMIT
    assert (payload["desired"], payload["ready"]) == (verdict.desired, verdict.ready)
    assert payload["pods_omitted"] == len(verdict.pods) - len(payload["pods"]) > 0
    assert payload["state"] == verdict.state.value != "ready"
    assert payload["rules"] == list(verdict.rules)


def test_the_worst_pods_are_the_ones_kept() -> None:
    pods = [*sts_pods(200), pod(200, waiting="CrashLoopBackOff", restarts=3)]
    verdict = evaluate_statefulset(sts(replicas=201), pods, now=NOW)
    kept = verdict.to_dict(limit=4096)["pods"]
    assert kept[0]["name"].endswith("-200") and kept[0]["state"] == "failed"


def test_a_small_verdict_is_whole_with_exactly_the_contract_keys() -> None:
    verdict = evaluate_statefulset(sts(replicas=3), sts_pods(3), now=NOW)
    payload = verdict.to_dict()
    assert "pods_omitted" not in payload
    assert len(payload["pods"]) == 3
    keys = "kind name namespace state reason desired ready revision pods rules"
    assert set(payload) == set(keys.split())


def test_a_release_of_400_big_workloads_fits_and_lists_the_failing_first() -> None:
    verdicts = [CASES["3,000 crash-looping pods with their events"]()] + [
        Verdict("StatefulSet", f"w{i:03}", "default", State.WAITING, "r" * 3000, 3, 0, None, ())
        for i in range(399)
    ]
    verdicts[0] = Verdict(**{**verdicts[0].__dict__, "name": "zz-last-by-name"})
    payload = combine("app=shop", "default", verdicts).to_dict()
    assert size(payload) <= LIMIT
    assert payload["workloads"][0]["name"] == "zz-last-by-name"
    assert payload["workloads_omitted"] == 400 - len(payload["workloads"]) > 0
