"""A trigger event (verdict and message) stays under 64 KB in Airflow's metadata DB."""

from __future__ import annotations

import json

from airflow_sts_provider.readiness import PodReport, State, Verdict
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger


def test_a_failure_of_thousands_of_pods_makes_an_event_under_64_kb() -> None:
    pods = tuple(
        PodReport(
            f"web-{i}", State.FAILED, "CrashLoopBackOff " + "x" * 1000, None, 9, "a", None, None
        )
        for i in range(3000)
    )
    reason = "; ".join(pod.reason for pod in pods)
    trigger = StatefulSetRunningTrigger(name="web", namespace="default")
    trigger._last = Verdict(
        "StatefulSet", "web", "default", State.FAILED, reason, 3000, 0, "a", pods
    )
    event = trigger._event("failed", reason)
    assert len(json.dumps(event)) <= 64 * 1024
    assert event["verdict"]["pods_omitted"] > 0
    assert event["message"].endswith("more characters cut)")
