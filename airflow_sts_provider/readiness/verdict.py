"""What the rules answer: :class:`State`, :class:`Finding`, :class:`PodReport`, :class:`Verdict`.

Also how a verdict's one line is worded: the uniform count first ("2 of 3 ready"),
then every failure, or the first few waits. The rule modules only produce
findings and pod reports; :func:`workload_verdict` turns them into a verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NamedTuple, TypeVar

# --------------------------------------------------------------------------- payload size

#: Bytes of JSON one verdict may take in an XCom or a trigger event (the issue's 64 KB,
#: less room for the event's message and keys).
PAYLOAD_LIMIT = 48 * 1024
#: Verdicts with at most this many pods are first measured whole.
_FEW_PODS = 25
#: (pods kept, characters per text) tried in turn until the payload fits; the last
#: always does: a few short lines whatever the workload's size.
_CUTS: tuple[tuple[int | None, int | None], ...] = (
    (None, None),
    (_FEW_PODS, 1200),
    (10, 400),
    (0, 400),
)


def json_size(payload: Any) -> int:
    """Bytes of ``payload`` as the JSON Airflow stores."""
    return len(json.dumps(payload, default=str))


def cut(text: str, limit: int | None) -> str:
    """``text`` at most ``limit`` characters, saying how much was cut."""
    if limit is None or len(text) <= limit:
        return text
    note = f"... ({len(text) - limit} more characters cut)"
    return text[: max(0, limit - len(note))] + note


_Judged = TypeVar("_Judged", "PodReport", "Verdict")


def worst_first(judged: Sequence[_Judged]) -> list[_Judged]:
    """FAILED, then WAITING, then READY (pods or workloads), each group in its own order:
    what a payload cut to its size keeps first."""
    rank = {State.FAILED: 0, State.WAITING: 1, State.READY: 2}
    return sorted(judged, key=lambda item: rank[item.state])


class State(str, Enum):  # noqa: UP042 - the contract promises a str-mixin Enum
    """How far a workload is from running: the sensor maps it to done / poke again / fail."""

    READY = "ready"
    WAITING = "waiting"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that does not hold: its id (``"S3"``), the state it asks for, one short line."""

    rule: str
    state: State
    text: str

    def __iter__(self) -> Iterator[State | str]:
        """Unpacks as ``(state, text)``, the pair findings were before they carried a rule id."""
        yield self.state
        yield self.text


