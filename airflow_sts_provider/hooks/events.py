"""The cluster's own words in a failure: Warning events of the failing pods.

One enrichment path for both hooks, written once as a plan of reads (see
:mod:`~airflow_sts_provider.hooks.reads`): which pods (the failing ones, at most
:data:`MAX_PODS_WITH_EVENTS`, so a 1,000-pod crash loop does not cost 1,000 LISTs),
which events (Warning, about that pod, of its current uid) and how they read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from airflow_sts_provider.readiness import State, Verdict

#: Failing pods whose events are read per poke.
MAX_PODS_WITH_EVENTS: Final = 5
#: Newest Warning events per failing pod that make it into the error message.
EVENTS_PER_POD: Final = 3


def pods_needing_events(verdict: Verdict) -> tuple[str, ...]:
    """The pods whose Warning events go into the message: the failing ones only."""
    return tuple(pod.name for pod in verdict.pods if pod.state is State.FAILED)


def event_field_selector(pod_name: str) -> str:
    """Warning events about one pod (the kubelet's and the scheduler's own words)."""
    return f"involvedObject.kind=Pod,involvedObject.name={pod_name},type=Warning"


def _event_time(event: Mapping[str, Any]) -> str:
    series = event.get("series") or {}
    meta = event.get("metadata") or {}
    return str(
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or meta.get("creationTimestamp")
        or ""
    )


def _event_count(event: Mapping[str, Any]) -> int:
    series = event.get("series") or {}
    count = series.get("count") or event.get("count") or 1
    return count if isinstance(count, int) and not isinstance(count, bool) else 1


def _about_this_pod(event: Mapping[str, Any], pod_uid: str | None) -> bool:
    if event.get("type", "Warning") != "Warning":
        return False
    involved = event.get("involvedObject") or {}
    return not (pod_uid and involved.get("uid") and involved.get("uid") != pod_uid)


def warning_event_lines(
    events: Sequence[Mapping[str, Any]], *, pod_uid: str | None = None, limit: int = EVENTS_PER_POD
) -> list[str]:
    """The newest ``limit`` Warning events as ``"BackOff: Back-off restarting ... (x5)"``.

    Events of an earlier pod with the same name (StatefulSet pods are recreated
    under their name) are dropped when ``pod_uid`` is known.
    """
    chosen = sorted(
        (event for event in events if _about_this_pod(event, pod_uid)),
        key=_event_time,
        reverse=True,
    )
    lines = []
    for event in chosen[:limit]:
        reason = event.get("reason") or "Warning"
        message = " ".join(str(event.get("message") or "").split())
        count = _event_count(event)
        suffix = f" (x{count})" if count > 1 else ""
        lines.append(f"{reason}: {message}{suffix}" if message else f"{reason}{suffix}")
    return lines
