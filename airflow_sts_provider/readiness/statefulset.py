"""The StatefulSet rules S1-S12, one function per rule, in table order.

:func:`evaluate_statefulset` reads the set once (:class:`_Set`), asks S1-S3, then
judges the expected pods (S8-S10, S12) and, with their counts at hand, S4-S7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from . import pods as pod_rules
from . import shapes
from .checks import (
    EMPTY,
    Obj,
    as_int,
    check_inputs,
    deletion_finding,
    desired_replicas,
    generation_finding,
    is_controlled_by,
    optional_int,
    parts,
    ready_count_finding,
)
from .judgement import Judgement
from .policy import DEFAULT_POLICY, ReadinessPolicy
from .verdict import Finding, PodReport, PodTally, State, Verdict, count_head, workload_verdict

RULES = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11", "S12")

_WAITING = State.WAITING


@dataclass(frozen=True, slots=True)
class _Set:
    """What the S rules read from a StatefulSet's spec and status."""

    meta: Obj
    status: Obj
    name: str
    desired: int
    rolling: bool  # updateStrategy RollingUpdate (the default); else OnDelete
    partition: int  # clamped to [0, desired]
    ordered: bool  # podManagementPolicy OrderedReady (the default); else Parallel
    start: int  # spec.ordinals.start
    min_ready_seconds: int
    update_revision: str | None
    current_revision: str | None


def _read(sts: Obj) -> _Set:
    meta, spec, status = parts(sts)
    desired = desired_replicas(spec)
    strategy = spec.get("updateStrategy") or EMPTY
    partition = as_int((strategy.get("rollingUpdate") or EMPTY).get("partition"))
    return _Set(
        meta=meta,
        status=status,
        name=str(meta.get("name") or ""),
        desired=desired,
        rolling=strategy.get("type") != "OnDelete",
        partition=min(max(partition, 0), desired),
        ordered=spec.get("podManagementPolicy") != "Parallel",
        start=max(0, as_int((spec.get("ordinals") or EMPTY).get("start"))),
        min_ready_seconds=as_int(spec.get("minReadySeconds")),
        update_revision=status.get("updateRevision") or None,
        current_revision=status.get("currentRevision") or None,
    )


# --------------------------------------------------------------------------- S1-S7


def s1_deleting(s: _Set) -> Finding | None:
    """S1: a StatefulSet being deleted will not become ready again."""
    return deletion_finding("S1", "StatefulSet", s.meta)


def s2_observed(s: _Set) -> Finding | None:
    """S2: the status may describe an older spec."""
    return generation_finding("S2", "StatefulSet", s.meta, s.status)


def s3_created(s: _Set) -> Finding | None:
    """S3: every replica created, no extra one left."""
    created = optional_int(s.status.get("replicas"))
    if created is None:
        return Finding("S3", _WAITING, "status.replicas not reported yet")
    if created < s.desired:
        return Finding("S3", _WAITING, f"{created} of {s.desired} created")
    if created > s.desired:
        return Finding("S3", _WAITING, f"{created - s.desired} extra terminating")
    return None


def s4_ready_replicas(s: _Set, pods_ready: int) -> Finding | None:
    """S4: readyReplicas, told only when the pods do not explain it."""
    return ready_count_finding("S4", s.status, s.desired, pods_ready)


def s5_available(s: _Set) -> Finding | None:
    """S5: availableReplicas, where the cluster reports it (honours minReadySeconds)."""
    if "availableReplicas" not in s.status:
        return None
    available = as_int(s.status.get("availableReplicas"))
    if available >= s.desired:
        return None
    suffix = f" (minReadySeconds {s.min_ready_seconds})" if s.min_ready_seconds else ""
    return Finding("S5", _WAITING, f"{available} of {s.desired} available{suffix}")


def s6_updated(s: _Set, at_update: int) -> Finding | None:
    """S6: RollingUpdate: every pod from the partition up updated (S8: not under OnDelete).

    Without ``status.updatedReplicas`` the pods' own revision hashes count.
    """
    if not s.rolling:
        return None
    if s.update_revision is None:
        return Finding("S6", _WAITING, "status.updateRevision not reported yet")
    needed = s.desired - s.partition
    updated = optional_int(s.status.get("updatedReplicas"))
    if updated is None:
        updated = at_update
    if updated >= needed:
        return None
    return Finding("S6", _WAITING, f"{updated} of {needed} updated to {s.update_revision}")