def rfc3339(value: datetime | None) -> str | None:
    """A datetime as the API writes it: UTC, ``Z``, microseconds only when there are any."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


class PodReport(NamedTuple):
    """One pod's verdict; ``reason`` starts with the pod's name so it can be logged alone.

    ``rule`` is the id of the rule that decided a pod that is not ready (the first
    one its reason names); None for a READY pod. A named tuple, not a frozen
    dataclass: a poke builds one per pod, and a frozen dataclass's ``__init__``
    costs about four times as much (``object.__setattr__`` per field). It is as
    immutable; change one with ``report._replace(...)``. It equals only another
    PodReport, never a plain tuple of the same values, as the dataclass did.
    """

    name: str
    state: State
    reason: str
    ready_since: datetime | None
    restarts: int
    revision: str | None
    pod_ip: str | None
    node: str | None
    rule: str | None = None

    def __eq__(self, other: object) -> bool:
        return type(other) is PodReport and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def to_dict(self, *, max_text: int | None = None) -> dict[str, Any]:
        """JSON-safe form for XCom: ``state`` as its string value, ``ready_since`` as RFC 3339.

        ``max_text`` cuts the reason (with its events) for a payload with a size limit.
        """
        return {
            "name": self.name,
            "state": self.state.value,
            "reason": cut(self.reason, max_text),
            "ready_since": rfc3339(self.ready_since),
            "restarts": self.restarts,
            "revision": self.revision,
            "pod_ip": self.pod_ip,
            "node": self.node,
            "rule": self.rule,
        }


def new_report(fields: tuple[Any, ...]) -> PodReport:
    """``PodReport(*fields)`` for all nine fields at half the cost (no keyword handling)."""
    return _new_tuple(PodReport, fields)


_new_tuple = tuple.__new__


@dataclass(frozen=True)
class Verdict:
    """The answer for one workload: its state, one actionable line, and every pod's report.

    ``findings`` holds the workload-level findings (not tied to one pod) so that
    :meth:`with_pod_events` can rebuild ``reason``; it is not part of ``to_dict()``.
    ``rules`` holds the ids of every rule that did not hold, workload and pod level,
    in table order. ``summary``, when a kind's rules have more to say than
    "2 of 3 ready" (old pods still serving, outdated pods under OnDelete), is the
    head :meth:`with_pod_events` keeps when it rebuilds ``reason``.
    """

    kind: str
    name: str
    namespace: str | None
    state: State
    reason: str
    desired: int
    ready: int
    revision: str | None
    pods: tuple[PodReport, ...]
    findings: tuple[Finding, ...] = field(default=(), repr=False, compare=False)
    rules: tuple[str, ...] = ()
    summary: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self, *, limit: int = PAYLOAD_LIMIT) -> dict[str, Any]:
        """JSON-safe form for XCom: the contract's keys, then ``rules``.

        At most ``limit`` bytes of JSON (Airflow keeps XComs and trigger events in its
        metadata DB; a 1,000,000-replica set would make megabytes): past it, fewer pods
        (the worst kept first) and shorter texts, ``desired``/``ready`` still exact and
        ``pods_omitted`` saying how many pod reports were cut.
        """
        payload: dict[str, Any] = {}
        for max_pods, max_text in _CUTS:
            if max_pods is None and len(self.pods) > _FEW_PODS:
                continue  # a big verdict is built from its first cut on: never whole
            payload = self._payload(max_pods, max_text)
            if json_size(payload) <= limit:
                return payload
        return payload

    def _payload(self, max_pods: int | None, max_text: int | None) -> dict[str, Any]:
        pods = self.pods if max_pods is None else worst_first(self.pods)[:max_pods]
        payload: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "state": self.state.value,
            "reason": cut(self.reason, max_text),
            "desired": self.desired,
            "ready": self.ready,
            "revision": self.revision,
            "pods": [pod.to_dict(max_text=max_text) for pod in pods],
            "rules": list(self.rules),
        }
        if len(pods) < len(self.pods):
            payload["pods_omitted"] = len(self.pods) - len(pods)
        return payload

    @property
    def failing_pods(self) -> tuple[PodReport, ...]:
        """Pods judged FAILED: what a fail-fast sensor names in its error."""
        return tuple(p for p in self.pods if p.state is State.FAILED)

    @property
    def pending_pods(self) -> tuple[PodReport, ...]:
        """Pods judged WAITING (missing, starting, stabilizing, outdated, extra)."""
        return tuple(p for p in self.pods if p.state is State.WAITING)

    @property
    def not_ready_pods(self) -> tuple[PodReport, ...]:
        """Failing pods first, then pending ones: one log line each per poke."""
        return self.failing_pods + self.pending_pods

    def with_pod_events(self, events_by_pod: Mapping[str, Sequence[str]]) -> Verdict:
        """Return a copy whose not-ready pods carry their recent events in their reason.

        The hook reads Warning events only for pods that are not ready (they hold the
        scheduler's or kubelet's own words: FailedMount, FailedScheduling, BackOff) and
        passes them here by pod name; the top-level reason is rebuilt to match, only
        when a pod's changed (a resource's own reason has no pod count to rebuild).
        """
        pods = tuple(
            _append_events(pod, events_by_pod.get(pod.name))
            if pod.state is not State.READY
            else pod
            for pod in self.pods
        )
        if all(new is old for new, old in zip(pods, self.pods, strict=True)):
            return self
        reason = compose_reason(
            self.kind,
            self.state,
            desired=self.desired,
            ready=self.ready,
            findings=self.findings,
            pods=pods,
            summary=self.summary,
        )
        return replace(self, pods=pods, reason=reason)


# --------------------------------------------------------------------------- wording

_MAX_EVENTS = 5
_MAX_TEXT = 240
_MAX_LISTED_WAITING = 5


def clip(text: str) -> str:
    """A message from the cluster, cut to a length one log line can carry."""
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def with_message(message: Any) -> str:
    """``": <message>"`` on one line, or nothing when there is no message."""
    if not message:
        return ""
    return ": " + clip(" ".join(str(message).split()))


def secs(seconds: float | None) -> str:
    """Elapsed time as whole seconds, never negative (worker and server clocks differ)."""
    if seconds is None:
        return "?s"
    return f"{max(0, math.floor(seconds))}s"


def dur(seconds: float) -> str:
    """A policy duration as the user wrote it: 60 -> "60s", 0.5 -> "0.5s"."""
    return f"{seconds:g}s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _append_events(pod: PodReport, events: Sequence[str] | str | None) -> PodReport:
    if not events:
        return pod
    if isinstance(events, str):
        events = (events,)
    unique: list[str] = []
    for event in events:
        text = clip(" ".join(str(event).split()))
        if text and text not in unique:
            unique.append(text)
        if len(unique) == _MAX_EVENTS:
            break
    if not unique:
        return pod
    return pod._replace(reason=f"{pod.reason} [recent events: {' | '.join(unique)}]")


def compose_reason(
    kind: str,
    state: State,
    *,
    desired: int,
    ready: int,
    findings: Sequence[Finding],
    pods: Sequence[PodReport],
    summary: str | None = None,
) -> str:
    """One line: the count (or ``summary``), then what blocks it: all failures, a few waits."""
    if kind == "Pod" and len(pods) == 1 and not findings:
        return pods[0].reason
    if state is State.READY:
        return (summary or f"{ready} of {desired} ready") + (
            " (scaled to zero)" if desired == 0 else ""
        )
    head = summary or count_head(ready, desired, pods)
    parts = [head]
    if state is State.FAILED:
        parts += [f.text for f in findings if f.state is State.FAILED]
        parts += [pod.reason for pod in pods if pod.state is State.FAILED]
        return "; ".join(parts)
    parts += [f.text for f in findings]
    blocking = [p for p in pods if p.state is State.FAILED]
    blocking += [p for p in pods if p.state is State.WAITING]
    parts += [pod.reason for pod in blocking[:_MAX_LISTED_WAITING]]
    if len(blocking) > _MAX_LISTED_WAITING:
        parts.append(f"{plural(len(blocking) - _MAX_LISTED_WAITING, 'more pod')} not ready")
    return "; ".join(parts)


def count_head(ready: int, desired: int, pods: Sequence[PodReport], what: str = "") -> str:
    """The uniform count, "2 of 3 ready": pods past the stability window.

    With pods Ready but still in their window (P7), it counts them too, as
    ``kubectl`` does, and says so: "3 of 3 Ready, stabilizing" when none is past
    it, "3 of 3 Ready, 1 stabilizing" when some are. ``what`` names the pods
    counted ("new pods ").
    """
    stabilizing = sum(1 for pod in pods if pod.rule == "P7")
    if not stabilizing:
        return f"{ready} of {desired} {what}ready"
    some = f"{stabilizing} " if ready else ""
    return f"{ready + stabilizing} of {desired} {what}Ready, {some}stabilizing"


def in_table_order(rules: Iterable[str], order: Sequence[str]) -> tuple[str, ...]:
    """``rules`` once each, in the order of ``order`` (the rule tables that judged them)."""
    rank = _RANKS.get(order) if type(order) is tuple else None
    if rank is None:
        rank = {rule: index for index, rule in enumerate(order)}
        if type(order) is tuple and len(_RANKS) < _MAX_RANKS:
            _RANKS[order] = rank
    return tuple(sorted(set(rules), key=rank.__getitem__))


# Each rule table's ranks, built once: every pod that is not ready asks for them.
_RANKS: dict[Sequence[str], dict[str, int]] = {}
_MAX_RANKS = 64


_READY = State.READY


@dataclass
class PodTally:
    """A workload's pod reports as its rules add them, with what its verdict counts.

    ``rules`` collects the pod-level rule ids that did not hold; ``ready`` counts the
    reports judged READY (extra or old pods are never READY, so they never count).
    """

    reports: list[PodReport] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    ready: int = 0

    def add(self, report: PodReport, rules: Sequence[str] = ()) -> None:
        self.reports.append(report)
        if rules:
            self.rules += rules
        if report.state is _READY:
            self.ready += 1


def workload_verdict(
    kind: str,
    meta: Mapping[str, Any],
    *,
    desired: int,
    revision: str | None,
    pods: PodTally,
    findings: Sequence[Finding],
    order: Sequence[str],
    observed: bool,
    summary: str | None = None,
) -> Verdict:
    """Precedence: FAILED > WAITING > READY; an unobserved spec caps failing pods at WAITING.

    A FAILED finding (being deleted) fails it observed or not; ``order`` is the rule
    tables that judged it; a tally with ``ready`` < its reports holds other states;
    ``summary`` replaces the reason's "2 of 3 ready" head.
    """
    reports = tuple(pods.reports)
    pod_states = {r.state for r in reports} - {_READY} if pods.ready < len(reports) else set()
    if any(f.state is State.FAILED for f in findings) or (observed and State.FAILED in pod_states):
        state = State.FAILED
    elif findings or pod_states:
        state = State.WAITING
    else:
        state = State.READY
    found = tuple(findings)
    return Verdict(
        kind=kind,
        name=str(meta.get("name") or ""),
        namespace=meta.get("namespace"),
        state=state,
        reason=compose_reason(
            kind,
            state,
            desired=desired,
            ready=pods.ready,
            findings=found,
            pods=reports,
            summary=summary,
        ),
        desired=desired,
        ready=pods.ready,
        revision=revision,
        pods=reports,
        findings=found,
        rules=in_table_order([*(f.rule for f in found), *pods.rules], order),
        summary=summary,
    )
