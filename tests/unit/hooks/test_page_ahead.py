"""The sync hook's next page is on its way before this page is decoded.

The decode is one C call that holds the GIL, and the judging after it lets another
thread run only every switch interval: a request merely handed to a worker thread
went out after the decode, page after page. These tests drive the hook's pager with
a transport that records the order of things; no server, no clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from airflow_sts_provider.hooks.clock import ServerClock
from airflow_sts_provider.hooks.reads import Read
from airflow_sts_provider.hooks.wire import Request
from airflow_sts_provider.hooks.workload import _SyncPages

LIST_PODS = Request("list", "pods", "shop")


def page(token: str | None) -> bytes:
    """A page as the API server writes it: its ``continue`` token in the leading metadata."""
    meta = {"resourceVersion": "7", **({"continue": token} if token else {})}
    return json.dumps({"kind": "PodList", "metadata": meta, "items": []}).encode()


class RecordingHook:
    """The two calls :class:`_SyncPages` makes of the hook, recording their order."""

    def __init__(self, tokens: Mapping[str | None, str | None]) -> None:
        self.tokens = tokens  # this page's continue token -> the next page's token
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def _get_once(self, request: Request, params: Mapping[str, Any], clock: ServerClock) -> bytes:
        with self.lock:
            self.seen.append(f"request {params.get('continue')}")
        return page(self.tokens[params.get("continue")])

    def _get(
        self,
        request: Request,
        params: Mapping[str, Any],
        clock: ServerClock,
        *,
        first: Future[bytes] | None = None,
        on_bytes: Callable[[bytes], object] | None = None,
    ) -> dict[str, Any]:
        data = first.result() if first is not None else self._get_once(request, params, clock)
        if on_bytes is not None:
            on_bytes(data)
        with self.lock:
            self.seen.append(f"decode {params.get('continue')}")
        decoded: dict[str, Any] = json.loads(data)
        return decoded


def test_the_next_page_is_requested_before_this_one_is_decoded() -> None:
    hook = RecordingHook({None: "p2", "p2": "p3", "p3": None})
    pages = _SyncPages(hook, ServerClock())  # type: ignore[arg-type]
    try:
        for token in (None, "p2", "p3"):
            params = {"limit": "500", **({"continue": token} if token else {})}
            pages.page(Read(LIST_PODS, params, paged=True))
    finally:
        pages.close()
    assert hook.seen == [
        "request None",
        "request p2",
        "decode None",
        "request p3",
        "decode p2",
        "decode p3",
    ]


def test_a_page_fetched_ahead_that_the_plan_does_not_ask_for_is_not_used() -> None:
    """The plan stays the one authority: after a restart it asks for the first page again."""
    hook = RecordingHook({None: "p2", "p2": None})
    pages = _SyncPages(hook, ServerClock())  # type: ignore[arg-type]
    try:
        pages.page(Read(LIST_PODS, {"limit": "500"}, paged=True))
        again = pages.page(Read(LIST_PODS, {"limit": "500"}, paged=True))
    finally:
        pages.close()
    assert again["metadata"]["continue"] == "p2"
    assert hook.seen[:3] == ["request None", "request p2", "decode None"]
    assert hook.seen.count("request None") == 2