def s7_rolled(s: _Set, at_update: int) -> Finding | None:
    """S7: RollingUpdate, partition 0: currentRevision caught up, or every pod updated."""
    if not s.rolling or s.update_revision is None or s.partition:
        return None
    if s.current_revision == s.update_revision or at_update >= s.desired:
        return None
    text = f"rolling update from {s.current_revision} to {s.update_revision} not finished"
    return Finding("S7", _WAITING, text)


# --------------------------------------------------------------------------- S8-S12: the pods


@dataclass
class _Pods(PodTally):
    """The expected pods' reports, then the extra ones', and what S6, S7 and S8 count."""

    at_update: int = 0  # expected pods at the update revision
    outdated: int = 0  # expected pods at another revision (S8: OnDelete leaves them)
    unlisted: int = 0  # missing ordinals counted, not named (MAX_MISSING_NAMED)
    blocker: str | None = None  # S10: the first expected pod OrderedReady waits for


def s9_owned(
    s: _Set,
    pods: Sequence[Obj],
    now: datetime,
    policy: ReadinessPolicy,
    judged: dict[str, pod_rules.Judged],
) -> None:
    """S9: only pods whose controller ownerReference is this StatefulSet count.

    Each owned pod is judged by P1-P7 as its page arrives (``judged``, by name), so
    a look-alike of another owner cannot make the set look ready.
    """
    meta, judge = s.meta, pod_rules.judge_pod
    for pod in pods:
        if is_controlled_by(pod, meta, "StatefulSet"):
            one = judge(pod, now, policy)
            judged[one[0].name] = one


def pods_by_name(s: _Set, judged: dict[str, pod_rules.Judged], policy: ReadinessPolicy) -> _Pods:
    """S9, S10: the owned pods are exactly ``<name>-<i>``, each passing the pod rules P1-P7."""
    judged = dict(judged)  # the expected pods are taken out; the rest are extra
    out = _Pods()
    if s.desired <= len(judged) + MAX_MISSING_NAMED:
        by_ordinal(s, judged, out, policy)
    else:
        by_pod(s, judged, out, policy)
    out.unlisted = s.desired - len(out.reports)
    for name in sorted(judged):
        out.add(_extra_pod(s, judged[name][0]), ("S9",))
    return out


def by_ordinal(
    s: _Set, judged: dict[str, pod_rules.Judged], out: _Pods, p: ReadinessPolicy
) -> None:
    """The expected pods, ordinal by ordinal, taken out of ``judged`` by name.

    For a set about the size of its pods (nearly always): a name is looked up,
    not parsed. ``test_fast_path`` proves it tells what :func:`by_pod` tells.
    """
    prefix, start, update = f"{s.name}-", s.start, s.update_revision
    missing = 0
    for index in range(s.desired):
        found = judged.pop(f"{prefix}{start + index}", None)
        if found is None:
            missing += 1
            if missing <= MAX_MISSING_NAMED:
                _missing(s, index, out)
        elif not found[1] and update is not None and found[0].revision == update:
            out.reports.append(found[0])  # READY at the update revision: nothing to add
            out.ready += 1
            out.at_update += 1
        else:
            _expected_pod(s, index, found, out, p)


def by_pod(s: _Set, judged: dict[str, pod_rules.Judged], out: _Pods, p: ReadinessPolicy) -> None:
    """The expected pods, from the pods' names: the cost follows the pods, not ``spec.replicas``."""
    by_index = _expected(s, judged)
    for index in _ordinals_to_report(s.desired, sorted(by_index)):
        found = by_index.get(index)
        if found is None:
            _missing(s, index, out)
        else:
            _expected_pod(s, index, found, out, p)


def _missing(s: _Set, index: int, out: _Pods) -> None:
    name = f"{s.name}-{s.start + index}"
    out.add(_missing_pod(name), ("S9",))
    out.blocker = out.blocker or name


def _expected_pod(
    s: _Set, index: int, found: pod_rules.Judged, out: _Pods, policy: ReadinessPolicy
) -> None:
    """S8-S10, S12 for the expected pod at ``index``, added to ``out``."""
    report, rules = found
    if rules:
        held = not pod_rules.serving(report, rules)  # not Running and Ready
        rules = ("S10", *rules)
        report = s10_blocked(s, report, rules, out.blocker)
        if out.blocker is None and held:
            out.blocker = report.name  # OrderedReady stops here
    if report.revision != s.update_revision:
        out.outdated += s.update_revision is not None
        report, revision_rule = pod_revision(s, index, report, policy)
        rules += (revision_rule,) if revision_rule else ()
    elif s.update_revision is not None:
        out.at_update += 1
    out.add(report, rules)


