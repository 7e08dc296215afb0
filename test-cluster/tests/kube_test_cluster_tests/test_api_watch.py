"""Watches through the real sync client: replay, selectors, bookmarks, 410, timeouts."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.watch.watch import iter_resp_lines

from kube_test_cluster_tests.conftest import ApiCluster, raw_request


def _events(api_client: Any, **kwargs: Any) -> list[tuple[str, str]]:
    """(type, pod name) for every event of a 1-second watch of default's pods."""
    stream = watch.Watch().stream(
        client.CoreV1Api(api_client).list_namespaced_pod,
        "default",
        timeout_seconds=1,
        **kwargs,
    )
    return [(e["type"], e["object"].metadata.name) for e in stream]


def _raw_events(api_client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    response = client.CoreV1Api(api_client).list_namespaced_pod(
        "default", watch=True, timeout_seconds=1, _preload_content=False, **kwargs
    )
    try:
        return [json.loads(line) for line in iter_resp_lines(response)]
    finally:
        response.release_conn()


def test_watch_without_resource_version_starts_with_the_current_pods(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a")
    api_cluster.pod("b")
    assert _events(api_client) == [("ADDED", "a"), ("ADDED", "b")]


def test_watch_replays_every_change_after_the_resource_version(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("old")
    since = api_cluster.store.resource_version
    api_cluster.pod("new")
    api_cluster.store.update("pods", "default", "old", lambda p: p["status"].update(phase="X"))
    api_cluster.store.delete("pods", "default", "new")
    api_cluster.statefulset("web")  # another resource: not in this watch
    assert _events(api_client, resource_version=str(since)) == [
        ("ADDED", "new"),
        ("MODIFIED", "old"),
        ("DELETED", "new"),
    ]


def test_live_changes_arrive_while_the_watch_is_open(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    since = str(api_cluster.store.resource_version)
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for event in w.stream(
            client.CoreV1Api(api_client).list_namespaced_pod,
            "default",
            resource_version=since,
            timeout_seconds=10,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 2:
                w.stop()
                return

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    api_cluster.pod("late")
    api_cluster.store.delete("pods", "default", "late")
    consumer.join(timeout=10)
    assert seen == [("ADDED", "late"), ("DELETED", "late")]


def test_label_selector_transitions_become_added_and_deleted(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a", labels={"app": "web"})
    api_cluster.pod("b", labels={"app": "db"})
    since = str(api_cluster.store.resource_version)

    def relabel(name: str, app: str) -> None:
        api_cluster.store.update(
            "pods", "default", name, lambda p: p["metadata"]["labels"].update(app=app)
        )

    relabel("a", "db")  # leaves the selection
    relabel("b", "web")  # enters it
    api_cluster.store.update("pods", "default", "b", lambda p: p["status"].update(phase="X"))
    assert _events(api_client, resource_version=since, label_selector="app=web") == [
        ("DELETED", "a"),
        ("ADDED", "b"),
        ("MODIFIED", "b"),
    ]


def test_a_field_selector_watches_one_object(api_cluster: ApiCluster, api_client: Any) -> None:
    api_cluster.pod("a")
    api_cluster.pod("b")
    assert _events(api_client, field_selector="metadata.name=b") == [("ADDED", "b")]


def test_too_old_resource_version_is_an_in_band_410_error(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a")
    stale = str(api_cluster.store.resource_version)
    api_cluster.pod("b")
    api_cluster.store.compact()
    events = _raw_events(api_client, resource_version=stale)
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"
    assert events[0]["object"]["message"].startswith("too old resource version")


def test_clients_recover_from_410_by_relisting(api_cluster: ApiCluster, api_client: Any) -> None:
    api_cluster.pod("a")
    stale = str(api_cluster.store.resource_version)
    api_cluster.pod("b")
    api_cluster.store.compact()
    v1 = client.CoreV1Api(api_client)
    with pytest.raises(client.ApiException) as caught:
        list(
            watch.Watch().stream(
                v1.list_namespaced_pod, "default", resource_version=stale, timeout_seconds=1
            )
        )
    assert caught.value.status == 410
    fresh = v1.list_namespaced_pod("default")
    assert [p.metadata.name for p in fresh.items] == ["a", "b"]
    api_cluster.pod("c")
    assert _events(api_client, resource_version=fresh.metadata.resource_version) == [("ADDED", "c")]


def test_bookmarks_carry_only_the_resource_version(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("a")
    since = str(api_cluster.store.resource_version)
    events = _raw_events(api_client, resource_version=since, allow_watch_bookmarks=True)
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks, "a 1 s watch with 0.2 s bookmark interval must see bookmarks"
    assert bookmarks[0]["object"] == {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": since},
    }
    assert all(e["type"] == "BOOKMARK" for e in events)


def test_no_bookmarks_unless_asked(api_cluster: ApiCluster, api_client: Any) -> None:
    since = str(api_cluster.store.resource_version)
    assert _raw_events(api_client, resource_version=since) == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1",
        "/api/v1/namespaces/default/pods?watch=True&timeoutSeconds=1",
        "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1",
        "/api/v1/watch/namespaces/default/pods?timeoutSeconds=1",
        "/api/v1/watch/namespaces/default/pods/a?timeoutSeconds=1",
        "/api/v1/pods?watch=true&timeoutSeconds=1",
    ],
    ids=[
        "watch=true",
        "watch=True as the python client sends it",
        "watch=1",
        "the legacy watch path",
        "the legacy watch path for one object",
        "across all namespaces",
    ],
)
def test_watch_spellings(api_cluster: ApiCluster, path: str) -> None:
    api_cluster.pod("a")
    response = raw_request(api_cluster, "GET", path)
    assert response.status == 200
    assert response.headers["transfer-encoding"] == "chunked"
    events = [json.loads(line) for line in response.body.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a")]


def test_watch_after_a_table_list_sends_table_rows(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a")
    api_cluster.pod("b")
    response = raw_request(
        api_cluster,
        "GET",
        "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
    )
    first, second = (json.loads(line) for line in response.body.splitlines())
    assert first["object"]["kind"] == "Table"
    assert [c["name"] for c in first["object"]["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert second["object"]["columnDefinitions"] == []
    assert second["object"]["rows"][0]["cells"][0] == "b"
    assert second["object"]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_stop_closes_open_watches(api_cluster: ApiCluster, api_client: Any) -> None:
    api_cluster.pod("a")
    started, ended = threading.Event(), threading.Event()

    def consume() -> None:
        try:
            for _ in watch.Watch().stream(
                client.CoreV1Api(api_client).list_namespaced_pod,
                "default",
                timeout_seconds=60,
                _request_timeout=30,
            ):
                started.set()
        except Exception:  # a closed connection may surface as a protocol error
            pass
        ended.set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    assert started.wait(timeout=10)
    api_cluster.server.stop()
    assert ended.wait(timeout=10)


def test_send_initial_events_ends_the_initial_list_with_an_annotated_bookmark(
    api_cluster: ApiCluster,
) -> None:
    api_cluster.pod("a")
    rv = api_cluster.store.resource_version
    response = raw_request(
        api_cluster,
        "GET",
        "/api/v1/namespaces/default/pods?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
        f"&resourceVersionMatch=NotOlderThan&resourceVersion={rv}&timeoutSeconds=1",
    )
    first, second = (json.loads(line) for line in response.body.splitlines()[:2])
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "a")
    assert second == {
        "type": "BOOKMARK",
        "object": {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "resourceVersion": str(rv),
                "annotations": {"k8s.io/initial-events-end": "true"},
            },
        },
    }


def test_a_watch_sees_every_concurrent_write_once_and_in_order(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    api_cluster.pod("p", labels={"n": "0"})
    since = api_cluster.store.resource_version
    writes = 150

    def write() -> None:
        for i in range(1, writes + 1):

            def relabel(pod: dict[str, Any], n: str = str(i)) -> None:
                pod["metadata"]["labels"].update(n=n)

            api_cluster.store.update("pods", "default", "p", relabel)
            if i % 10 == 0:  # other resources interleave in the store's history
                api_cluster.store.create(
                    "events", {"metadata": {"name": f"e{i}", "namespace": "default"}}
                )

    writer = threading.Thread(target=write, daemon=True)
    seen: list[tuple[int, str]] = []
    w = watch.Watch()
    writer.start()
    for event in w.stream(
        client.CoreV1Api(api_client).list_namespaced_pod,
        "default",
        resource_version=str(since),
        timeout_seconds=20,
    ):
        obj = event["raw_object"]
        seen.append((int(obj["metadata"]["resourceVersion"]), obj["metadata"]["labels"]["n"]))
        if len(seen) == writes:
            w.stop()
    writer.join(timeout=10)
    versions = [rv for rv, _ in seen]
    assert versions == sorted(set(versions))
    assert [n for _, n in seen] == [str(i) for i in range(1, writes + 1)]


def test_the_server_counts_open_watches_and_requests_by_verb_and_resource() -> None:
    """What a benchmark reads: watch connections open now, requests per verb/resource."""
    import http.client

    from kube_test_cluster.cluster import EmulatedCluster

    with EmulatedCluster(tls=False, token="") as cluster:
        host, port = cluster.url.removeprefix("http://").rsplit(":", 1)
        before = cluster.stats()
        assert before["watches_open"] == 0
        watches = []
        for _ in range(2):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            query = "watch=true&timeoutSeconds=30&allowWatchBookmarks=true"
            conn.request("GET", f"/api/v1/namespaces/default/pods?{query}")
            response = conn.getresponse()
            assert response.status == 200
            watches.append((conn, response))
        assert cluster.wait_for(lambda: cluster.stats()["watches_open"] == 2, timeout=5)
        plain = http.client.HTTPConnection(host, int(port), timeout=10)
        for path in ("/api/v1/namespaces/default/pods", "/apis/apps/v1/statefulsets", "/api"):
            plain.request("GET", path)
            plain.getresponse().read()
        plain.close()
        stats = cluster.stats()
        assert stats["requests"]["watch pods"] == 2
        assert stats["requests"]["list pods"] == 1
        assert stats["requests"]["list statefulsets"] == 1
        assert stats["requests"]["get discovery"] == 1
        assert stats["requests_total"] - before["requests_total"] == 5
        assert stats["requests_per_minute"] > 0
        for conn, response in watches:
            response.close()
            conn.close()
        # the server sees a closed watch when it next writes to it (here: a bookmark a second)
        assert cluster.wait_for(lambda: cluster.stats()["watches_open"] == 0, timeout=10)
        assert cluster.stats()["watches_opened"] == 2
