"""Timestamps are RFC 3339 as the API server writes them, or unreadable (issue 15, 3, item 12).

One parser (:func:`readiness.checks.parse_time`) reads every stamp the rules time
by. It used to take whatever ``datetime.fromisoformat`` takes: a date alone
(midnight: a restart made minutes ago looked twelve hours old), a time without a
zone (taken as UTC, whatever zone it was written in), week dates, an offset with
seconds. Now anything but ``2026-11-02T11:59:30Z`` (fractions allowed, ``Z`` or a
``+hh:mm`` offset; Strimzi's ``+hhmm`` too) is unreadable, and each rule treats it
as it treats an absent time: never READY (P7, G7), never FAILED by a grace it
cannot time (P3b, P3c, P5).
"""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_sts_provider.readiness import (
    ReadinessPolicy,
    State,
    Verdict,
    evaluate_pod,
    evaluate_resource,
)
from airflow_sts_provider.readiness.checks import age, latest_of_all, latest_time, parse_time

from .builders import NOW, pod, resource, ts
from .table import Scenario, case, check

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED
Json = dict[str, Any]
THIRTY_SECONDS_AGO = datetime(2026, 11, 2, 11, 59, 30, tzinfo=UTC)

READ = [
    pytest.param("2026-11-02T11:59:30Z", THIRTY_SECONDS_AGO, id="the API server's own form"),
    pytest.param(
        "2026-11-02T11:59:30.250000Z",
        THIRTY_SECONDS_AGO.replace(microsecond=250000),
        id="a MicroTime with its fraction",
    ),
    pytest.param(
        "2026-11-02T11:59:30.123456789Z",
        THIRTY_SECONDS_AGO.replace(microsecond=123456),
        id="nanoseconds, as Go's RFC3339Nano writes them, cut to microseconds",
    ),
    pytest.param("2026-11-02T12:59:30+01:00", THIRTY_SECONDS_AGO, id="an offset east of UTC"),
    pytest.param("2026-11-02T06:29:30-05:30", THIRTY_SECONDS_AGO, id="an offset west of UTC"),
    pytest.param("2026-11-02T11:59:30-00:00", THIRTY_SECONDS_AGO, id="the unknown-local offset"),
    pytest.param(
        "2026-11-02T11:59:30+0000",
        THIRTY_SECONDS_AGO,
        id="Strimzi's offset without a colon (test_argo_cr_fixtures reads it)",
    ),
]

UNREADABLE = [
    pytest.param("2026-11-02", id="a date alone (it read as midnight)"),
    pytest.param("2026-11-02T11:59:30", id="a time without a zone (it read as UTC)"),
    pytest.param("2026-11-02T11:59:30.5", id="a fraction without a zone"),
    pytest.param("2026-11-02T11:59:30+01:00:00", id="an offset with seconds after it"),
    pytest.param("2026-11-02T11:59:30.Z", id="a dot without a fraction"),
    pytest.param("2026-11-02T11:59:30,5Z", id="a comma before the fraction"),
    pytest.param("2026-11-02 11:59:30Z", id="a space for the T"),
    pytest.param("20261102T115930Z", id="ISO 8601's basic form"),
    pytest.param("2026-W45-1T11:59:30Z", id="a week date"),
    pytest.param("2026-306T11:59:30Z", id="an ordinal date"),
    pytest.param("2026-11-02T11:59Z", id="no seconds"),
    pytest.param("2026-11-02T11Z", id="the hour alone"),
    pytest.param("2026-11-02t11:59:30z", id="lower-case t and z, which the API server refuses"),
    pytest.param("2026-11-02T11:59:30Z\n", id="a line break after it"),
    pytest.param(" 2026-11-02T11:59:30Z", id="a space before it"),
    pytest.param("\uff12\uff10\uff12\uff16-11-02T11:59:30Z", id="digits that are not ASCII"),
    pytest.param("2026-13-02T11:59:30Z", id="month 13"),
    pytest.param("2026-11-02T24:00:00Z", id="hour 24"),
    pytest.param("", id="an empty string"),
    pytest.param(None, id="null"),
    pytest.param(1793620770, id="a number of seconds"),
]


@pytest.mark.parametrize(("stamp", "moment"), READ)
def test_an_rfc3339_time_is_read_as_the_instant_it_names(stamp: str, moment: datetime) -> None:
    assert parse_time(stamp) == moment
    assert latest_of_all([stamp]) == moment
    assert latest_time([stamp]) == moment


@pytest.mark.parametrize("stamp", UNREADABLE)
def test_anything_else_is_unreadable(stamp: Any) -> None:
    assert parse_time(stamp) is None
    assert age(stamp, NOW) is None
    assert latest_of_all([ts(5), stamp]) is None, "a window timed by some stamps is not timed"
    assert latest_time([stamp, ts(5)]) == parse_time(ts(5)), "skipped, the others read"


# --------------------------------------------------------------------------- each rule