_OVER = frozenset({"P2", "P2b"})


def s10_blocked(
    s: _Set, report: PodReport, rules: tuple[str, ...], blocker: str | None
) -> PodReport:
    """S10: a pod that is over (evicted...) waits for the unready pod OrderedReady stops at.

    The controller deletes and recreates a Failed pod only when it reaches its
    ordinal, and OrderedReady goes no further than the first pod that is not
    Running and Ready: that pod, not the evicted one, is what a person must fix.
    """
    if blocker is None or not s.ordered or _OVER.isdisjoint(rules):
        return report
    reason = (
        f"{report.reason}; the controller (OrderedReady) replaces it only once "
        f"{blocker} is Running and Ready"
    )
    return report._replace(reason=reason)


def s8_summary(s: _Set, pods: _Pods) -> str | None:
    """S8: under OnDelete, how many pods still run an outdated template, even when READY."""
    if s.rolling or not pods.outdated:
        return None
    verb = "runs" if pods.outdated == 1 else "run"
    head = count_head(pods.ready, s.desired, pods.reports)
    return (
        f"{head}; {pods.outdated} of {s.desired} pods {verb} "
        f"an outdated template (OnDelete: delete them to roll them to {s.update_revision})"
    )


#: Missing ordinals named one by one; beyond that a count, so the cost follows the
#: pods that exist, not ``spec.replicas`` (``replicas: 2147483647`` must not hang a
#: triggerer).
MAX_MISSING_NAMED = 10_000


def _expected(s: _Set, judged: dict[str, pod_rules.Judged]) -> dict[int, pod_rules.Judged]:
    """The judged pods named ``<name>-<ordinal>`` in range, by index; the rest stay extra."""
    prefix, by_index = f"{s.name}-", {}
    for name in list(judged):
        suffix = name[len(prefix) :] if name.startswith(prefix) else ""
        if suffix.isascii() and suffix.isdigit() and str(int(suffix)) == suffix:
            index = int(suffix) - s.start
            if 0 <= index < s.desired:
                by_index[index] = judged.pop(name)
    return by_index


def _ordinals_to_report(desired: int, present: list[int]) -> list[int]:
    """Every present index, and the first :data:`MAX_MISSING_NAMED` missing ones, in order."""
    out: list[int] = []
    named, previous = 0, -1
    for index in [*present, desired]:
        take = min(index - previous - 1, MAX_MISSING_NAMED - named)
        out.extend(range(previous + 1, previous + 1 + take))
        named += take
        if index < desired:
            out.append(index)
        previous = index
    return out


def s9_unlisted(pods: _Pods) -> Finding | None:
    """S9: missing ordinals beyond those named, counted."""
    if pods.unlisted <= 0:
        return None
    return Finding("S9", _WAITING, f"{pods.unlisted} more ordinals not created yet")


def _missing_pod(name: str) -> PodReport:
    """S9: an expected ordinal without a pod."""
    return PodReport(name, _WAITING, f"{name}: not created yet", None, 0, None, None, None, "S9")


def _extra_pod(s: _Set, report: PodReport) -> PodReport:
    """S9: an owned pod outside the expected ordinals is on its way out; it blocks, never fails."""
    last = s.start + s.desired - 1
    now_text = report.reason.removeprefix(report.name).lstrip(": ")
    reason = (
        f"{report.name}: extra pod outside ordinals {s.start}..{last}, "
        f"waiting for it to go (now: {now_text})"
    )
    return report._replace(state=_WAITING, reason=reason, rule="S9")


def pod_revision(
    s: _Set, index: int, report: PodReport, policy: ReadinessPolicy
) -> tuple[PodReport, str | None]:
    """S8, S9, S12: an expected pod at another revision than the update revision.

    Returns the pod's report as these rules see it, and the rule that changed it.
    Below the partition an old revision is what the user asked for.
    """
    if s.update_revision is None or report.revision == s.update_revision:
        return report, None
    if not s.rolling:
        return s8_on_delete(s, report, policy)
    if index < s.partition:
        return report, None
    if report.state is State.FAILED:
        return s12_broken_outdated(s, report), "S12"
    return s9_outdated(s, report), "S9"


def s8_on_delete(
    s: _Set, report: PodReport, policy: ReadinessPolicy
) -> tuple[PodReport, str | None]:
    """S8: OnDelete never replaces a pod by itself; deleting it is the user's move."""
    old = report.revision or "no revision label"
    hint = f"outdated revision {old} (OnDelete: delete the pod to roll it to {s.update_revision})"
    if report.state is State.READY and policy.require_updated_on_delete:
        return report._replace(state=_WAITING, reason=f"{report.name}: {hint}", rule="S8"), "S8"
    return report._replace(reason=f"{report.reason}; {hint}"), None


