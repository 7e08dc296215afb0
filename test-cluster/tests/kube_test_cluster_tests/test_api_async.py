"""The same API through ``kubernetes_asyncio`` (aiohttp): list, paging, watch, 410."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from kubernetes_asyncio import client, config, watch

from kube_test_cluster_tests.conftest import ApiCluster

T = TypeVar("T")


def _run(cluster: ApiCluster, body: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``body(api_client)`` on a fresh event loop with a client from the kubeconfig."""

    async def main() -> T:
        api_client = await config.new_client_from_config(config_file=str(cluster.kubeconfig))
        async with api_client:
            return await asyncio.wait_for(body(api_client), timeout=30)

    return asyncio.run(main())


def test_async_list_with_a_label_selector(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a", labels={"app": "web"})
    api_cluster.pod("b", labels={"app": "db"})

    async def body(api: Any) -> list[str]:
        pods = await client.CoreV1Api(api).list_namespaced_pod(
            "default", label_selector="app in (web)"
        )
        return [p.metadata.name for p in pods.items]

    assert _run(api_cluster, body) == ["a"]


def test_async_paging_over_many_pods(api_cluster: ApiCluster) -> None:
    for i in range(30):
        api_cluster.pod(f"pod-{i:02d}")

    async def body(api: Any) -> list[str]:
        v1: Any = client.CoreV1Api(api)
        names: list[str] = []
        token = None
        while True:
            page = await v1.list_namespaced_pod("default", limit=8, _continue=token)
            names += [p.metadata.name for p in page.items]
            token = page.metadata._continue
            if not token:
                return names

    assert _run(api_cluster, body) == [f"pod-{i:02d}" for i in range(30)]


def test_async_raw_json_and_date_header(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    api_cluster.clock.advance(3600)

    async def body(api: Any) -> tuple[dict[str, Any], str]:
        apps: Any = client.AppsV1Api(api)
        response = await apps.read_namespaced_stateful_set("web", "default", _preload_content=False)
        return json.loads(await response.read()), response.headers["Date"]

    obj, date = _run(api_cluster, body)
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(date) == api_cluster.clock.now().replace(microsecond=0)


def test_async_watch_from_a_resource_version(api_cluster: ApiCluster) -> None:
    api_cluster.pod("before")
    since = str(api_cluster.store.resource_version)
    api_cluster.pod("after")
    api_cluster.store.delete("pods", "default", "before")

    async def body(api: Any) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        async with watch.Watch().stream(
            client.CoreV1Api(api).list_namespaced_pod,
            "default",
            resource_version=since,
            timeout_seconds=1,
        ) as stream:
            async for event in stream:
                seen.append((event["type"], event["object"].metadata.name))
        return seen

    assert _run(api_cluster, body) == [("ADDED", "after"), ("DELETED", "before")]


def test_async_watch_sees_live_changes(api_cluster: ApiCluster) -> None:
    since = str(api_cluster.store.resource_version)

    async def body(api: Any) -> list[str]:
        w = watch.Watch()
        names: list[str] = []

        async def produce() -> None:
            await asyncio.sleep(0.1)
            await asyncio.to_thread(api_cluster.pod, "live")

        producer = asyncio.create_task(produce())
        async with w.stream(
            client.CoreV1Api(api).list_namespaced_pod,
            "default",
            resource_version=since,
            timeout_seconds=10,
        ) as stream:
            async for event in stream:
                names.append(event["object"].metadata.name)
                w.stop()
        await producer
        return names

    assert _run(api_cluster, body) == ["live"]


def test_async_watch_raises_410_for_a_compacted_resource_version(
    api_cluster: ApiCluster,
) -> None:
    api_cluster.pod("a")
    stale = str(api_cluster.store.resource_version)
    api_cluster.pod("b")
    api_cluster.store.compact()

    async def body(api: Any) -> None:
        async with watch.Watch().stream(
            client.CoreV1Api(api).list_namespaced_pod,
            "default",
            resource_version=stale,
            timeout_seconds=1,
        ) as stream:
            async for _ in stream:
                pass

    with pytest.raises(client.ApiException) as caught:
        _run(api_cluster, body)
    assert caught.value.status == 410


def test_async_errors_are_api_exceptions_with_status_bodies(api_cluster: ApiCluster) -> None:
    async def body(api: Any) -> None:
        await client.AppsV1Api(api).read_namespaced_stateful_set("nope", "default")

    with pytest.raises(client.ApiException) as caught:
        _run(api_cluster, body)
    assert caught.value.status == 404
    assert json.loads(caught.value.body or b"")["reason"] == "NotFound"
