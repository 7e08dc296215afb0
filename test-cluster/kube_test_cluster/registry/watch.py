"""Watch streams: the store's history as ``{"type", "object"}`` events.

Semantics follow the apiserver's watch cache:

* from no resourceVersion (or ``"0"``): synthetic ``ADDED`` events for every
  current object, then live changes;
* from a resourceVersion: every change after it, or one ``ERROR`` event
  carrying a 410 ``Expired`` Status when that history is gone (a watch answers
  200 and reports the error in-band, unlike a list);
* selectors are judged on both the old and the new object, so an object that
  stops matching arrives as ``DELETED`` and one that starts matching as ``ADDED``;
* ``BOOKMARK`` events carry only ``metadata.resourceVersion``;
* the stream ends after ``timeoutSeconds`` (real seconds), a ``watch_cut_after``
  fault, or server shutdown.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kube_test_cluster.registry.store import Change, Gone, Store

Obj = dict[str, Any]

#: how often (real seconds) a watch re-checks for shutdown while nothing happens
_POLL = 0.2


@dataclass(frozen=True)
class WatchSpec:
    resource: str
    namespace: str | None
    name: str | None
    matches: Callable[[Obj], bool]  # label + field selectors
    resource_version: str | None
    timeout: float  # real seconds
    bookmarks: bool
    bookmark_interval: float  # real seconds
    render: Callable[[Obj, bool], Obj]  # (object, first event) -> what to send
    #: ``sendInitialEvents=true`` (the streaming-list protocol): current objects, then a
    #: bookmark annotated ``k8s.io/initial-events-end``, then live changes
    initial_events: bool = False


def stream(
    store: Store,
    spec: WatchSpec,
    stopping: threading.Event,
    client_gone: Callable[[], bool] = lambda: False,
) -> Iterator[Obj]:
    """Yield watch events until timeout, shutdown, the client hanging up (``client_gone``,
    asked at least every ``_POLL`` seconds), or an in-band error."""
    deadline = time.monotonic() + spec.timeout
    api_version, kind, _ = store.resources[spec.resource]
    first = True

    def event(type_: str, obj: Obj) -> Obj:
        nonlocal first
        rendered = spec.render(obj, first)
        first = False
        return {"type": type_, "object": rendered}

    def wanted(obj: Obj | None) -> bool:
        if obj is None:
            return False
        meta = obj["metadata"]
        if spec.namespace is not None and meta.get("namespace", "") != spec.namespace:
            return False
        if spec.name is not None and meta.get("name") != spec.name:
            return False
        return spec.matches(obj)

    if spec.initial_events or spec.resource_version in (None, "", "0"):
        items, last = store.snapshot(spec.resource, spec.namespace, copies=False)
        for obj in items:
            if wanted(obj):
                yield event("ADDED", obj)
        if spec.initial_events:
            yield _bookmark(api_version, kind, last, initial_events_end=True)
    else:
        last = int(spec.resource_version)
    last_bookmark = time.monotonic()
    while not stopping.is_set():
        try:
            with store.lock:
                changes = store.changes_since(last, spec.resource)
                newest = store.resource_version
        except Gone as gone:
            yield {
                "type": "ERROR",
                "object": {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": gone.message,
                    "reason": "Expired",
                    "code": 410,
                },
            }
            return
        for change in changes:
            converted = _convert(change, wanted)
            if converted is not None:
                yield event(*converted)
        last = max(last, newest)
        now = time.monotonic()
        if spec.bookmarks and now - last_bookmark >= spec.bookmark_interval:
            last_bookmark = now
            yield _bookmark(api_version, kind, last)
        remaining = deadline - now
        if remaining <= 0 or client_gone():
            return
        wait = min(_POLL, remaining)
        if spec.bookmarks:
            wait = min(wait, max(spec.bookmark_interval - (now - last_bookmark), 0.01))
        store.wait_for_change(last, timeout=wait)


def _bookmark(api_version: str, kind: str, rv: int, *, initial_events_end: bool = False) -> Obj:
    metadata: Obj = {"resourceVersion": str(rv)}
    if initial_events_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {
        "type": "BOOKMARK",
        "object": {"kind": kind, "apiVersion": api_version, "metadata": metadata},
    }


def _convert(change: Change, wanted: Callable[[Obj | None], bool]) -> tuple[str, Obj] | None:
    """The event a filtered watcher sees for one change (the watch cache's rules)."""
    now_passes = change.type != "DELETED" and wanted(change.obj)
    old_passes = wanted(change.old)
    if now_passes and old_passes:
        return "MODIFIED", change.obj
    if now_passes:
        return "ADDED", change.obj
    if old_passes and change.type == "DELETED":
        return "DELETED", change.obj
    if old_passes:
        assert change.old is not None
        gone = copy.deepcopy(change.old)
        gone["metadata"]["resourceVersion"] = str(change.resource_version)
        return "DELETED", gone
    return None
