"""The transport-free half of the hook and the trigger: error mapping, clock, paging, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_sts_provider.exceptions import (
    ContinueExpiredError,
    KubernetesApiCallError,
    KubernetesPermissionError,
    NotFoundError,
    TransientKubernetesError,
)
from airflow_sts_provider.hooks.clock import ServerClock, parse_date_header
from airflow_sts_provider.hooks.events import event_field_selector, warning_event_lines
from airflow_sts_provider.hooks.paging import Pager
from airflow_sts_provider.hooks.wire import Request, error_for_status, status_message
from airflow_sts_provider.kinds import KINDS, Kind, kind_of, spec_selector
from airflow_sts_provider.readiness import PodReport, ReadinessPolicy, State, Verdict
from airflow_sts_provider.reporting import failure_message, not_found_verdict
from airflow_sts_provider.triggers.base import seconds_until_change

GET_STS = Request("get", "statefulsets", "shop", "web")
LIST_PODS = Request("list", "pods", "shop")


def status_body(code: int, message: str) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "code": code,
        }
    ).encode()


@pytest.mark.parametrize(
    ("request_", "status", "has_continue", "expected"),
    [
        (GET_STS, 401, False, KubernetesPermissionError),
        (GET_STS, 403, False, KubernetesPermissionError),
        (GET_STS, 404, False, NotFoundError),
        (LIST_PODS, 410, True, ContinueExpiredError),
        (LIST_PODS, 410, False, TransientKubernetesError),
        (GET_STS, 429, False, TransientKubernetesError),
        (GET_STS, 500, False, TransientKubernetesError),
        (GET_STS, 503, False, TransientKubernetesError),
        (GET_STS, 504, False, TransientKubernetesError),
        (LIST_PODS, 400, False, KubernetesApiCallError),
    ],
    ids=[
        "401 is a permanent permission error",
        "403 is a permanent permission error",
        "404 of the object is not-found",
        "410 on a continue token means the list restarts",
        "410 without a continue token is transient",
        "429 too many requests is transient",
        "500 is transient",
        "503 is transient",
        "504 is transient",
        "400 bad request is a plain API error",
    ],
)
def test_error_for_status_maps_each_status_to_one_class(
    request_: Request, status: int, has_continue: bool, expected: type[Exception]
) -> None:
    error = error_for_status(
        request_, status, status_body(status, "boom"), has_continue=has_continue
    )
    assert type(error) is expected
    assert error.status == status
    assert error.verb == request_.verb
    assert error.resource == request_.resource
    assert error.namespace == "shop"


def test_permission_message_names_verb_resource_namespace_and_points_to_rbac_docs() -> None:
    body = status_body(403, 'pods is forbidden: User "bob" cannot list resource "pods"')
    error = error_for_status(LIST_PODS, 403, body)
    text = str(error)
    assert "cannot list pods in namespace shop" in text
    assert "`list` on `pods` in namespace 'shop'" in text
    assert "python -m airflow_sts_provider.docs rbac" in text
    assert 'User "bob" cannot list resource "pods"' in text


def test_unauthenticated_is_told_apart_from_forbidden() -> None:
    unauthenticated = str(error_for_status(GET_STS, 401, b""))
    assert "not authenticated (401)" in unauthenticated
    # A 401 means the credentials were rejected: the 403's "grant a right" is wrong advice.
    assert "Grant" not in unauthenticated
    assert "expired or been revoked" in unauthenticated
    assert "kube_config" in unauthenticated
    assert "forbidden (403)" in str(error_for_status(GET_STS, 403, b""))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (status_body(500, "etcd leader changed"), "etcd leader changed"),
        (b"<html>bad gateway</html>", "<html>bad gateway</html>"),
        (b"", ""),
        (None, ""),
    ],
    ids=[
        "a Status body gives its message",
        "a non-JSON body is quoted",
        "an empty body gives nothing",
        "no body gives nothing",
    ],
)
def test_status_message(body: bytes | None, expected: str) -> None:
    assert status_message(body) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 03 Nov 2026 12:00:05 GMT", datetime(2026, 11, 3, 12, 0, 5, tzinfo=UTC)),
        ("Tue, 03 Nov 2026 13:00:05 +0100", datetime(2026, 11, 3, 12, 0, 5, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "an RFC 7231 date in GMT",
        "an offset date is converted to UTC",
        "garbage is ignored",
        "an empty header is ignored",
        "a missing header is ignored",
    ],
)
def test_parse_date_header(header: str | None, expected: datetime | None) -> None:
    assert parse_date_header(header) == expected


def test_server_clock_uses_the_date_header_and_never_goes_backwards() -> None:
    clock = ServerClock()
    assert not clock.has_server_time
    clock.observe("Tue, 03 Nov 2026 12:00:05 GMT")
    first = clock.now()
    assert first - datetime(2026, 11, 3, 12, 0, 5, tzinfo=UTC) < timedelta(seconds=1)
    clock.observe("Tue, 03 Nov 2026 12:00:04 GMT")  # an older answer, e.g. a slow response
    assert clock.now() >= first
    clock.observe("Tue, 03 Nov 2026 12:10:00 GMT")  # the server's clock ran ahead
    assert clock.now() >= datetime(2026, 11, 3, 12, 10, 0, tzinfo=UTC)
    assert not clock.missing_date


def test_server_clock_without_date_header_falls_back_to_local_time() -> None:
    clock = ServerClock()
    clock.observe(None)
    assert clock.missing_date
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5


def page(names: list[str], token: str | None, rv: str = "100") -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": rv}
    if token:
        meta["continue"] = token
    return {"items": [{"metadata": {"name": n}} for n in names], "metadata": meta}


def test_pager_merges_pages_until_no_continue_token() -> None:
    pager = Pager(limit=2)
    assert pager.params() == {"limit": 2}
    pager.add(page(["a", "b"], "t1"))
    assert not pager.done
    assert pager.params() == {"limit": 2, "continue": "t1"}
    pager.add(page(["c", "d"], "t2", rv="999"))
    pager.add(page(["e"], None))
    assert pager.done
    assert [i["metadata"]["name"] for i in pager.items] == ["a", "b", "c", "d", "e"]
    assert pager.pages == 3
    assert pager.resource_version == "100"


def test_pager_restarts_once_after_an_expired_continue_token_then_gives_up() -> None:
    pager = Pager(limit=2)
    pager.add(page(["a", "b"], "t1"))
    expired = error_for_status(LIST_PODS, 410, b"", has_continue=True)
    assert isinstance(expired, ContinueExpiredError)
    pager.restart(expired)
    assert (pager.items, pager.pages, pager.restarts) == ([], 0, 1)
    assert pager.params() == {"limit": 2}
    assert not pager.done
    pager.add(page(["a", "b"], "t9"))
    with pytest.raises(TransientKubernetesError, match="expired again"):
        pager.restart(expired)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"app": "web", "tier": "db"}}, "app=web,tier=db"),
        (
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["b", "a"]}]},
            "app in (a,b)",
        ),
    ],
    ids=["matchLabels", "matchExpressions"],
)
def test_label_selector_is_the_workloads_own_selector(
    selector: dict[str, Any], expected: str
) -> None:
    assert spec_selector({"spec": {"selector": selector}}) == expected


def test_not_found_verdict_waits_and_names_the_object() -> None:
    verdict = not_found_verdict("StatefulSet", "web", "default")
    assert verdict.state is State.WAITING
    assert verdict.reason == "statefulset default/web not found"
    assert verdict.to_dict()["pods"] == []


def test_the_kinds_table_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown kind 'Job'"):
        kind_of("Job")


@pytest.mark.parametrize(
    "row",
    [kind for kind in KINDS.values() if kind.related],
    ids=[f"{name} reads its pods last" for name, kind in KINDS.items() if kind.related],
)
def test_every_row_that_reads_pods_reads_them_last_and_starts_its_rules(row: Kind) -> None:
    """The rules start on everything else the row reads; the pods then come page by page."""
    assert row.related[-1].plural == "pods"
    assert all(r.plural != "pods" for r in row.related[:-1])
    assert row.start is not None


def test_a_pager_that_hands_its_items_on_counts_them_and_keeps_none() -> None:
    pager = Pager(limit=2, keep=False)
    pager.add(page(["a", "b"], "t1"))
    pager.add(page(["c"], None))
    assert (pager.items, pager.count, pager.pages, pager.done) == ([], 3, 2, True)


def event(
    reason: str,
    message: str,
    when: str,
    *,
    count: int = 1,
    uid: str = "u1",
    type_: str = "Warning",
) -> dict[str, Any]:
    return {
        "type": type_,
        "reason": reason,
        "message": message,
        "count": count,
        "lastTimestamp": when,
        "involvedObject": {"kind": "Pod", "name": "web-1", "uid": uid},
    }


def test_warning_event_lines_keep_the_newest_warnings_of_this_pod_incarnation() -> None:
    events = [
        event("Pulled", "pulled", "2026-11-03T12:00:09Z", type_="Normal"),
        event("BackOff", "Back-off restarting failed container", "2026-11-03T12:00:08Z", count=7),
        event("Unhealthy", "Readiness probe failed:\n HTTP 500", "2026-11-03T12:00:07Z"),
        event("Failed", "an older incarnation", "2026-11-03T12:00:10Z", uid="old"),
        event("FailedMount", "secret missing", "2026-11-03T12:00:01Z"),
        event("OOMKilling", "oldest", "2026-11-03T12:00:00Z"),
    ]
    assert warning_event_lines(events, pod_uid="u1", limit=3) == [
        "BackOff: Back-off restarting failed container (x7)",
        "Unhealthy: Readiness probe failed: HTTP 500",
        "FailedMount: secret missing",
    ]


def test_event_field_selector_asks_for_warnings_about_one_pod() -> None:
    assert event_field_selector("web-1") == (
        "involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning"
    )


NOW = datetime(2026, 11, 3, 12, 0, 0, tzinfo=UTC)


def report(name: str, state: State, ready_ago: float | None, reason: str = "") -> PodReport:
    since = NOW - timedelta(seconds=ready_ago) if ready_ago is not None else None
    return PodReport(name, state, reason or f"{name}: x", since, 0, "r1", None, None)


def verdict(state: State, *pods: PodReport) -> Verdict:
    return Verdict("StatefulSet", "web", "shop", state, "r", len(pods), 0, "r1", pods)


@pytest.mark.parametrize(
    ("verdict_", "expected"),
    [
        (verdict(State.WAITING, report("web-0", State.WAITING, 20)), 40.0),
        (
            verdict(
                State.WAITING,
                report("web-0", State.WAITING, 20),
                report("web-1", State.WAITING, 55),
            ),
            5.0,
        ),
        (verdict(State.WAITING, report("web-0", State.WAITING, None)), None),
        (verdict(State.WAITING, report("web-0", State.WAITING, 600)), None),
        (verdict(State.READY, report("web-0", State.READY, 600)), None),
    ],
    ids=[
        "one pod stabilizing: the rest of its window",
        "two pods stabilizing: the earliest window end",
        "a pod not Ready yet: only an event can change it",
        "a long-stable pod that waits for something else: no timer",
        "a ready verdict needs no timer",
    ],
)
def test_seconds_until_change(verdict_: Verdict, expected: float | None) -> None:
    assert seconds_until_change(verdict_, ReadinessPolicy(min_stable_seconds=60), NOW) == expected


def test_failure_message_lists_every_failing_pod_and_how_to_inspect_it() -> None:
    failing = verdict(
        State.FAILED,
        report("web-0", State.READY, 600, "web-0: ready"),
        report("web-1", State.FAILED, None, "web-1: container app CrashLoopBackOff"),
        report("web-2", State.FAILED, None, "web-2: ErrImagePull for 3m"),
    )
    text = failure_message(failing)
    assert (
        text.splitlines()[0] == "StatefulSet shop/web is not coming up (0 of 3 ready, revision r1):"
    )
    assert "  - web-1: container app CrashLoopBackOff" in text
    assert "  - web-2: ErrImagePull for 3m" in text
    assert "web-0" not in text
    assert "kubectl describe pod web-1 -n shop" in text
