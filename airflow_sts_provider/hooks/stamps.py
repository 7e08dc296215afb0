"""Stamps the stability windows are timed by, bounded from above to the microsecond.

The API writes ``lastTransitionTime`` and ``startedAt`` truncated to the second, so
a pod stamped ``12:00:00Z`` became Ready somewhere in ``[12:00:00, 12:00:01)``.
Read at face value a window could end up to a second early. The hooks hand the
rules (which take every stamp at face value) a sharper stamp instead: the latest
moment the change can have happened, which is the earlier of

- the end of the stamp's second, and
- the moment the object reached us (a change is written before it is delivered),
  on the server's clock read from above (:meth:`~.clock.ServerClock.upper`).

A watch delivers a transition within milliseconds, so a window watched live ends
when it truly does, never before. Only whole-second stamps in the places the rules
time windows by are touched (conditions' ``lastTransitionTime``, containers'
``running.startedAt``); anything else stays as the API sent it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

from airflow_sts_provider.hooks.wire import JsonObject

__all__ = ["carry_stamps", "sharpen_body", "sharpen_stamps"]

_STATUSES = ("initContainerStatuses", "containerStatuses")


def sharpen_body(body: Any, bound: float | None) -> None:
    """:func:`sharpen_stamps` for a decoded body: one object, or a list's ``items``."""
    if not isinstance(body, dict):
        return
    items = body.get("items")
    delivered = _as_stamp(bound)  # once a body: a page holds thousands of stamps
    if isinstance(items, list) and "metadata" in body and "status" not in body:
        for item in items:
            _sharpen(item, delivered)
        return
    _sharpen(body, delivered)


def sharpen_stamps(obj: Any, bound: float | None) -> None:
    """Rewrite ``obj``'s whole-second window stamps, in place, to the latest moment they
    can stand for; ``bound``: epoch seconds by which the object was delivered, if known."""
    _sharpen(obj, _as_stamp(bound))


def _sharpen(obj: Any, delivered: str | None) -> None:
    for holder, key in _stamps(obj):
        value = holder[key]
        if _whole_second(value):
            holder[key] = _sharpened(value, delivered)


def carry_stamps(old: Any, new: Any) -> None:
    """Keep in ``new`` the earlier bound ``old`` had for the same stamp: the change is
    as old as the first version of the object that carried it."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    before = {path: holder[key] for path, (holder, key) in _by_path(old)}
    if not before:
        return
    for path, (holder, key) in _by_path(new):
        earlier = before.get(path)
        value = holder[key]
        if (
            isinstance(earlier, str)
            and isinstance(value, str)
            and len(earlier) == len(value) == 27
            and earlier[:19] == value[:19]
            and earlier < value
        ):
            holder[key] = earlier


def _whole_second(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 20 and value[4::3] == "--T::Z"


def _as_stamp(bound: float | None) -> str | None:
    """Epoch seconds as a stamp of the sharpened form (``YYYY-MM-DDTHH:MM:SS.ffffffZ``)."""
    if bound is None:
        return None
    return datetime.fromtimestamp(bound, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sharpened(stamp: str, delivered: str | None) -> str:
    """``stamp`` (``YYYY-MM-DDTHH:MM:SSZ``) as the latest moment it can stand for.

    Stamps of one fixed-width UTC form order as text as they do as times, so the
    bounds are compared as strings: a datetime per stamp cost 4x a page's decode.
    """
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        return stamp  # the rules say what is wrong with it
    second = stamp[:19]
    latest = second + ".999999Z"
    if delivered is None or delivered >= latest:
        return latest
    start = second + ".000000Z"
    return delivered if delivered > start else start


def _stamps(obj: Any) -> Iterator[tuple[MutableMapping[str, Any], str]]:
    for _, found in _by_path(obj):
        yield found


def _by_path(obj: Any) -> Iterator[tuple[tuple[str, ...], tuple[MutableMapping[str, Any], str]]]:
    """Each window stamp of ``obj`` with a path that names it across versions."""
    status = obj.get("status") if isinstance(obj, dict) else None
    if not isinstance(status, dict):
        return
    for cond in _dicts(status.get("conditions")):
        if "lastTransitionTime" in cond:
            # The status is part of the key: False then True within one second are two
            # transitions with one stamp, and the True one must not take the False's bound.
            path = ("condition", str(cond.get("type")), str(cond.get("status")))
            yield path, (cond, "lastTransitionTime")
    for field in _STATUSES:
        for container in _dicts(status.get(field)):
            state = container.get("state")
            running = state.get("running") if isinstance(state, dict) else None
            if isinstance(running, dict) and "startedAt" in running:
                # Likewise a restart within the second: a new run, a new container.
                run = (str(container.get("restartCount")), str(container.get("containerID")))
                yield (field, str(container.get("name")), *run), (running, "startedAt")


def _dicts(value: Any) -> Iterator[JsonObject]:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield item
