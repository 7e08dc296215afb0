"""A release's verdict from its workloads' verdicts: the worst state wins, failures named."""

from __future__ import annotations

import pytest

from airflow_sts_provider.readiness import State, Verdict
from airflow_sts_provider.workloads import combine, release_failure

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED


def verdict(kind: str, name: str, state: State, reason: str = "") -> Verdict:
    return Verdict(kind, name, "shop", state, reason or f"{state.value}", 3, 3, None, ())


@pytest.mark.parametrize(
    ("workloads", "state", "words"),
    [
        ((), WAITING, "no workload matches app.kubernetes.io/instance=kafka in namespace shop"),
        (
            (verdict("StatefulSet", "kafka", READY), verdict("Deployment", "ui", READY)),
            READY,
            "2 of 2 workloads ready (Deployment ui, StatefulSet kafka)",
        ),
        (
            (
                verdict("StatefulSet", "kafka", READY),
                verdict("DaemonSet", "agent", WAITING, "1 of 3"),
            ),
            WAITING,
            "1 of 2 workloads ready; DaemonSet agent: 1 of 3",
        ),
        (
            (
                verdict("StatefulSet", "kafka", FAILED, "kafka-1: CrashLoopBackOff"),
                verdict("DaemonSet", "agent", WAITING),
            ),
            FAILED,
            "0 of 2 workloads ready; StatefulSet kafka: kafka-1: CrashLoopBackOff",
        ),
    ],
    ids=[
        "nothing matched yet waits",
        "every workload ready is ready, each named",
        "one waiting workload makes the release wait, naming it",
        "one failing workload fails the release, naming it and its pod",
    ],
)
def test_combine(workloads: tuple[Verdict, ...], state: State, words: str) -> None:
    release = combine("app.kubernetes.io/instance=kafka", "shop", workloads)
    assert release.state is state
    assert words in release.reason
    assert len(release.to_dict()["workloads"]) == len(workloads)


def test_the_report_holds_the_selector_and_one_verdict_per_workload() -> None:
    release = combine("app=x", "shop", [verdict("StatefulSet", "a", READY)])
    report = release.to_dict()
    assert set(report) == {"selector", "namespace", "state", "reason", "workloads"}
    assert report["workloads"][0]["kind"] == "StatefulSet"


def test_the_failure_message_names_each_failing_workload() -> None:
    release = combine(
        "app=x",
        "shop",
        [
            verdict("StatefulSet", "db", FAILED, "db-0: OOMKilled"),
            verdict("Deployment", "ui", READY),
        ],
    )
    text = release_failure(release)
    assert text.splitlines()[0] == "Workloads app=x in shop are not coming up:"
    assert "StatefulSet shop/db is not coming up" in text
    assert "Deployment shop/ui" not in text
