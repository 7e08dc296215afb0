"""The rules' cost follows the pods that exist, not ``spec.replicas``.

``replicas: 1000000`` took 6.5 s and ~300 MiB and the int32 maximum never finished:
S9 built a report for every expected ordinal. In deferrable mode that blocks the
triggerer's loop for every trigger. Missing ordinals are now named up to a bound and
counted beyond it.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.readiness import State, evaluate_statefulset
from airflow_sts_provider.readiness import statefulset as statefulset_rules
from airflow_sts_provider.readiness.statefulset import MAX_MISSING_NAMED

from .builders import NOW, sts, sts_pods

INT32_MAX = 2**31 - 1


def missing_reports(replicas: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many missing-pod reports judging ``replicas`` desired and 3 present builds:
    the work that would grow with what is desired (counted, not timed)."""
    built = 0
    real = statefulset_rules._missing_pod

    def counting(name: str) -> Any:
        nonlocal built
        built += 1
        return real(name)

    monkeypatch.setattr(statefulset_rules, "_missing_pod", counting)
    evaluate_statefulset(sts(replicas=replicas, ready=3, created=3), sts_pods(3), now=NOW)
    monkeypatch.undo()
    return built


def test_the_int32_maximum_of_replicas_is_judged_like_a_bounded_set() -> None:
    verdict = evaluate_statefulset(
        sts(replicas=INT32_MAX, ready=3, created=3), sts_pods(3), now=NOW
    )
    assert verdict.state is State.WAITING
    assert verdict.desired == INT32_MAX
    assert len(verdict.pods) == 3 + MAX_MISSING_NAMED
    assert "S9" in verdict.rules
    unlisted = INT32_MAX - 3 - MAX_MISSING_NAMED
    assert f"{unlisted} more ordinals not created yet" in verdict.reason


@pytest.mark.parametrize("replicas", [10**6, INT32_MAX], ids=["a million", "the int32 maximum"])
def test_the_cost_is_bounded_by_what_exists_not_by_what_is_desired(
    replicas: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounded = missing_reports(MAX_MISSING_NAMED + 3, monkeypatch)
    # the same work: every present pod and MAX missing ones
    assert missing_reports(replicas, monkeypatch) == bounded == MAX_MISSING_NAMED


def test_a_set_within_the_bound_still_names_every_missing_ordinal() -> None:
    verdict = evaluate_statefulset(sts(replicas=6, ready=2, created=2), sts_pods(2), now=NOW)
    assert [pod.name for pod in verdict.pods][2:] == ["web-2", "web-3", "web-4", "web-5"]
    assert "more ordinals" not in verdict.reason