def s9_outdated(s: _Set, report: PodReport) -> PodReport:
    """S9: from the partition up, every pod carries the update revision."""
    old = report.revision or "no revision label"
    if report.state is State.READY:
        reason = f"{report.name}: at outdated revision {old}, waiting for {s.update_revision}"
        return report._replace(state=_WAITING, reason=reason, rule="S9")
    reason = f"{report.reason}; outdated revision {old}, waiting for {s.update_revision}"
    return report._replace(reason=reason)


def s12_broken_outdated(s: _Set, report: PodReport) -> PodReport:
    """S12: a broken pod at an outdated revision: Parallel replaces it, OrderedReady never will."""
    old = report.revision or "no revision label"
    if not s.ordered:
        reason = (
            f"{report.reason}; it runs outdated revision {old}, "
            f"the controller (Parallel) replaces it with {s.update_revision}"
        )
        return report._replace(state=_WAITING, reason=reason, rule="S12")
    namespace = s.meta.get("namespace")
    ns = f" -n {namespace}" if namespace else ""
    reason = (
        f"{report.reason}; it runs outdated revision {old} and OrderedReady "
        "never replaces a broken pod (kubernetes#67250): delete it with "
        f"`kubectl delete pod {report.name}{ns}` to roll it to {s.update_revision}"
    )
    return report._replace(reason=reason, rule="S12")


# --------------------------------------------------------------------------- the set


class _Judgement(Judgement):
    """A StatefulSet judged page by page (:mod:`.judgement`)."""

    pods_rule = "S9"

    def __init__(self, sts: Obj, policy: ReadinessPolicy) -> None:
        super().__init__(policy, shapes.problems(sts, shapes.STATEFULSET, "StatefulSet"))
        self.sts = sts
        self.set = None if self.wrong else _read(sts)
        self.judged: dict[str, pod_rules.Judged] = {}

    def _add(self, pods: list[Obj], now: datetime) -> None:
        if self.set is not None and self.set.desired > 0:  # S11: scaled to zero
            s9_owned(self.set, pods, now, self.policy, self.judged)

    def _clear(self) -> None:
        self.judged = {}

    def _malformed(self, bad_pods: list[Finding]) -> Verdict:
        return shapes.malformed_verdict("StatefulSet", self.sts, self.wrong + bad_pods, _ORDER)

    def _verdict(self, now: datetime, bad_pods: list[Finding]) -> Verdict:
        s = self.set
        assert s is not None  # a set of a readable shape (Judgement.verdict)
        unobserved = s2_observed(s)
        findings = [f for f in (s1_deleting(s), unobserved, s3_created(s), *bad_pods) if f]
        judged = _Pods()
        if s.desired > 0:  # S11: scaled to zero is done once S1-S3 hold
            judged = pods_by_name(s, self.judged, self.policy)
            rolled = s6_updated(s, judged.at_update) or s7_rolled(s, judged.at_update)
            later = (s9_unlisted(judged), s4_ready_replicas(s, judged.ready), s5_available(s))
            findings += [f for f in (*later, rolled) if f is not None]
        return workload_verdict(
            "StatefulSet",
            s.meta,
            desired=s.desired,
            revision=s.update_revision,
            pods=judged,
            findings=findings,
            order=_ORDER,
            observed=unobserved is None,
            summary=s8_summary(s, judged),
        )


def start_statefulset(sts: Obj, *, policy: ReadinessPolicy = DEFAULT_POLICY) -> Judgement:
    """Judge a StatefulSet whose pods arrive page by page (:meth:`Judgement.add_pods`)."""
    return _Judgement(sts, policy)


def evaluate_statefulset(
    sts: Obj,
    pods: Sequence[Obj],
    *,
    now: datetime,
    policy: ReadinessPolicy = DEFAULT_POLICY,
) -> Verdict:
    """Judge a StatefulSet by S1-S12 and its owned pods by P1-P7.

    ``pods`` may hold anything the selector matched: only pods whose controller
    ownerReference is this StatefulSet count.
    """
    now = check_inputs(now, policy)
    judgement = start_statefulset(sts, policy=policy)
    judgement.add_pods(pods, now)
    return judgement.verdict(now)


_ORDER = RULES + pod_rules.RULES
