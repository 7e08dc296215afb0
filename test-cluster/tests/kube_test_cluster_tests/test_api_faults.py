"""Fault injection as clients experience it: error codes, drops, corrupt bodies, latency, cut
watches."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client

from kube_test_cluster.apiserver.faults import CORRUPTIONS, Faults, corrupt_body
from kube_test_cluster_tests.conftest import ApiCluster, raw_request

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
    api_cluster.faults.set(
        fail_rate=1.0, drop_rate=1.0, corrupt_rate=1.0, latency_ms=50, expire_continue=True
    )
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
        ({"corrupt_rate": 1.01}, ValueError),
        ({"latency_ms": -1}, ValueError),
        ({"fail_codes": ()}, ValueError),
        ({"path_pattern": "("}, Exception),
        ({"no_such_knob": 1}, AttributeError),
    ],
    ids=[
        "a rate above one",
        "a negative rate",
        "a corrupt rate above one",
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


# --------------------------------------------------------------------------- corrupt bodies

KUBECTL = shutil.which("kubectl")
#: the test cluster's project directory (test-cluster/: its pyproject, README and package)
PROJECT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "kube_test_cluster", "serve", "--insecure-http"]


def corruption_of(body: bytes) -> str | None:
    """Which of CORRUPTIONS a body is, or None for a proper JSON object."""
    if body.lstrip().startswith(b"<"):
        return "html"
    try:
        parsed = json.loads(body)
    except ValueError:
        return "truncated"
    if parsed is None:
        return "null"
    if isinstance(parsed, list):
        return "array"
    assert isinstance(parsed, dict), body[:200]
    return None


@pytest.mark.parametrize(
    ("corruption", "content_type"),
    [
        ("truncated", "application/json"),
        ("null", "application/json"),
        ("html", "text/html"),
        ("array", "application/json"),
    ],
    ids=[
        "a truncated body is the first half of the JSON",
        "a null body is the JSON null",
        "an HTML body is a proxy's error page",
        "an array body wraps the object",
    ],
)
def test_each_corruption_is_a_body_that_is_not_a_json_object(
    corruption: str, content_type: str
) -> None:
    payload = json.dumps({"kind": "PodList", "items": [{"metadata": {"name": "a"}}]}).encode()
    served_type, body = corrupt_body(corruption, payload + b"\n")
    assert (served_type, corruption_of(body)) == (content_type, corruption)


def test_a_corrupt_rate_of_one_serves_every_corruption_as_a_200(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a")
    api_cluster.faults.set(corrupt_rate=1.0, seed=3)
    answers = [raw_request(api_cluster, "GET", PODS) for _ in range(40)]
    assert {answer.status for answer in answers} == {200}
    assert {corruption_of(answer.body) for answer in answers} == set(CORRUPTIONS)
    assert api_cluster.faults.injected == 40


def test_a_corrupted_error_answer_is_a_200_too(api_cluster: ApiCluster) -> None:
    """A proxy's page replaces whatever the API server said, a 404 included."""
    api_cluster.faults.set(corrupt_rate=1.0)
    answer = raw_request(api_cluster, "GET", f"{PODS}/no-such-pod")
    assert answer.status == 200
    assert corruption_of(answer.body) is not None


@pytest.mark.parametrize(
    ("rate", "low", "high"),
    [(0.0, 0, 0), (0.3, 6, 30), (1.0, 60, 60)],
    ids=[
        "a zero corrupt rate corrupts nothing",
        "a corrupt rate corrupts about that share of answers",
        "a corrupt rate of one corrupts every answer",
    ],
)
def test_a_corrupt_rate_corrupts_that_share_of_answers(
    api_cluster: ApiCluster, rate: float, low: int, high: int
) -> None:
    api_cluster.faults.set(corrupt_rate=rate, seed=11)
    corrupted = [
        corruption_of(raw_request(api_cluster, "GET", PODS).body) is not None for _ in range(60)
    ]
    assert low <= corrupted.count(True) <= high


