"""A release judged as one: every workload a deploy put up, each by its own rules.

Helm's ``--wait`` waits for a release as a whole; DAG authors otherwise stack one
sensor per workload. :func:`combine` folds the verdicts of every workload that
matched a label selector into one answer: any FAILED -> FAILED naming the workload
and its pods; any WAITING -> WAITING; nothing matched -> WAITING ("no workload
matches"), because a gate right after a deploy may run before the objects exist.
Pure and stdlib-only, like the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_sts_provider.readiness import State, Verdict
from airflow_sts_provider.readiness.verdict import PAYLOAD_LIMIT, cut, worst_first
from airflow_sts_provider.reporting import failure_message

__all__ = ["WorkloadsVerdict", "combine", "release_failure"]

#: Workloads named one by one in a WAITING reason; beyond that a count.
_MAX_LISTED = 5
#: Workloads whose verdicts a release's XCom carries; the others are counted.
MAX_WORKLOADS_IN_PAYLOAD = 50
#: Characters of the release's reason in its XCom.
_REASON_IN_PAYLOAD = 4000


@dataclass(frozen=True)
class WorkloadsVerdict:
    """The answer for a release: its state, one actionable line, each workload's verdict."""

    selector: str
    namespace: str
    state: State
    reason: str
    workloads: tuple[Verdict, ...]

    @property
    def ready(self) -> int:
        """Workloads judged READY."""
        return sum(1 for verdict in self.workloads if verdict.state is State.READY)

    def to_dict(self, *, limit: int = PAYLOAD_LIMIT) -> dict[str, Any]:
        """JSON-safe form for XCom: selector, state, reason and one verdict dict per workload.

        About ``limit`` bytes at most, however big the release: the not-ready workloads
        are listed first, at most :data:`MAX_WORKLOADS_IN_PAYLOAD`, each within its share
        (:meth:`Verdict.to_dict`); ``workloads_omitted`` says how many were cut.
        """
        listed = worst_first(self.workloads)[:MAX_WORKLOADS_IN_PAYLOAD]
        share = max((limit - _REASON_IN_PAYLOAD) // max(len(listed), 1), 0)
        payload: dict[str, Any] = {
            "selector": self.selector,
            "namespace": self.namespace,
            "state": self.state.value,
            "reason": cut(self.reason, _REASON_IN_PAYLOAD),
            "workloads": [verdict.to_dict(limit=share) for verdict in listed],
        }
        if len(listed) < len(self.workloads):
            payload["workloads_omitted"] = len(self.workloads) - len(listed)
        return payload


def _label(verdict: Verdict) -> str:
    return f"{verdict.kind} {verdict.name}"


def combine(selector: str, namespace: str, verdicts: Sequence[Verdict]) -> WorkloadsVerdict:
    """Fold the workloads' verdicts: the worst state wins, every failure is named."""
    ordered = tuple(sorted(verdicts, key=lambda v: (v.kind, v.name)))
    if not ordered:
        reason = f"no workload matches {selector} in namespace {namespace} yet"
        return WorkloadsVerdict(selector, namespace, State.WAITING, reason, ())
    head = f"{sum(v.state is State.READY for v in ordered)} of {len(ordered)} workloads ready"
    failed = [v for v in ordered if v.state is State.FAILED]
    if failed:
        reason = "; ".join([head] + [f"{_label(v)}: {v.reason}" for v in failed])
        return WorkloadsVerdict(selector, namespace, State.FAILED, reason, ordered)
    waiting = [v for v in ordered if v.state is State.WAITING]
    if waiting:
        parts = [head] + [f"{_label(v)}: {v.reason}" for v in waiting[:_MAX_LISTED]]
        if len(waiting) > _MAX_LISTED:
            parts.append(f"{len(waiting) - _MAX_LISTED} more workloads not ready")
        return WorkloadsVerdict(selector, namespace, State.WAITING, "; ".join(parts), ordered)
    reason = f"{head} ({', '.join(_label(v) for v in ordered)})"
    return WorkloadsVerdict(selector, namespace, State.READY, reason, ordered)


def release_failure(verdict: WorkloadsVerdict) -> str:
    """Every failing workload's own failure message, under one head line."""
    head = f"Workloads {verdict.selector} in {verdict.namespace} are not coming up:"
    failing = [w for w in verdict.workloads if w.state is State.FAILED]
    return "\n".join([head, *(failure_message(w) for w in failing)])
