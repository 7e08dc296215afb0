"""When a watching trigger wakes by itself: at the first window's end, from the judging instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airflow_sts_provider.readiness import PodReport, State, Verdict
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger

JUDGED = datetime(2026, 12, 2, 5, 26, 50, 999_900, tzinfo=UTC)  # 0.1 ms before the window ends
READY_SINCE = datetime(2026, 12, 2, 5, 26, 21, tzinfo=UTC)  # a 30 s window ends at :51


def stabilizing() -> Verdict:
    pod = PodReport(
        "web-2", State.WAITING, "web-2: stabilizing 29s of 30s", READY_SINCE, 0, "r", None, None
    )
    return Verdict(
        "StatefulSet", "web", "default", State.WAITING, "2 of 3 ready", 3, 2, "r", (pod,)
    )


@pytest.mark.parametrize(
    ("judged_at", "at_most"),
    [(JUDGED, 0.06), (JUDGED + timedelta(milliseconds=1), 30.0)],
    ids=[
        "a window that ends right after the judgement wakes the trigger then",
        "counted from a later reading of the clock it looks elapsed: a whole check_interval",
    ],
)
def test_the_wake_is_counted_from_the_judgement(judged_at: datetime, at_most: float) -> None:
    trigger = StatefulSetRunningTrigger(
        name="web", namespace="default", policy={"min_stable_seconds": 30}, check_interval=30
    )
    wake = trigger._next_wake(stabilizing(), judged_at)
    assert wake <= at_most
    assert wake > at_most / 2


def test_a_release_trigger_wakes_at_its_first_workloads_window_counted_the_same_way() -> None:
    from airflow_sts_provider.triggers.workloads import WorkloadsRunningTrigger
    from airflow_sts_provider.workloads import combine

    trigger = WorkloadsRunningTrigger(
        label_selector="app.kubernetes.io/instance=shop",
        kinds=["StatefulSet"],
        namespace="default",
        policy={"min_stable_seconds": 30},
        check_interval=30,
    )
    release = combine("app.kubernetes.io/instance=shop", "default", [stabilizing()])
    assert 0.03 < trigger._wake(release, JUDGED) <= 0.06
    nothing_stabilizing = combine("app.kubernetes.io/instance=shop", "default", [])
    assert trigger._wake(nothing_stabilizing, JUDGED) == 30.0
