"""What the API server counts: watch connections open now, and requests by verb and resource.

A benchmark reads "watch connections open at the API server" and "requests per
minute" from :meth:`RequestStats.snapshot` (``EmulatedCluster.stats()``), the
way one would read ``apiserver_longrunning_requests`` and
``apiserver_request_total`` from a real apiserver's metrics.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from kube_test_cluster.apiserver.rbac import verb_for
from kube_test_cluster.apiserver.request import ApiRequest
from kube_test_cluster.apiserver.router import Discovery, resolve


def request_key(req: ApiRequest) -> tuple[str, str]:
    """``(verb, resource)`` of a request: ``("watch", "pods")``, ``("get", "pods/status")``;
    discovery and unknown paths count as ``("get", "discovery")`` / ``(verb, "")``."""
    try:
        route = resolve(req.path)
    except Exception:  # a malformed path: the handler answers it; count it anyway
        route = None
    if isinstance(route, Discovery):
        return req.method.lower(), "discovery"
    if route is None:
        return req.method.lower(), ""
    watch = req.method == "GET" and (route.legacy_watch or req.flag("watch"))
    verb = verb_for(req.method, has_name=route.name is not None, watch=watch)
    resource = f"{route.resource}/{route.subresource}" if route.subresource else route.resource
    return verb, resource


class RequestStats:
    """Thread-safe counters the HTTP handler updates."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._watches_open = 0
        self._watches_opened = 0
        self._open_by_resource: Counter[str] = Counter()
        #: The resource of the request this handler thread serves: a watch opens in it.
        self._serving = threading.local()

    def request(self, req: ApiRequest) -> None:
        key = request_key(req)
        self._serving.resource = key[1]
        with self._lock:
            self._requests[key] += 1

    def watch_opened(self) -> None:
        resource = getattr(self._serving, "resource", "")
        with self._lock:
            self._watches_open += 1
            self._watches_opened += 1
            self._open_by_resource[resource] += 1

    def watch_closed(self) -> None:
        resource = getattr(self._serving, "resource", "")
        with self._lock:
            self._watches_open -= 1
            self._open_by_resource[resource] -= 1

    @property
    def watches_open(self) -> int:
        with self._lock:
            return self._watches_open

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: ``watches_open``, ``watches_opened``, ``requests_total``,
        ``requests`` (``{"verb resource": count}``), ``watches_open_by_resource``
        (``{"pods": 1}``: how many triggers share a watch shows here), ``seconds``
        (real, since start) and ``requests_per_minute``."""
        with self._lock:
            seconds = max(time.monotonic() - self._started, 1e-9)
            total = sum(self._requests.values())
            return {
                "watches_open": self._watches_open,
                "watches_opened": self._watches_opened,
                "watches_open_by_resource": {
                    resource: n for resource, n in sorted(self._open_by_resource.items()) if n
                },
                "requests_total": total,
                "requests": {f"{v} {r}".strip(): n for (v, r), n in sorted(self._requests.items())},
                "seconds": seconds,
                "requests_per_minute": total * 60.0 / seconds,
            }
