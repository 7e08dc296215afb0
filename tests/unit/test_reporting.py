"""What an operator reads at 3 a.m.: a summary line that fits, a failure whose first line
says what and where, the pods on the lines after it."""

from __future__ import annotations

from airflow_sts_provider.readiness import PodReport, State, Verdict
from airflow_sts_provider.reporting import MAX_POD_LINES, failure_message, summary_line


def crashing(count: int) -> Verdict:
    pods = tuple(
        PodReport(f"web-{i}", State.FAILED, f"web-{i}: CrashLoopBackOff " + "x" * 200, None, 9,
                  "a", None, None)
        for i in range(count)
    )  # fmt: skip
    reason = "; ".join(pod.reason for pod in pods)
    return Verdict("StatefulSet", "web", "shop", State.FAILED, reason, count, 0, "web-7b8f", pods)


def test_a_summary_line_fits_a_log_view_however_long_the_reason() -> None:
    assert len(summary_line(crashing(3000))) <= 250


def test_a_failure_says_what_and_where_first_then_at_most_fifty_pods() -> None:
    lines = failure_message(crashing(3000)).splitlines()
    assert lines[0] == "StatefulSet shop/web is not coming up (0 of 3000 ready, revision web-7b8f):"
    assert len(lines) == 1 + MAX_POD_LINES + 2  # the pods, the count cut, how to inspect
    assert lines[-2] == "  ... and 2950 more failing pods"


def test_a_resource_judged_without_pods_shows_no_pod_count() -> None:
    kafka = Verdict("Kafka", "kafka", "shop", State.WAITING, "Ready=False: NotReady", 0, 0, "4", ())
    assert summary_line(kafka) == "Kafka shop/kafka: WAITING, revision 4: Ready=False: NotReady"
    failed = Verdict("Kafka", "kafka", "shop", State.FAILED, "Stalled=True", 0, 0, None, ())
    assert failure_message(failed).splitlines()[0] == "Kafka shop/kafka is not coming up:"
