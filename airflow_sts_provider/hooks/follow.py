"""What following a watch hands its reader, and the rule for relisting after 410 Gone.

:meth:`AsyncWorkloadHook.follow <airflow_sts_provider.hooks.workload.AsyncWorkloadHook.follow>`
is the one place a raw watch stream is read, for a trigger's own watches and for the
shared informer alike. It hands out :class:`Change` items: a (re)list, an object's
change, or "stale"/"whole again" around a reconnect (events may be missed until the
server accepts the watch again, so nothing is decided meanwhile).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_sts_provider.hooks.reads import Listing
from airflow_sts_provider.hooks.retry import RetryPolicy
from airflow_sts_provider.hooks.wire import JsonObject, Request, error_for_status, event_object

__all__ = [
    "HEALTHY_WATCH_SECONDS",
    "Change",
    "Changed",
    "Expiries",
    "Listed",
    "Stale",
    "WatchExpiredError",
    "change_of",
    "version_of",
]

#: Seconds a watch must have been open for its 410 to relist at once again (not back off).
HEALTHY_WATCH_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Listed:
    """Everything the resource holds now; watching resumes from its version."""

    listing: Listing


@dataclass(frozen=True, slots=True)
class Changed:
    """One object ``ADDED``, ``MODIFIED`` or ``DELETED``."""

    type: str
    obj: JsonObject


@dataclass(frozen=True, slots=True)
class Stale:
    """``True``: the watch is reconnecting (events may be missed); ``False``: whole again."""

    stale: bool


Change = Listed | Changed | Stale


class WatchExpiredError(Exception):
    """The watch fell too far behind (410 Gone): list again and watch from the new version."""


class Expiries:
    """When to relist after 410 Gone, as client-go's reflector does: the first relist at
    once, back-to-back ones after the retry policy's backoff, and a watch that stayed open
    :data:`HEALTHY_WATCH_SECONDS` resets the count. A server that 410s every watch it
    opens then costs a relist per backoff step, never a hot loop."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._count = 0
        self._watching_since: float | None = None

    def watching(self) -> None:
        """A watch was accepted: from now on it may prove healthy."""
        self._watching_since = self._monotonic()

    def relist_delay(self, retry: RetryPolicy) -> float:
        """Count one 410; seconds to wait before relisting (0: at once)."""
        since = self._watching_since
        healthy = since is not None and self._monotonic() - since >= HEALTHY_WATCH_SECONDS
        self._count = 1 if healthy else self._count + 1
        self._watching_since = None
        return retry.delay(self._count - 1) if self._count > 1 else 0.0


def change_of(request: Request, event: Mapping[str, Any]) -> tuple[Changed | None, str | None]:
    """One raw watch event as a change (None for a bookmark) and the version it carries.

    :raises WatchExpiredError: an ERROR event with 410.
    :raises KubernetesApiCallError: any other ERROR event, as the status it carries
        (transient ones are retried by the follower); a line that is no watch event.
    """
    event_type = str(event.get("type") or "")
    obj = event_object(request, event)
    if event_type == "ERROR":
        if obj.get("code") == 410:
            raise WatchExpiredError(f"watch {request.target}: {obj.get('message', '410')}")
        raise error_for_status(request, int(obj.get("code") or 500), json.dumps(obj))
    change = Changed(event_type, obj) if event_type in ("ADDED", "MODIFIED", "DELETED") else None
    return change, version_of(obj)


def version_of(obj: Mapping[str, Any]) -> str | None:
    """An object's ``metadata.resourceVersion`` (a bookmark's too), if it has one."""
    meta = obj.get("metadata")
    version = meta.get("resourceVersion") if isinstance(meta, Mapping) else None
    return str(version) if version else None
