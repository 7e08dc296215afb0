"""Reads through the real sync ``kubernetes`` client over HTTPS: selectors, paging, raw JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from kubernetes import client

from kube_test_cluster_tests.conftest import ApiCluster

LABELLED = {
    "web-0": {"app": "web", "tier": "front", "zone": "a"},
    "web-1": {"app": "web", "tier": "back", "zone": "b"},
    "db-0": {"app": "db", "tier": "back"},
    "cache-0": {"app": "cache"},
    "bare": {},
}


@pytest.fixture
def labelled(api_cluster: ApiCluster) -> ApiCluster:
    for name, labels in LABELLED.items():
        api_cluster.pod(name, labels=labels)
    return api_cluster


def _names(pods: Any) -> list[str]:
    return sorted(p.metadata.name for p in pods.items)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["web-0", "web-1"]),
        ("app==web", ["web-0", "web-1"]),
        ("app!=web", ["bare", "cache-0", "db-0"]),
        ("tier in (front,back)", ["db-0", "web-0", "web-1"]),
        ("tier notin (back)", ["bare", "cache-0", "web-0"]),
        ("zone", ["web-0", "web-1"]),
        ("!zone", ["bare", "cache-0", "db-0"]),
        ("app=web,tier=back", ["web-1"]),
        ("app in (web, db), !zone", ["db-0"]),
        ("app=nothing", []),
        ("", ["bare", "cache-0", "db-0", "web-0", "web-1"]),
    ],
    ids=[
        "equality selects the pods with that label value",
        "double equals is the same operator",
        "inequality also selects pods without the key",
        "set membership selects any listed value",
        "notin also selects pods without the key",
        "a bare key selects pods having it",
        "a negated key selects pods lacking it",
        "comma means and",
        "set and absence combine",
        "no match gives an empty list",
        "the empty selector selects everything",
    ],
)
def test_label_selector_operators(
    labelled: ApiCluster, api_client: Any, selector: str, expected: list[str]
) -> None:
    pods = client.CoreV1Api(api_client).list_namespaced_pod("default", label_selector=selector)
    assert _names(pods) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=db-0", ["db-0"]),
        ("metadata.name!=db-0,metadata.name!=bare", ["cache-0", "web-0", "web-1"]),
        ("metadata.namespace=default,metadata.name==web-1", ["web-1"]),
        ("spec.nodeName=node-2", ["cache-0"]),
        ("status.phase=Pending", ["bare"]),
    ],
    ids=[
        "by name",
        "by excluded names",
        "by namespace and name",
        "by node",
        "by phase",
    ],
)
def test_field_selectors_on_pods(
    api_cluster: ApiCluster, api_client: Any, selector: str, expected: list[str]
) -> None:
    for name in ("web-0", "web-1", "db-0"):
        api_cluster.pod(name)
    api_cluster.pod("cache-0", node="node-2")
    api_cluster.pod("bare", node=None, phase="Pending")
    pods = client.CoreV1Api(api_client).list_namespaced_pod("default", field_selector=selector)
    assert _names(pods) == expected


def test_event_field_selector_finds_the_events_of_one_object(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    for i, (kind, name) in enumerate([("Pod", "web-0"), ("Pod", "web-1"), ("StatefulSet", "web")]):
        api_cluster.store.create(
            "events",
            {
                "metadata": {"name": f"ev-{i}", "namespace": "default"},
                "involvedObject": {"kind": kind, "name": name, "namespace": "default"},
                "reason": "BackOff" if i == 0 else "Created",
                "type": "Warning" if i == 0 else "Normal",
            },
        )
    v1 = client.CoreV1Api(api_client)
    by_object = v1.list_namespaced_event(
        "default", field_selector="involvedObject.name=web-0,involvedObject.kind=Pod"
    )
    warnings = v1.list_namespaced_event("default", field_selector="type=Warning")
    assert [e.metadata.name for e in by_object.items] == ["ev-0"]
    assert [e.reason for e in warnings.items] == ["BackOff"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_selector": "app in web"}, "unable to parse requirement"),
        ({"label_selector": "app=web,"}, "expected"),
        ({"label_selector": "bad key=1"}, "unable to parse requirement"),
        ({"field_selector": "spec.image=nginx"}, "field label not supported: spec.image"),
    ],
    ids=[
        "a set without parentheses",
        "a trailing comma",
        "a key with a space",
        "an unsupported field",
    ],
)
def test_malformed_selectors_are_400_bad_request(
    api_cluster: ApiCluster, api_client: Any, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(api_client).list_namespaced_pod("default", **kwargs)
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["reason"], body["kind"]) == (400, "BadRequest", "Status")
    assert message in body["message"]


def test_list_has_kind_api_version_and_resource_version(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.statefulset("web")
    raw = client.AppsV1Api(api_client).list_namespaced_stateful_set(
        "default", _preload_content=False
    )
    body = json.loads(raw.data)
    assert (body["kind"], body["apiVersion"]) == ("StatefulSetList", "apps/v1")
    assert body["metadata"]["resourceVersion"] == str(api_cluster.store.resource_version)
    assert body["items"][0]["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    assert "kind" not in body["items"][0]  # as the real apiserver: only the list has a kind


def test_lists_across_all_namespaces(api_cluster: ApiCluster, api_client: Any) -> None:
    api_cluster.store.create("namespaces", {"metadata": {"name": "other"}})
    api_cluster.pod("a", namespace="default")
    api_cluster.pod("b", namespace="other")
    pods = client.CoreV1Api(api_client).list_pod_for_all_namespaces()
    assert [(p.metadata.namespace, p.metadata.name) for p in pods.items] == [
        ("default", "a"),
        ("other", "b"),
    ]


def _all_pages(v1: client.CoreV1Api, limit: int, **kwargs: Any) -> tuple[list[str], int]:
    names: list[str] = []
    pages, token = 0, None
    while True:
        page = v1.list_namespaced_pod("default", limit=limit, _continue=token, **kwargs)
        pages += 1
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            return names, pages


@pytest.mark.parametrize(
    ("limit", "pages"),
    [(7, 4), (10, 3), (25, 1), (1, 25)],
    ids=["uneven pages", "even pages", "one page", "one pod per page"],
)
def test_paging_returns_every_pod_once_in_order(
    api_cluster: ApiCluster, api_client: Any, limit: int, pages: int
) -> None:
    for i in range(25):
        api_cluster.pod(f"pod-{i:02d}", labels={"app": "web"})
    names, seen_pages = _all_pages(client.CoreV1Api(api_client), limit)
    assert names == [f"pod-{i:02d}" for i in range(25)]
    assert seen_pages == pages


def test_paging_with_a_selector_counts_only_matching_pods(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    for i in range(20):
        api_cluster.pod(f"pod-{i:02d}", labels={"app": "web" if i % 2 else "db"})
    names, pages = _all_pages(client.CoreV1Api(api_client), 3, label_selector="app=web")
    assert names == [f"pod-{i:02d}" for i in range(1, 20, 2)]
    assert pages == 4


def test_remaining_item_count_is_reported_without_selectors(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    for i in range(5):
        api_cluster.pod(f"pod-{i}")
    page = client.CoreV1Api(api_client).list_namespaced_pod("default", limit=2)
    assert page.metadata.remaining_item_count == 3


def test_pages_are_cut_from_one_snapshot(api_cluster: ApiCluster, api_client: Any) -> None:
    """Pods created, changed or deleted between two pages do not tear the list (as etcd)."""
    for i in range(6):
        api_cluster.pod(f"pod-{i}", labels={"gen": "1"})
    v1 = client.CoreV1Api(api_client)
    first = v1.list_namespaced_pod("default", limit=3)
    api_cluster.pod("pod-9")
    api_cluster.store.delete("pods", "default", "pod-4")
    api_cluster.store.update(
        "pods", "default", "pod-5", lambda p: p["metadata"]["labels"].update(gen="2")
    )
    rest = v1.list_namespaced_pod("default", limit=3, _continue=first.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["pod-3", "pod-4", "pod-5"]
    assert rest.items[2].metadata.labels == {"gen": "1"}
    assert rest.metadata.resource_version == first.metadata.resource_version


@pytest.mark.parametrize(
    "expire",
    ["by age", "by fault", "by compaction"],
    ids=[
        "a token older than its time to live",
        "the expire_continue fault",
        "a compacted snapshot",
    ],
)
def test_expired_continue_token_is_410_expired(
    api_cluster: ApiCluster, api_client: Any, expire: str
) -> None:
    for i in range(4):
        api_cluster.pod(f"pod-{i}")
    v1 = client.CoreV1Api(api_client)
    first = v1.list_namespaced_pod("default", limit=2)
    if expire == "by age":
        api_cluster.clock.advance(301)
    elif expire == "by fault":
        api_cluster.faults.set(expire_continue=True)
    else:
        api_cluster.pod("pod-new")
        api_cluster.store.compact()
    with pytest.raises(client.ApiException) as caught:
        v1.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["reason"]) == (410, "Expired")
    assert "The provided continue parameter is too old" in body["message"]


def test_a_token_within_its_time_to_live_still_works(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    for i in range(4):
        api_cluster.pod(f"pod-{i}")
    v1 = client.CoreV1Api(api_client)
    first = v1.list_namespaced_pod("default", limit=2)
    api_cluster.clock.advance(299)
    rest = v1.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["pod-2", "pod-3"]


def test_a_garbled_continue_token_is_400(api_cluster: ApiCluster, api_client: Any) -> None:
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(api_client).list_namespaced_pod("default", _continue="not-a-token")
    assert caught.value.status == 400


def test_raw_json_reads_keep_camel_case(api_cluster: ApiCluster, api_client: Any) -> None:
    api_cluster.statefulset("web")
    raw = client.AppsV1Api(api_client).read_namespaced_stateful_set(
        "web", "default", _preload_content=False
    )
    body = json.loads(raw.data)
    assert raw.headers["Content-Type"] == "application/json"
    assert body["spec"]["podManagementPolicy"] == "OrderedReady"
    assert body["metadata"]["generation"] == 1
    assert body["kind"] == "StatefulSet"


def test_date_header_comes_from_the_emulated_clock(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.clock.advance(3 * 86400)
    expected = api_cluster.clock.now().replace(microsecond=0)
    raw = client.CoreV1Api(api_client).list_namespaced_pod("default", _preload_content=False)
    assert parsedate_to_datetime(raw.headers["Date"]) == expected
    assert abs(expected - datetime.now(UTC)) > timedelta(days=2)


def test_error_responses_carry_the_date_header_too(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(api_client).read_namespaced_pod("missing", "default")
    assert caught.value.headers is not None
    date = parsedate_to_datetime(caught.value.headers["Date"])
    assert date == api_cluster.clock.now().replace(microsecond=0)


@pytest.mark.parametrize(
    ("call", "code", "reason", "message", "details"),
    [
        (
            lambda c: client.CoreV1Api(c).read_namespaced_pod("nope", "default"),
            404,
            "NotFound",
            'pods "nope" not found',
            {"name": "nope", "kind": "pods"},
        ),
        (
            lambda c: client.AppsV1Api(c).read_namespaced_stateful_set("nope", "default"),
            404,
            "NotFound",
            'statefulsets.apps "nope" not found',
            {"name": "nope", "group": "apps", "kind": "statefulsets"},
        ),
        (
            lambda c: client.AppsV1Api(c).read_namespaced_deployment_scale("nope", "default"),
            404,
            "NotFound",
            'deployments.apps "nope" not found',
            {"name": "nope", "group": "apps", "kind": "deployments"},
        ),
    ],
    ids=["a missing pod", "a missing statefulset", "the scale of a missing deployment"],
)
def test_not_found_is_a_real_status_body(
    *,
    api_cluster: ApiCluster,
    api_client: Any,
    call: Any,
    code: int,
    reason: str,
    message: str,
    details: dict[str, str],
) -> None:
    with pytest.raises(client.ApiException) as caught:
        call(api_client)
    assert json.loads(caught.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }
