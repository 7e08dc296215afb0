"""A watch whose client hangs up ends at once, not at its next event, bookmark or timeout.

kubectl wait over many pods opens (and drops) one watch per pod: each dropped watch
must not keep a server thread polling the store until its timeout.
"""

from __future__ import annotations

import http.client
import ssl
import time

import pytest

from kube_test_cluster_tests.conftest import ApiCluster


def connect(api_cluster: ApiCluster, timeout: float) -> http.client.HTTPConnection:
    server = api_cluster.server
    assert server.ca_pem is not None
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    return http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=timeout)


def _open_watches(api_cluster: ApiCluster, count: int, *, bookmarks: bool) -> None:
    for number in range(count):
        conn = connect(api_cluster, timeout=10)
        query = f"watch=true&timeoutSeconds=300&fieldSelector=metadata.name%3Dp-{number}"
        if bookmarks:
            query += "&allowWatchBookmarks=true"
        conn.request(
            "GET",
            f"/api/v1/namespaces/default/pods?{query}",
            headers={"Authorization": f"Bearer {api_cluster.token}"},
        )
        response = conn.getresponse()
        assert response.status == 200
        conn.close()  # the client hangs up with the watch still open


def _wait_until_closed(api_cluster: ApiCluster, within: float) -> float:
    start = time.monotonic()
    while api_cluster.server.stats.watches_open and time.monotonic() - start < within:
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.mark.parametrize("bookmarks", [False, True], ids=["no bookmarks", "bookmarks"])
def test_a_dropped_watch_is_closed_promptly(api_cluster: ApiCluster, bookmarks: bool) -> None:
    _open_watches(api_cluster, 20, bookmarks=bookmarks)
    # Waits for what the server did (every watch closed), bounded generously: how soon
    # is a matter of load, the poll period (0.2 s) says the rest.
    took = _wait_until_closed(api_cluster, within=30.0)
    assert api_cluster.server.stats.watches_open == 0, f"still open after {took:.2f} s"
