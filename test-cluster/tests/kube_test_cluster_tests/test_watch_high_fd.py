"""A watch served on a file descriptor above 1024 stays open.

``select.select`` refuses descriptors >= FD_SETSIZE (1024) with ``ValueError``; the
server's "did the client hang up?" check took that for a hang-up and ended every
watch beyond the first thousand or so open sockets at once, so 1,000 deferred
triggers (2,000 watches) never settled (``benchmarks/bench_scale.py``).
"""

from __future__ import annotations

import http.client
import os
import resource
import ssl
import time
from collections.abc import Iterator

import pytest

from kube_test_cluster_tests.conftest import ApiCluster

#: descriptors held open so the next socket the server accepts lands above FD_SETSIZE
FILLER = 1100


@pytest.fixture
def high_fds() -> Iterator[None]:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < FILLER + 200:
        pytest.skip(f"ulimit -n is {soft}: cannot open {FILLER} descriptors to reach fd 1024")
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(FILLER)]
    try:
        yield
    finally:
        for fd in held:
            os.close(fd)


def test_a_watch_on_a_descriptor_above_1024_is_not_taken_for_a_hang_up(
    api_cluster: ApiCluster, high_fds: None
) -> None:
    server = api_cluster.server
    assert server.ca_pem is not None
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
    conn.request(
        "GET",
        "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=30",
        headers={"Authorization": f"Bearer {api_cluster.token}"},
    )
    response = conn.getresponse()
    assert response.status == 200
    try:
        time.sleep(1.0)  # several of the watch's hang-up checks (every 0.2 s)
        assert server.stats.watches_open == 1
    finally:
        conn.close()