def test_the_same_seed_gives_the_same_corruptions(api_cluster: ApiCluster) -> None:
    runs = []
    for _ in range(2):
        api_cluster.faults.set(corrupt_rate=0.5, seed=5)
        runs.append([corruption_of(raw_request(api_cluster, "GET", PODS).body) for _ in range(20)])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 2


def test_corruption_spares_discovery_and_paths_the_pattern_does_not_match(
    api_cluster: ApiCluster,
) -> None:
    api_cluster.faults.set(corrupt_rate=1.0, path_pattern="statefulsets")
    for path in ("/version", "/api/v1", "/apis/apps/v1", PODS):
        assert corruption_of(raw_request(api_cluster, "GET", path).body) is None, path
    sts = raw_request(api_cluster, "GET", "/apis/apps/v1/namespaces/default/statefulsets")
    assert corruption_of(sts.body) is not None
    api_cluster.faults.set(path_pattern=None)
    assert corruption_of(raw_request(api_cluster, "GET", "/version").body) is None


def test_a_corrupted_watch_replaces_its_first_event_by_a_line_that_is_not_an_object(
    api_cluster: ApiCluster,
) -> None:
    api_cluster.pod("a")
    api_cluster.pod("b")
    api_cluster.faults.set(corrupt_rate=1.0, watch_cut_after=0.5)
    response = raw_request(api_cluster, "GET", f"{PODS}?watch=true&timeoutSeconds=60", timeout=10)
    assert response.status == 200
    first, *rest = response.body.splitlines()
    assert corruption_of(first) is not None
    assert [json.loads(line)["object"]["metadata"]["name"] for line in rest] == ["b"]


def test_the_python_client_cannot_read_a_corrupted_list(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a")
    api_cluster.faults.set(corrupt_rate=1.0, seed=1)
    pods = client.CoreV1Api(api_client)
    responses = [
        pods.list_namespaced_pod("default", _preload_content=False).data for _ in range(12)
    ]
    assert all(corruption_of(data) is not None for data in responses)
    api_cluster.faults.set(corrupt_rate=0.0)
    assert [p.metadata.name for p in pods.list_namespaced_pod("default").items] == ["a"]


def kubectl(cluster: ApiCluster, *args: str) -> list[str]:
    assert KUBECTL is not None
    cache = cluster.kubeconfig.parent / "kube-cache"
    return [KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(cache), *args]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
def test_kubectl_get_fails_on_a_corrupted_list(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a")
    api_cluster.faults.set(corrupt_rate=1.0, path_pattern="/pods", seed=2)
    command = kubectl(api_cluster, "get", "pods")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0, result.stdout
    api_cluster.faults.clear()
    healthy = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (healthy.returncode, healthy.stdout.split()[5:6]) == (0, ["a"]), healthy.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
def test_kubectl_watch_cannot_decode_a_corrupted_watch_line(api_cluster: ApiCluster) -> None:
    api_cluster.faults.set(corrupt_rate=1.0, path_pattern="watch=", seed=2)
    command = kubectl(api_cluster, "get", "pods", "--watch", "--request-timeout=20s")
    watching = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while api_cluster.server.stats.watches_open == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        api_cluster.pod("a")  # the watch's first event, replaced by a corrupt line
        out, err = watching.communicate(timeout=30)
    finally:
        watching.kill()
        watching.wait(timeout=10)
    assert "unable to decode an event from the watch stream" in out + err


def test_the_cli_refuses_a_corrupt_rate_outside_zero_to_one(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [*SERVE, "--corrupt-rate", "1.5"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: corrupt_rate must be within [0, 1]")


def test_the_cli_serves_corrupt_bodies_at_the_corrupt_rate(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [*SERVE, "--no-auth", "--corrupt-rate", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=PROJECT,
        env=env,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("Serving "), line
        port = int(line.split()[1].rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/namespaces")
        answer = conn.getresponse()
        assert (answer.status, corruption_of(answer.read()) is not None) == (200, True)
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
