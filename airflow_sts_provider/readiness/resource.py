"""The resource rules G1-G8: any kind that reports conditions, one function per rule.

For the custom resources of operators that run services (Strimzi ``Kafka``,
CloudNativePG ``Cluster``, Argo ``Rollout``, KServe ``InferenceService``...), after
the API conventions for conditions and kstatus's generic rules, with one
difference: never READY without a positive signal (kstatus calls a resource
without conditions Current; here it waits for its readiness condition).

:func:`evaluate_resource` reads the object once (:class:`_Resource`), asks G1-G7 of
its metadata and conditions, and judges the pods it was given by the pod rules (G8).
A malformed ``status.conditions`` never raises: it is a WAITING finding naming the field.

A condition type may appear more than once (an operator that appends instead of
replacing). Never the first one only: any readiness condition that is not True
means the resource is not ready (G6), each one's ``observedGeneration`` counts (G2),
the stability window runs from the latest of their transitions (G7), and any
``Stalled`` or ``Reconciling`` that is True counts (G3, G4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from . import pods as pod_rules
from . import shapes
from .checks import (
    EMPTY,
    Obj,
    check_inputs,
    deletion_finding,
    is_map,
    optional_int,
    parse_time,
)
from .judgement import Judgement
from .policy import DEFAULT_POLICY, ReadinessPolicy
from .verdict import (
    Finding,
    PodTally,
    State,
    Verdict,
    clip,
    dur,
    secs,
    with_message,
    workload_verdict,
)

RULES = ("G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8")

_WAITING = State.WAITING
_FAILED = State.FAILED


@dataclass(frozen=True, slots=True)
class _Resource:
    """What the G rules read: metadata, status, and the conditions that could be read."""

    meta: Obj
    status: Obj
    kind: str
    name: str
    conditions: tuple[tuple[str, Obj], ...]  # (the field's path, the condition) with a type
    unreadable: tuple[str, ...]  # what of status.conditions could not be read
    condition: str  # the readiness condition's type


def _map(value: Any) -> Obj:
    return value if is_map(value) else EMPTY


def _read(obj: Obj, condition: str) -> _Resource:
    meta, status = _map(obj.get("metadata")), _map(obj.get("status"))
    conditions, unreadable = read_conditions(status.get("conditions"))
    if obj.get("status") is not None and not is_map(obj.get("status")):
        unreadable = ("status is not an object", *unreadable)
    return _Resource(
        meta=meta,
        status=status,
        kind=str(obj.get("kind") or "resource"),
        name=str(meta.get("name") or ""),
        conditions=conditions,
        unreadable=unreadable,
        condition=condition,
    )


def read_conditions(value: Any) -> tuple[tuple[tuple[str, Obj], ...], tuple[str, ...]]:
    """``status.conditions`` as (path, condition) pairs, and what in it could not be read."""
    if value is None:
        return (), ()
    if not isinstance(value, list):
        return (), (f"status.conditions is not a list ({type(value).__name__})",)
    found: list[tuple[str, Obj]] = []
    unreadable: list[str] = []
    for index, entry in enumerate(value):
        path = f"status.conditions[{index}]"
        if not is_map(entry):
            unreadable.append(f"{path} is not an object ({type(entry).__name__})")
        elif not isinstance(entry.get("type"), str) or not entry.get("type"):
            unreadable.append(f"{path}.type is missing")
        else:
            found.append((path, entry))
    return tuple(found), tuple(unreadable)


def _all(r: _Resource, kind: str) -> list[tuple[str, Obj]]:
    """Every condition of type ``kind``, in order (an operator may write one twice)."""
    return [pair for pair in r.conditions if pair[1].get("type") == kind]


def _first_true(r: _Resource, kind: str) -> Obj | None:
    """The first condition of type ``kind`` that is True, if any is."""
    return next(
        (cond for _, cond in r.conditions if cond.get("type") == kind and _is_true(cond)), None
    )


def _is_true(cond: Obj) -> bool:
    return cond.get("status") == "True"


def _said(cond: Obj) -> str:
    """``Type=Status, Reason: message``: one short quote of what the operator said."""
    reason, message = cond.get("reason"), cond.get("message")
    said = f"{cond.get('type')}={cond.get('status')}"
    if reason:
        return f"{said}, {reason}{with_message(message)}"
    return said + with_message(message)


# --------------------------------------------------------------------------- G1-G7


def g1_deleting(r: _Resource) -> Finding | None:
    """G1: a resource being deleted will not become ready again."""
    return deletion_finding("G1", r.kind, r.meta)


def g2_observed(r: _Resource) -> Finding | None:
    """G2: the operator has reconciled this generation (where it says which one it saw)."""
    generation = optional_int(r.meta.get("generation"))
    if generation is None:
        return None
    seen = [("status.observedGeneration", r.status.get("observedGeneration"))]
    seen += [
        (f"{path}.observedGeneration", c.get("observedGeneration"))
        for path, c in _all(r, r.condition)
    ]
    for path, value in seen:
        observed = optional_int(value)
        if observed is not None and observed < generation:
            why = f"{path} {observed} < generation {generation}"
            text = f"{r.kind} {r.name} not yet reconciled ({why})"
            return Finding("G2", _WAITING, text)
    return None


def g3_stalled(r: _Resource, *, observed: bool) -> Finding | None:
    """G3: the operator says it cannot make progress (only WAITING while G2 fails)."""
    stalled = _first_true(r, "Stalled")
    if stalled is None:
        return None
    return Finding("G3", _FAILED if observed else _WAITING, f"{r.kind} {r.name} {_said(stalled)}")


def g4_reconciling(r: _Resource) -> Finding | None:
    """G4: the operator is still at work."""
    reconciling = _first_true(r, "Reconciling")
    if reconciling is None:
        return None
    return Finding("G4", _WAITING, f"{r.kind} {r.name} {_said(reconciling)}")


def g5_reported(r: _Resource) -> Finding | None:
    """G5: the readiness condition exists; else quote whatever else the operator says is True.

    An unreadable ``status.conditions`` cannot show it: that is named here too.
    """
    if r.unreadable:
        return Finding("G5", _WAITING, f"{r.kind} {r.name}: {'; '.join(r.unreadable)}")
    if _all(r, r.condition):
        return None
    others = [
        _said(cond)
        for _, cond in r.conditions
        if _is_true(cond) and cond.get("type") not in ("Stalled", "Reconciling")
    ]
    text = f"{r.kind} {r.name} reports no {r.condition} condition yet"
    return Finding("G5", _WAITING, text + (f" ({'; '.join(others)})" if others else ""))


def g6_true(r: _Resource, failure_reasons: Sequence[str], *, observed: bool) -> Finding | None:
    """G6: the readiness condition is True; False with a failure reason fails (once observed).

    Written more than once, every one must be True: the first that is not decides,
    wherever it stands (a Ready=True first does not hide a Ready=False after it).
    """
    ready = _all(r, r.condition)
    found = next((pair for pair in ready if not _is_true(pair[1])), None)
    if found is None:
        return None
    path, cond = found
    status = cond.get("status")
    if status not in ("False", "Unknown"):
        what = "is missing" if status is None else f"is {clip(repr(status))}, not True or False"
        return Finding("G6", _WAITING, f"{r.kind} {r.name}: {path}.status {what}")
    failed = status == "False" and cond.get("reason") in failure_reasons and observed
    said = _said(cond) if len(ready) == 1 else f"{path} {_said(cond)}"
    return Finding("G6", _FAILED if failed else _WAITING, f"{r.kind} {r.name} {said}")


def g7_stable(
    r: _Resource, now: datetime, policy: ReadinessPolicy, *, untimed_is_stable: bool = False
) -> tuple[Finding | None, str]:
    """G7: True for the stability window since its lastTransitionTime (the latest, if twice).

    A transition time absent or not RFC 3339 cannot be timed: WAITING, as a pod's
    P7 is. ``untimed_is_stable`` (a kind whose operator never writes the time)
    takes an absent one as stable, and says so; an unreadable one still waits.
    Returns the finding, or the words a READY verdict says about the window.
    """
    found = _all(r, r.condition)
    if not found or not all(_is_true(cond) for _, cond in found):
        return None, ""
    window = policy.min_stable_seconds
    since = _since(r, found, window, untimed_is_stable=untimed_is_stable)
    if since is None:
        return None, f"{r.condition}=True, stable: its operator writes no transition time"
    if isinstance(since, Finding):  # as P7: no window asked, none to time
        return (since, "") if window > 0 else (None, f"{r.condition}=True, no window asked")
    stable = (now - since).total_seconds()
    if stable < window:
        text = f"{r.kind} {r.name} {r.condition}=True, stabilizing {secs(stable)} of {dur(window)}"
        return Finding("G7", _WAITING, text), ""
    return None, f"{r.condition}=True for {secs(stable)}"


def _since(
    r: _Resource, found: list[tuple[str, Obj]], window: float, *, untimed_is_stable: bool
) -> datetime | Finding | None:
    """G7: the latest transition of the readiness conditions, or the one that cannot be timed.

    None when none has a time and the kind writes none (``untimed_is_stable``).
    """
    latest: datetime | None = None
    for path, cond in found:
        stamp = cond.get("lastTransitionTime")
        if untimed_is_stable and (stamp is None or stamp == ""):
            continue
        moment = parse_time(stamp)
        if moment is None:
            return _cannot_be_timed(r, path, stamp, window)
        latest = moment if latest is None or moment > latest else latest
    return latest


def _cannot_be_timed(r: _Resource, path: str, stamp: Any, window: float) -> Finding:
    """G7: a readiness condition True since a time that is absent or not RFC 3339."""
    what = "is missing" if stamp is None or stamp == "" else f"unreadable: {clip(repr(stamp))}"
    text = (
        f"{r.kind} {r.name}: {path}.lastTransitionTime {what}: the stability window "
        f"cannot be timed, so it is not over (window {dur(window)})"
    )
    return Finding("G7", _WAITING, text)


# --------------------------------------------------------------------------- G8


def g8_judge(
    pods: Sequence[Obj], now: datetime, policy: ReadinessPolicy, judged: list[pod_rules.Judged]
) -> None:
    """G8: every pod given (the sensor's pod selector), judged by P1-P7 as its page arrives."""
    judged += [pod_rules.judge_pod(pod, now, policy) for pod in pods if is_map(pod)]


def g8_pods(judged: Sequence[pod_rules.Judged]) -> PodTally:
    """G8: every pod given passes the pod rules, reported in name order."""
    tally = PodTally()
    for report, rules in sorted(judged, key=lambda item: (item[0].name, item[0].reason)):
        tally.add(report, ("G8", *rules) if rules else ())
    return tally


# --------------------------------------------------------------------------- the resource


def _findings(
    r: _Resource,
    now: datetime,
    policy: ReadinessPolicy,
    failure_reasons: Sequence[str],
    *,
    untimed_is_stable: bool,
) -> tuple[list[Finding], bool, str]:
    """G1-G7 in table order, whether G2 holds, and what a READY verdict says of G7."""
    unobserved = g2_observed(r)
    observed = unobserved is None
    found = [
        g1_deleting(r),
        unobserved,
        g3_stalled(r, observed=observed),
        g4_reconciling(r),
        g5_reported(r),
        g6_true(r, failure_reasons, observed=observed),
    ]
    findings = [f for f in found if f is not None]
    stable, note = g7_stable(r, now, policy, untimed_is_stable=untimed_is_stable)
    if stable is not None:
        findings.append(stable)
    return findings, observed, note


def _reason(r: _Resource, verdict: Verdict, note: str) -> str:
    """With pods, the uniform count first (as :meth:`Verdict.with_pod_events` rebuilds it);
    without, the resource's name and what holds it back."""
    if verdict.pods:
        return verdict.reason if verdict.state is not State.READY else f"{verdict.reason}; {note}"
    if verdict.state is State.READY:
        return f"{r.kind} {r.name}: {note}"
    shown = [f for f in verdict.findings if verdict.state is not _FAILED or f.state is _FAILED]
    return "; ".join(f.text for f in shown)


class _Judgement(Judgement):
    """A resource judged by its conditions, its pods (if any) page by page (:mod:`.judgement`)."""

    pods_rule = "G8"

    def __init__(
        self,
        obj: Obj,
        policy: ReadinessPolicy,
        condition: str,
        failure_reasons: Sequence[str],
        untimed_is_stable: bool,
    ) -> None:
        super().__init__(policy, shapes.problems(obj, shapes.RESOURCE, "resource"))
        self.obj, self.condition = obj, condition
        reasons = (failure_reasons,) if isinstance(failure_reasons, str) else failure_reasons
        self.failure_reasons = reasons
        self.untimed_is_stable = untimed_is_stable
        self.judged: list[pod_rules.Judged] = []

    def _add(self, pods: list[Obj], now: datetime) -> None:
        g8_judge(pods, now, self.policy, self.judged)

    def _clear(self) -> None:
        self.judged = []

    def _malformed(self, bad_pods: list[Finding]) -> Verdict:
        kind = self.obj.get("kind") if isinstance(self.obj, Mapping) else None
        kind = kind if isinstance(kind, str) and kind else "resource"
        return shapes.malformed_verdict(kind, self.obj, self.wrong + bad_pods, _ORDER)

    def _verdict(self, now: datetime, bad_pods: list[Finding]) -> Verdict:
        r = _read(self.obj, self.condition)
        findings, observed, note = _findings(
            r, now, self.policy, self.failure_reasons, untimed_is_stable=self.untimed_is_stable
        )
        findings += bad_pods
        tally = g8_pods(self.judged)
        verdict = workload_verdict(
            r.kind,
            r.meta,
            desired=len(tally.reports),
            revision=str(r.meta["generation"]) if r.meta.get("generation") is not None else None,
            pods=tally,
            findings=findings,
            order=_ORDER,
            observed=observed,
        )
        return replace(verdict, reason=_reason(r, verdict, note))


def start_resource(
    obj: Obj,
    *,
    policy: ReadinessPolicy = DEFAULT_POLICY,
    condition: str = "Ready",
    failure_reasons: Sequence[str] = (),
    untimed_is_stable: bool = False,
) -> Judgement:
    """Judge a resource by its conditions, the pods of its selector arriving page by page."""
    return _Judgement(obj, policy, condition, failure_reasons, untimed_is_stable)


def evaluate_resource(
    obj: Obj,
    pods: Sequence[Obj] = (),
    *,
    now: datetime,
    policy: ReadinessPolicy = DEFAULT_POLICY,
    condition: str = "Ready",
    failure_reasons: Sequence[str] = (),
    untimed_is_stable: bool = False,
) -> Verdict:
    """Judge any resource that reports conditions by G1-G8, and the pods given by P1-P7.

    ``condition`` is the readiness condition's type; a False one whose reason is in
    ``failure_reasons`` fails the verdict. A True one without ``lastTransitionTime``
    cannot be timed and waits (G7), unless ``untimed_is_stable`` says the kind's
    operator never writes that time: then it is stable, and the verdict says so.
    ``desired`` and ``ready`` count ``pods``.
    """
    now = check_inputs(now, policy)
    judgement = start_resource(
        obj,
        policy=policy,
        condition=condition,
        failure_reasons=failure_reasons,
        untimed_is_stable=untimed_is_stable,
    )
    judgement.add_pods(pods, now)
    return judgement.verdict(now)


_ORDER = RULES + pod_rules.RULES