def _pod_with(obj: Json, where: str, stamp: str) -> Json:
    """A copy of pod ``obj`` with one of its stamps replaced by ``stamp``."""
    copy = deepcopy(obj)
    status = copy["status"]
    if where == "creationTimestamp":
        copy["metadata"]["creationTimestamp"] = stamp
    elif where == "startedAt":
        status["containerStatuses"][0]["state"]["running"]["startedAt"] = stamp
    elif where == "finishedAt":
        status["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"] = stamp
    else:  # a condition's lastTransitionTime
        (cond,) = [c for c in status["conditions"] if c["type"] == where]
        cond["lastTransitionTime"] = stamp
    return copy


RESTARTED = pod(1, restarts=1, last_state=False, started_ago=40, ready_for=35)
"""Restarted 40 s ago (P4 fails it); the kubelet lost ``lastState`` (a node restart)."""
OOM = pod(
    1, restarts=1, last_exit=137, last_reason="OOMKilled", last_finished_ago=30, started_ago=25
)
NOT_FOUND = 'failed to pull and unpack image "registry.example.com/shop/main:1.4.3": not found'
SHORT_WINDOW = ReadinessPolicy(min_stable_seconds=30)


def _resource_stamped(stamp: str) -> Json:
    return resource(conditions=[{"type": "Ready", "status": "True", "lastTransitionTime": stamp}])


CASES = [
    # P7 (and P4 through the start of the current run)
    case(
        "a restart 40 s ago, its start readable, fails the pod (the line below: a date)",
        lambda: evaluate_pod(RESTARTED, now=NOW),
        FAILED,
        "exit details not reported, 40s ago",
        rules=("P4",),
    ),
    case(
        "a date-only container start cannot hide a restart made seconds ago",
        lambda: evaluate_pod(_pod_with(RESTARTED, "startedAt", "2026-11-02"), now=NOW),
        WAITING,
        "container main running.startedAt not RFC 3339: '2026-11-02'",
        "cannot be timed",
        rules=("P7",),
    ),
    case(
        "a Ready transition without a zone cannot be timed (written at +01:00, read an hour old)",
        lambda: evaluate_pod(_pod_with(pod(1), "Ready", "2026-11-02T10:59:30"), now=NOW),
        WAITING,
        "condition Ready lastTransitionTime not RFC 3339",
        rules=("P7",),
    ),
    case(
        "a container start with junk after its offset cannot be timed",
        lambda: evaluate_pod(
            _pod_with(pod(1), "startedAt", "2026-11-02T11:59:30+01:00:00"), now=NOW
        ),
        WAITING,
        "cannot be timed",
        rules=("P7",),
    ),
    # P4
    case(
        "a date-only finishedAt does not push an OOM kill out of the restart window",
        lambda: evaluate_pod(
            _pod_with(OOM, "finishedAt", "2026-11-02"), now=NOW, policy=SHORT_WINDOW
        ),
        FAILED,
        "web-1 container main: OOMKilled, exit 137, 25s ago",
        rules=("P4",),
    ),
    # graces: never FAILED on a time that cannot be read
    case(
        "an Unschedulable transition of a date alone does not end the scheduling grace",
        lambda: evaluate_pod(
            _pod_with(pod(1, unschedulable_for=30), "PodScheduled", "2026-11-02"), now=NOW
        ),
        WAITING,
        "Unschedulable for ?s of 300s grace",
        rules=("P5",),
    ),
    case(
        "a creation time without a zone does not end the image pull grace",
        lambda: evaluate_pod(
            _pod_with(
                pod(1, waiting="ErrImagePull", message=NOT_FOUND, created_ago=30),
                "creationTimestamp",
                "2026-11-02T09:59:30",
            ),
            now=NOW,
        ),
        WAITING,
        "ErrImagePull, ?s of 120s grace",
        rules=("P3b",),
    ),
    # G7
    case(
        "a resource's date-only lastTransitionTime is unreadable, not midnight",
        lambda: evaluate_resource(_resource_stamped("2026-11-02"), now=NOW),
        WAITING,
        "status.conditions[0].lastTransitionTime unreadable: '2026-11-02'",
        rules=("G7",),
    ),
    case(
        "a resource's transition in the API server's own form is timed",
        lambda: evaluate_resource(_resource_stamped(ts(600)), now=NOW),
        READY,
        "Ready=True for 600s",
        rules=(),
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_each_rule_treats_an_unreadable_time_as_an_absent_one(
    scenario: Scenario[Any],
) -> None:
    verdict: Verdict = scenario.given()
    check(verdict, scenario)


@pytest.mark.parametrize("place", [i for i in range(19) if i not in (4, 7, 10, 13, 16)])
def test_the_api_form_reads_only_ascii_digits_between_its_separators(place: int) -> None:
    """:func:`parse_time` skips the pattern for ``YYYY-MM-DDTHH:MM:SSZ``: nothing else may pass."""
    stamp = "2026-11-02T11:59:30Z"
    others = [chr(code) for code in range(0x250) if not chr(code).isdigit()]
    others += ["\uff12", "\u0662", "\U0001d7d0", "\u00b2"]
    for other in others:
        assert parse_time(stamp[:place] + other + stamp[place + 1 :]) is None, repr(other)
