"""Fault injection as clients experience it: error codes, drops, latency, cut watches."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import pytest
import urllib3
from kubernetes import client

from airflow_sts_provider.testing.apiserver.faults import Faults
from tests.integration.cluster.conftest import ApiCluster, raw_request

PODS = "/api/v1/namespaces/default/pods"


@pytest.mark.parametrize(
    ("code", "reason", "retry_after"),
    [
        (500, "InternalError", None),
        (503, "ServiceUnavailable", "0"),
        (429, "TooManyRequests", "0"),
    ],
    ids=[
        "500 is an internal error",
        "503 is service unavailable with a retry hint",
        "429 is too many requests with Retry-After",
    ],
)
def test_injected_errors_are_real_status_responses(
    api_cluster: ApiCluster, api_client: Any, code: int, reason: str, retry_after: str | None
) -> None:
    # Retry-After: 0 keeps urllib3's automatic retries of 429/503 instantaneous
    api_cluster.faults.set(fail_rate=1.0, fail_codes=(code,), retry_after=0)
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(api_client).list_namespaced_pod("default")
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["kind"], body["reason"], body["code"]) == (
        code,
        "Status",
        reason,
        code,
    )
    assert caught.value.headers is not None
    assert caught.value.headers.get("Retry-After") == retry_after
    assert "Date" in caught.value.headers


def test_a_fail_rate_fails_about_that_share_of_requests(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(fail_rate=0.5, fail_codes=(503,), seed=11)
    codes = [raw_request(api_cluster, "GET", PODS).status for _ in range(60)]
    assert set(codes) == {200, 503}
    assert 15 <= codes.count(503) <= 45


def test_the_same_seed_gives_the_same_failures(api_cluster: ApiCluster) -> None:
    runs = []
    for _ in range(2):
        api_cluster.faults.set(fail_rate=0.3, fail_codes=(500, 503, 429), seed=5)
        runs.append([raw_request(api_cluster, "GET", PODS).status for _ in range(20)])
    assert runs[0] == runs[1]


def test_fail_next_fails_exactly_that_many_requests(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(fail_next=2, fail_codes=(500,))
    codes = [raw_request(api_cluster, "GET", PODS).status for _ in range(4)]
    assert codes == [500, 500, 200, 200]
    assert api_cluster.faults.injected == 2


def test_a_path_pattern_limits_faults_to_matching_requests(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(fail_rate=1.0, fail_codes=(500,), path_pattern="statefulsets")
    assert raw_request(api_cluster, "GET", PODS).status == 200
    sts = raw_request(api_cluster, "GET", "/apis/apps/v1/namespaces/default/statefulsets")
    assert sts.status == 500


def test_discovery_is_spared_unless_asked(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(fail_rate=1.0, fail_codes=(500,))
    for path in ("/version", "/api", "/api/v1", "/apis", "/apis/apps/v1"):
        assert raw_request(api_cluster, "GET", path).status == 200
    api_cluster.faults.set(include_discovery=True)
    assert raw_request(api_cluster, "GET", "/version").status == 500


def test_clear_restores_a_perfect_server(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(fail_rate=1.0, drop_rate=1.0, latency_ms=50, expire_continue=True)
    api_cluster.faults.clear()
    assert raw_request(api_cluster, "GET", PODS).status == 200


def test_a_dropped_response_is_a_truncated_body(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a")
    api_cluster.faults.set(drop_rate=1.0)
    with pytest.raises(http.client.IncompleteRead):
        raw_request(api_cluster, "GET", PODS)


def test_the_python_client_sees_drops_as_protocol_errors(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a")
    api_cluster.faults.set(drop_rate=1.0)
    with pytest.raises(urllib3.exceptions.HTTPError):
        client.CoreV1Api(api_client).list_namespaced_pod("default")
    api_cluster.faults.clear()
    assert len(client.CoreV1Api(api_client).list_namespaced_pod("default").items) == 1


def test_a_dropped_watch_breaks_after_its_first_event(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a")
    api_cluster.pod("b")
    api_cluster.faults.set(drop_rate=1.0)
    response = client.CoreV1Api(api_client).list_namespaced_pod(
        "default", watch=True, timeout_seconds=5, _preload_content=False
    )
    lines: list[bytes] = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for chunk in response.stream(1024):
            lines.extend(chunk.splitlines())
    assert [json.loads(line)["object"]["metadata"]["name"] for line in lines[:1]] == ["a"]


def test_latency_delays_every_response(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(latency_ms=300)
    started = time.monotonic()
    assert raw_request(api_cluster, "GET", PODS).status == 200
    assert time.monotonic() - started >= 0.3


def test_watch_cut_after_ends_watches_early(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a")
    api_cluster.faults.set(watch_cut_after=0.3)
    response = raw_request(api_cluster, "GET", f"{PODS}?watch=true&timeoutSeconds=60", timeout=10)
    assert response.status == 200
    assert [json.loads(line)["type"] for line in response.body.splitlines()] == ["ADDED"]


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"fail_rate": 1.5}, ValueError),
        ({"drop_rate": -0.1}, ValueError),
        ({"latency_ms": -1}, ValueError),
        ({"fail_codes": ()}, ValueError),
        ({"path_pattern": "("}, Exception),
        ({"no_such_knob": 1}, AttributeError),
    ],
    ids=[
        "a rate above one",
        "a negative rate",
        "negative latency",
        "no error codes",
        "a broken regular expression",
        "an unknown setting",
    ],
)
def test_bad_fault_settings_are_refused(settings: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Faults().set(**settings)


@pytest.mark.parametrize(
    ("path", "eligible"),
    [
        ("/version", False),
        ("/api", False),
        ("/api/v1", False),
        ("/apis", False),
        ("/apis/apps", False),
        ("/apis/apps/v1", False),
        ("/openapi/v3/apis/apps/v1?hash=X", False),
        ("/api/v1/pods", True),
        ("/api/v1/namespaces", True),
        ("/apis/apps/v1/statefulsets?limit=5", True),
        ("/api/v1/namespaces/default/pods/web-0", True),
    ],
)
def test_which_paths_count_as_discovery(path: str, eligible: bool) -> None:
    assert Faults().applies_to(path) is eligible
