"""The contract around the rules: policy validation, ``to_dict``, helpers, ``now``."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any

import pytest

from airflow_sts_provider.readiness import (
    PodReport,
    ReadinessPolicy,
    State,
    Verdict,
    evaluate_deployment,
    evaluate_pod,
    evaluate_statefulset,
)
from airflow_sts_provider.readiness.checks import latest_time
from airflow_sts_provider.readiness.verdict import Finding

from .builders import NOW, pod, sts, sts_pods

CRASH: dict[str, Any] = {"waiting": "CrashLoopBackOff", "restarts": 4, "last_exit": 1}
VERDICT_KEYS = [
    "kind",
    "name",
    "namespace",
    "state",
    "reason",
    "desired",
    "ready",
    "revision",
    "pods",
    "rules",
]
POD_KEYS = [
    "name",
    "state",
    "reason",
    "ready_since",
    "restarts",
    "revision",
    "pod_ip",
    "node",
    "rule",
]


def test_state_values_are_the_contract() -> None:
    assert [s.value for s in State] == ["ready", "waiting", "failed"]
    assert State.READY == "ready"  # type: ignore[comparison-overlap]
    assert isinstance(State.FAILED, str)


def test_policy_defaults_are_the_contract() -> None:
    assert {f.name: f.default for f in fields(ReadinessPolicy)} == {
        "min_stable_seconds": 60.0,
        "max_restarts": 0,
        "restart_window_seconds": 900.0,
        "image_pull_grace_seconds": 120.0,
        "config_error_grace_seconds": 60.0,
        "unschedulable_grace_seconds": 300.0,
        "require_updated_on_delete": False,
    }


@pytest.mark.parametrize(
    "field",
    [
        "min_stable_seconds",
        "max_restarts",
        "restart_window_seconds",
        "image_pull_grace_seconds",
        "config_error_grace_seconds",
        "unschedulable_grace_seconds",
    ],
)
def test_a_negative_policy_value_is_refused_naming_the_field_and_the_fix(field: str) -> None:
    with pytest.raises(ValueError) as raised:
        ReadinessPolicy(**{field: -1})  # type: ignore[arg-type]
    message = str(raised.value)
    assert f"ReadinessPolicy.{field} must be >= 0, got -1" in message
    assert "use 0 to" in message


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        pytest.param({"min_stable_seconds": float("nan")}, "min_stable_seconds", id="NaN seconds"),
        pytest.param({"max_restarts": 1.5}, "whole number", id="fractional restarts"),
        pytest.param({"max_restarts": True}, "whole number", id="a bool for restarts"),
        pytest.param({"min_stable_seconds": "60"}, "number of seconds", id="seconds as text"),
        pytest.param(
            {"require_updated_on_delete": "yes"}, "True or False", id="a string for a flag"
        ),
    ],
)
def test_a_policy_of_the_wrong_type_is_refused(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ReadinessPolicy(**kwargs)


def test_zero_and_integer_seconds_are_a_valid_policy() -> None:
    policy = ReadinessPolicy(min_stable_seconds=0, restart_window_seconds=30, max_restarts=3)
    assert policy.min_stable_seconds == 0


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_pod(pod(0), now=datetime(2026, 11, 2, 12, 0))
    with pytest.raises(TypeError, match="datetime"):
        evaluate_statefulset(sts(), [], now="2026-11-02T12:00:00Z")  # type: ignore[arg-type]


def test_a_policy_that_is_not_a_policy_is_refused() -> None:
    with pytest.raises(TypeError, match="ReadinessPolicy"):
        evaluate_deployment({}, [], [], now=NOW, policy={"min_stable_seconds": 0})  # type: ignore[arg-type]


def test_to_dict_has_exactly_the_contract_keys_and_is_json() -> None:
    verdict = evaluate_statefulset(sts(ready=2), [*sts_pods(2), pod(2, **CRASH)], now=NOW)
    data = verdict.to_dict()
    assert list(data) == VERDICT_KEYS
    assert data["state"] == "failed"
    assert [list(p) for p in data["pods"]] == [POD_KEYS] * 3
    assert data["pods"][0]["ready_since"] == "2026-11-02T11:50:00Z"
    assert data["pods"][2]["ready_since"] is None
    assert data["pods"][2]["state"] == "failed"
    assert data["rules"] == ["S5", "S10", "P3"]
    assert [p["rule"] for p in data["pods"]] == [None, None, "P3"]
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_ready_since_keeps_fractions_of_a_second_in_rfc3339() -> None:
    verdict = evaluate_pod(pod(0, ready_for=600.25), now=NOW)
    assert verdict.to_dict()["pods"][0]["ready_since"] == "2026-11-02T11:49:59.750000Z"


def test_failing_and_pending_pods_split_the_reports() -> None:
    verdict = evaluate_statefulset(
        sts(replicas=4, ready=2), [pod(0), pod(1, ready_for=5), pod(2, **CRASH)], now=NOW
    )
    assert [p.name for p in verdict.failing_pods] == ["web-2"]
    assert [p.name for p in verdict.pending_pods] == ["web-1", "web-3"]
    assert [p.name for p in verdict.not_ready_pods] == ["web-2", "web-1", "web-3"]


def test_with_pod_events_extends_failing_pods_and_rebuilds_the_reason() -> None:
    verdict = evaluate_statefulset(sts(ready=2), [*sts_pods(2), pod(2, **CRASH)], now=NOW)
    events = {
        "web-2": [
            "Back-off restarting failed container main",
            "Back-off restarting failed container main",
        ],
        "web-0": ["Readiness probe failed: HTTP probe failed with statuscode: 503"],
    }
    enriched = verdict.with_pod_events(events)
    assert enriched.pods[2].reason == (
        "web-2 container main: CrashLoopBackOff, last exit 1 (Error) "
        "[recent events: Back-off restarting failed container main]"
    )
    assert enriched.pods[0] == verdict.pods[0], "a ready pod keeps its reason"
    assert enriched.reason == f"2 of 3 ready; {enriched.pods[2].reason}"
    assert enriched.state is verdict.state
    assert verdict.pods[2].reason.endswith("(Error)"), "the original verdict is untouched"


def test_with_pod_events_keeps_workload_findings_in_the_rebuilt_reason() -> None:
    verdict = evaluate_statefulset(sts(created=2, ready=1), [pod(0), pod(1, ready_for=3)], now=NOW)
    enriched = verdict.with_pod_events({"web-2": ["0/3 nodes are available"]})
    assert enriched.reason.startswith("2 of 3 Ready, 1 stabilizing; 2 of 3 created;")
    assert "web-2: not created yet [recent events: 0/3 nodes are available]" in enriched.reason


def test_with_pod_events_on_a_single_pod_verdict() -> None:
    verdict = evaluate_pod(pod(0, **CRASH), now=NOW)
    enriched = verdict.with_pod_events({"web-0": "Back-off restarting failed container"})
    assert enriched.reason.endswith("[recent events: Back-off restarting failed container]")
    assert enriched.with_pod_events({}) == enriched


def test_a_verdict_can_be_built_with_the_contract_fields_alone() -> None:
    report = PodReport("web-0", State.READY, "web-0: ready for 61s", NOW, 0, "r1", None, None)
    verdict = Verdict("Pod", "web-0", "shop", State.READY, "web-0: ready", 1, 1, "r1", (report,))
    assert verdict.to_dict()["pods"][0]["ready_since"] == "2026-11-02T12:00:00Z"


def test_a_verdict_built_by_hand_has_no_rules() -> None:
    """The hooks build "not found" verdicts themselves: no rule judged them."""
    verdict = Verdict("StatefulSet", "web", "shop", State.WAITING, "not found", 0, 0, None, ())
    assert verdict.rules == ()
    assert verdict.to_dict()["rules"] == []
    report = PodReport("web-0", State.WAITING, "web-0: x", None, 0, None, None, None)
    assert report.rule is None


def test_findings_carry_their_rule_and_still_unpack_as_state_and_text() -> None:
    verdict = evaluate_statefulset(sts(created=2, ready=1), [pod(0), pod(1)], now=NOW)
    assert [(f.rule, f.state, f.text) for f in verdict.findings] == [
        ("S3", State.WAITING, "2 of 3 created"),
        ("S5", State.WAITING, "1 of 3 available"),
    ]
    pairs = [(level, text) for level, text in verdict.findings]  # as the hooks read them
    assert pairs == [(State.WAITING, "2 of 3 created"), (State.WAITING, "1 of 3 available")]
    assert Finding("S1", State.FAILED, "x") == Finding("S1", State.FAILED, "x")


def test_with_pod_events_keeps_the_rule_ids() -> None:
    verdict = evaluate_statefulset(sts(ready=2), [*sts_pods(2), pod(2, **CRASH)], now=NOW)
    enriched = verdict.with_pod_events({"web-2": ["Back-off restarting failed container"]})
    assert enriched.rules == verdict.rules == ("S5", "S10", "P3")
    assert enriched.pods[2].rule == "P3"


def test_latest_time_skips_an_unreadable_stamp() -> None:
    """Month 13 cannot be read; the readable stamp is still the latest one known."""
    latest = latest_time(["2024-05-01T10:00:00Z", "2024-13-01T10:00:00Z"])
    assert latest is not None
    assert latest.isoformat() == "2024-05-01T10:00:00+00:00"
    assert latest_time(["2024-13-01T10:00:00Z", None, ""]) is None
    assert latest_time([]) is None


def test_latest_time_compares_instants_whatever_their_form() -> None:
    latest = latest_time(["2024-05-01T10:00:00Z", "2024-05-01T11:30:00.5+02:00", "2024-05-01T09"])
    assert latest is not None
    assert latest.isoformat() == "2024-05-01T10:00:00+00:00"
