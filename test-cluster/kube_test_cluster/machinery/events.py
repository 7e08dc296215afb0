"""``v1`` Events as client-go's event recorder writes them.

Identical events (same object, reason, message, source) are folded into one
whose ``count`` grows and ``lastTimestamp`` moves, as the recorder's
``EventLogger`` does; names are ``<object>.<hex unix nanos>``. Like the
apiserver (``--event-ttl=1h``), events expire an hour after they were last seen.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from kube_test_cluster.clock import Clock, rfc3339
from kube_test_cluster.registry.store import Obj, Store, StoreError

EVENT_TTL = timedelta(hours=1)

_AggregationKey = tuple[str, str, str, str, str, str, str, str]


class EventRecorder:
    """Writes events into the store; one instance per emulated cluster."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._seen: dict[_AggregationKey, tuple[str, str]] = {}  # key -> (namespace, name)
        self._last: dict[tuple[str, str], datetime] = {}  # (namespace, name) -> lastTimestamp
        self._stamps: dict[tuple[str, str], int] = {}  # (namespace, object) -> last name suffix

    def record(
        self,
        involved: Obj,
        type_: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str | None = None,
        field_path: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Emit (or fold into an identical earlier) event about ``involved``."""
        when = at or self.clock.now()
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        key: _AggregationKey = (
            namespace,
            meta.get("uid", ""),
            type_,
            reason,
            message,
            component,
            host or "",
            field_path or "",
        )
        known = self._seen.get(key)
        if known is not None and self._bump(known, when):
            return
        ref: Obj = {
            "kind": involved.get("kind"),
            "namespace": meta.get("namespace"),
            "name": meta["name"],
            "uid": meta.get("uid"),
            "apiVersion": involved.get("apiVersion"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        if field_path:
            ref["fieldPath"] = field_path
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        stamp = rfc3339(when)
        event: Obj = {
            "metadata": {"namespace": namespace},
            "involvedObject": {k: v for k, v in ref.items() if v is not None},
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        nanos = int(when.timestamp() * 1_000_000) * 1000
        previous = self._stamps.get((namespace, meta["name"]), 0)
        nanos = max(nanos, previous + 1)  # same object, same instant: the next nanosecond
        for attempt in range(100):
            self._stamps[(namespace, meta["name"])] = nanos + attempt
            event["metadata"]["name"] = f"{meta['name']}.{nanos + attempt:x}"
            try:
                self.store.add("events", event)  # a fresh body: handed over
            except StoreError as error:
                if error.code == 409:
                    continue
                raise
            name = event["metadata"]["name"]
            self._seen[key] = (namespace, name)
            self._last[(namespace, name)] = when
            return

    def _bump(self, where: tuple[str, str], when: datetime) -> bool:
        stamp = rfc3339(when)

        def bump(event: Obj) -> None:
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = stamp

        try:
            self.store.update("events", where[0], where[1], bump)
        except StoreError:
            return False  # deleted meanwhile (expired, or by a user): start a new one
        self._last[where] = when
        return True

    def expire(self, now: datetime) -> None:
        """Delete events not seen for an hour, as the apiserver's event TTL does."""
        cutoff = now - EVENT_TTL
        stale = [where for where, last in self._last.items() if last < cutoff]
        for where in stale:
            del self._last[where]
            with contextlib.suppress(StoreError):
                self.store.delete("events", where[0], where[1])
        if stale:
            gone = set(stale)
            self._seen = {k: v for k, v in self._seen.items() if v not in gone}
