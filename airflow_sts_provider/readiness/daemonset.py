"""The DaemonSet rules DS1-DS9, one function per rule, in table order.

:func:`evaluate_daemonset` reads the DaemonSet and its ControllerRevisions once
(:class:`_DaemonSet`), asks DS1-DS3 of its status, then (DS9: unless no node is
eligible) places the owned pods on their nodes (DS7), judges each by the pod rules
(DS8) and, with their counts at hand, asks DS4-DS6.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from . import pods as pod_rules
from . import shapes
from .checks import (
    EMPTY,
    Obj,
    as_int,
    check_inputs,
    deletion_finding,
    generation_finding,
    is_controlled_by,
    is_map,
    optional_int,
    parse_time,
    parts,
    ready_count_finding,
)
from .judgement import Judgement
from .policy import DEFAULT_POLICY, ReadinessPolicy
from .verdict import (
    Finding,
    PodReport,
    PodTally,
    State,
    Verdict,
    count_head,
    plural,
    workload_verdict,
)

RULES = ("DS1", "DS2", "DS3", "DS4", "DS5", "DS6", "DS7", "DS8", "DS9")

_WAITING = State.WAITING
_HASH_LABEL = "controller-revision-hash"


@dataclass(frozen=True, slots=True)
class _DaemonSet:
    """What the DS rules read from a DaemonSet and the ControllerRevisions it owns."""

    meta: Obj
    status: Obj
    name: str
    desired: int  # status.desiredNumberScheduled (0 while not counted)
    counted: bool  # status.desiredNumberScheduled present
    rolling: bool  # updateStrategy RollingUpdate (the default); else OnDelete
    min_ready_seconds: int
    current_hash: str | None  # the hash current pods carry, when revisions are known


def _read(daemonset: Obj, revisions: Sequence[Obj]) -> _DaemonSet:
    meta, spec, status = parts(daemonset)
    desired = optional_int(status.get("desiredNumberScheduled"))
    strategy = spec.get("updateStrategy") or EMPTY
    return _DaemonSet(
        meta=meta,
        status=status,
        name=str(meta.get("name") or ""),
        desired=max(0, desired or 0),
        counted=desired is not None,
        rolling=strategy.get("type") != "OnDelete",
        min_ready_seconds=as_int(spec.get("minReadySeconds")),
        current_hash=current_hash(meta, revisions),
    )


def current_hash(meta: Obj, revisions: Sequence[Obj]) -> str | None:
    """The ``controller-revision-hash`` of the owned ControllerRevision with the highest revision.

    A revision without the label is named ``<daemonset>-<hash>``, as the controller names it.
    """
    owned = [rev for rev in revisions if is_map(rev) and is_controlled_by(rev, meta, "DaemonSet")]
    if not owned:
        return None
    latest = max(owned, key=lambda rev: (as_int(rev.get("revision")), _name(rev)))
    rev_meta = latest.get("metadata") or EMPTY
    label = (rev_meta.get("labels") or EMPTY).get(_HASH_LABEL)
    if label:
        return str(label)
    name = _name(latest)
    return name.removeprefix(f"{meta.get('name')}-") or None


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or EMPTY).get("name") or "")


# --------------------------------------------------------------------------- DS1-DS6


def ds1_deleting(d: _DaemonSet) -> Finding | None:
    """DS1: a DaemonSet being deleted will not become ready again."""
    return deletion_finding("DS1", "DaemonSet", d.meta)


def ds2_observed(d: _DaemonSet) -> Finding | None:
    """DS2: the status may describe an older spec."""
    return generation_finding("DS2", "DaemonSet", d.meta, d.status)


def ds3_counted(d: _DaemonSet) -> Finding | None:
    """DS3: the controller has counted the nodes that should run a pod."""
    if d.counted:
        return None
    return Finding("DS3", _WAITING, "status.desiredNumberScheduled not reported yet")


def ds4_scheduled(d: _DaemonSet) -> list[Finding]:
    """DS4: a pod scheduled on every eligible node, none on a node that should not run one."""
    findings = []
    scheduled = as_int(d.status.get("currentNumberScheduled"))
    if scheduled < d.desired:
        findings.append(Finding("DS4", _WAITING, f"{scheduled} of {d.desired} nodes scheduled"))
    misscheduled = as_int(d.status.get("numberMisscheduled"))
    if misscheduled > 0:
        text = f"{plural(misscheduled, 'pod')} on nodes that should not run one"
        findings.append(Finding("DS4", _WAITING, text))
    return findings


def ds5_updated(d: _DaemonSet, policy: ReadinessPolicy) -> Finding | None:
    """DS5: RollingUpdate: every node runs the current template; OnDelete only when required."""
    if not d.rolling and not policy.require_updated_on_delete:
        return None
    updated = as_int(d.status.get("updatedNumberScheduled"))
    if updated >= d.desired:
        return None
    to = f" to {d.current_hash}" if d.current_hash else ""
    hint = "" if d.rolling else " (OnDelete: delete the old pods to roll them)"
    return Finding("DS5", _WAITING, f"{updated} of {d.desired} updated{to}{hint}")


def ds6_ready(d: _DaemonSet, pods_ready: int) -> list[Finding]:
    """DS6: numberReady (told when the pods do not explain it) and numberAvailable."""
    findings = [ready_count_finding("DS6", d.status, d.desired, pods_ready, field="numberReady")]
    available = as_int(d.status.get("numberAvailable"))
    if available < d.desired:
        suffix = f" (minReadySeconds {d.min_ready_seconds})" if d.min_ready_seconds else ""
        findings.append(Finding("DS6", _WAITING, f"{available} of {d.desired} available{suffix}"))
    return [f for f in findings if f is not None]


# --------------------------------------------------------------------------- DS7-DS8: the pods


@dataclass
class _Pods(PodTally):
    """The pods' reports (one per node first, then doubled, then terminating) and DS7's count."""

    nodes: int = 0  # nodes with a pod that is not terminating
    bare: list[str] = field(default_factory=list)  # nodes left with only terminating pods


@dataclass(frozen=True, slots=True)
class _Placed:
    """An owned pod, where it runs, when it was created and what the pod rules say of it."""

    created: float  # creationTimestamp as a POSIX time (0 when unreadable)
    node: str | None
    report: PodReport
    rules: tuple[str, ...]

    @property
    def slot(self) -> str:
        """Pods on one node share a slot; a pod with no node yet is a slot of its own."""
        return self.node if self.node is not None else f"\0{self.report.name}"


def node_of(pod: Obj) -> str | None:
    """``spec.nodeName``, or the node the controller pinned a pending pod to (node affinity)."""
    spec = _get(pod, "spec")
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = _get(_get(spec, "affinity"), "nodeAffinity")
    terms = _get(required, "requiredDuringSchedulingIgnoredDuringExecution").get(
        "nodeSelectorTerms"
    )
    for term in terms if isinstance(terms, list) else ():
        fields = term.get("matchFields") if is_map(term) else None
        for match in fields if isinstance(fields, list) else ():
            values = match.get("values") if is_map(match) else None
            if match.get("key") == "metadata.name" and values and isinstance(values, list):
                return str(values[0])
    return None


def _get(obj: Obj, key: str) -> Obj:
    """``obj[key]`` when it is an object, else ``{}``: node placement reads a deep path."""
    value = obj.get(key) if is_map(obj) else None
    return value if isinstance(value, Mapping) else EMPTY


@dataclass
class _Placing:
    """The owned pods judged so far, as each page came: by node slot, and the terminating."""

    active: dict[str, list[_Placed]] = field(default_factory=dict)
    terminating: list[_Placed] = field(default_factory=list)


def ds7_place(
    d: _DaemonSet, pods: Sequence[Obj], now: datetime, policy: ReadinessPolicy, out: _Placing
) -> None:
    """DS7: the owned pods, each judged by P1-P7 and placed on its node.

    Only pods whose controller ownerReference is this DaemonSet count.
    """
    for pod in pods:
        if not is_controlled_by(pod, d.meta, "DaemonSet"):
            continue
        meta = pod.get("metadata") or EMPTY
        created = parse_time(meta.get("creationTimestamp"))
        report, rules = pod_rules.judge_pod(pod, now, policy)
        placed = _Placed(created.timestamp() if created else 0.0, node_of(pod), report, rules)
        if meta.get("deletionTimestamp"):
            out.terminating.append(placed)
        else:
            out.active.setdefault(placed.slot, []).append(placed)


def pods_per_node(d: _DaemonSet, placing: _Placing, policy: ReadinessPolicy) -> _Pods:
    """DS7, DS8: one owned, not-terminating pod per node; every owned pod passes P1-P7."""
    active, terminating = placing.active, placing.terminating
    out = _Pods(nodes=len(active))
    doubled: list[_Placed] = []
    for slot in sorted(active):
        first, *rest = sorted(active[slot], key=lambda p: _preference(d, p))
        out.add(*node_pod(d, first, policy))
        doubled += [ds7_doubled(p, first) for p in rest]
    for placed in sorted(doubled, key=_order):
        out.add(placed.report, ("DS7",))
    for placed in sorted(terminating, key=_order):
        out.add(placed.report, ("DS8", *placed.rules) if placed.rules else ())
        if placed.slot not in active and placed.node is not None and placed.node not in out.bare:
            out.bare.append(placed.node)
    out.bare.sort()
    return out


def _preference(d: _DaemonSet, placed: _Placed) -> tuple[bool, float, str, str, str]:
    """On a node with several pods, the one kept: current revision, then newest, then by name."""
    outdated = d.current_hash is not None and placed.report.revision != d.current_hash
    return (outdated, -placed.created, *_order(placed))


def _order(placed: _Placed) -> tuple[str, str, str]:
    report = placed.report
    return report.name, str(report.revision or ""), report.reason


def node_pod(
    d: _DaemonSet, placed: _Placed, policy: ReadinessPolicy
) -> tuple[PodReport, tuple[str, ...]]:
    """DS8: the node's pod passes the pod rules; DS7 / DS5: unless it runs an outdated revision."""
    report, rules = placed.report, placed.rules
    if d.current_hash is None or report.revision == d.current_hash:
        return report, ("DS8", *rules) if rules else ()
    old = report.revision or "no revision label"
    if not d.rolling:
        return ds5_on_delete(d, report, rules, old, policy)
    now_text = report.reason.removeprefix(report.name).lstrip(": ")
    where = f" on {placed.node}" if placed.node else ""
    reason = f"{report.name}{where}: at outdated revision {old}, waiting for {d.current_hash}"
    if report.state is not State.READY:
        reason += f" (now: {now_text})"
    return report._replace(state=_WAITING, reason=reason, rule="DS7"), ("DS7",)


def ds5_on_delete(
    d: _DaemonSet,
    report: PodReport,
    rules: tuple[str, ...],
    old: str,
    policy: ReadinessPolicy,
) -> tuple[PodReport, tuple[str, ...]]:
    """DS5 under OnDelete (as S8): the controller never replaces a pod; the user deletes it."""
    hint = f"outdated revision {old} (OnDelete: delete the pod to roll it to {d.current_hash})"
    if report.state is State.READY and policy.require_updated_on_delete:
        waiting = report._replace(state=_WAITING, reason=f"{report.name}: {hint}", rule="DS5")
        return waiting, ("DS5",)
    return report._replace(reason=f"{report.reason}; {hint}"), ("DS8", *rules) if rules else ()


def ds7_doubled(placed: _Placed, kept: _Placed) -> _Placed:
    """DS7: a second pod on a node (a surge, or one on its way out) only blocks, it never fails."""
    report = placed.report
    now_text = report.reason.removeprefix(report.name).lstrip(": ")
    reason = (
        f"{report.name}: second pod on {placed.node or 'its node'} beside {kept.report.name}, "
        f"waiting for it to go (now: {now_text})"
    )
    return replace(placed, report=report._replace(state=_WAITING, reason=reason, rule="DS7"))


def ds5_summary(d: _DaemonSet, placing: _Placing, judged: _Pods) -> str | None:
    """DS5 mid-rollout, as a Deployment's: "0 of 3 new pods ready; 3 old pods still serving".

    An old pod that is Running and Ready still serves its node until it is replaced
    (a surge pod beside it, or its turn under maxUnavailable); a terminating one no longer.
    """
    if not d.rolling or d.current_hash is None or judged.ready >= d.desired:
        return None
    old = [
        p for pods in placing.active.values() for p in pods if p.report.revision != d.current_hash
    ]
    old += [p for p in placing.terminating if p.report.revision != d.current_hash]
    if not old:
        return None
    serving = plural(sum(pod_rules.serving(p.report, p.rules) for p in old), "old pod")
    head = count_head(judged.ready, d.desired, judged.reports, "new pods ")
    return f"{head}; {serving} still serving"


def ds7_nodes(d: _DaemonSet, judged: _Pods) -> Finding | None:
    """DS7: desired nodes in all run a pod; name the nodes left with only a terminating one."""
    if judged.nodes == d.desired:
        return None
    if judged.nodes > d.desired:
        return Finding("DS7", _WAITING, f"pods on {judged.nodes} nodes, {d.desired} desired")
    text = f"{judged.nodes} of {d.desired} nodes run a pod"
    if judged.bare:
        text += f" ({', '.join(judged.bare)}: only a terminating pod)"
    return Finding("DS7", _WAITING, text)


# --------------------------------------------------------------------------- the DaemonSet


class _Judgement(Judgement):
    """A DaemonSet judged page by page (:mod:`.judgement`): its revisions come first."""

    pods_rule = "DS7"

    def __init__(self, daemonset: Obj, revisions: Any, policy: ReadinessPolicy) -> None:
        revs, self.bad, wrong = shapes.checked_entries(
            revisions, "DS5", "revisions", shapes.REVISION, "revision"
        )
        super().__init__(policy, shapes.problems(daemonset, shapes.DAEMONSET, "DaemonSet") + wrong)
        self.daemonset = daemonset
        self.d = None if self.wrong else _read(daemonset, revs)
        self.placing = _Placing()

    def _add(self, pods: list[Obj], now: datetime) -> None:
        d = self.d
        if d is not None and d.counted and d.desired > 0:  # DS9: no node is eligible
            ds7_place(d, pods, now, self.policy, self.placing)

    def _clear(self) -> None:
        self.placing = _Placing()

    def _malformed(self, bad_pods: list[Finding]) -> Verdict:
        wrong = self.wrong + self.bad + bad_pods
        return shapes.malformed_verdict("DaemonSet", self.daemonset, wrong, _ORDER)

    def _verdict(self, now: datetime, bad_pods: list[Finding]) -> Verdict:
        d = self.d
        assert d is not None  # a DaemonSet of a readable shape (Judgement.verdict)
        unobserved = ds2_observed(d)
        found = (ds1_deleting(d), unobserved, ds3_counted(d), *self.bad, *bad_pods)
        findings = [f for f in found if f is not None]
        judged = _Pods()
        if d.counted and d.desired > 0:  # DS9: no node is eligible: done once DS1-DS3 hold
            judged = pods_per_node(d, self.placing, self.policy)
            findings += ds4_scheduled(d)
            findings += [f for f in (ds5_updated(d, self.policy),) if f is not None]
            findings += ds6_ready(d, judged.ready)
            findings += [f for f in (ds7_nodes(d, judged),) if f is not None]
        verdict = workload_verdict(
            "DaemonSet",
            d.meta,
            desired=d.desired,
            revision=d.current_hash,
            pods=judged,
            findings=findings,
            order=_ORDER,
            observed=unobserved is None,
            summary=ds5_summary(d, self.placing, judged),
        )
        if verdict.state is State.READY and d.desired == 0:
            return replace(verdict, reason="0 of 0 ready (no node is eligible)")
        return verdict


def start_daemonset(
    daemonset: Obj, *, policy: ReadinessPolicy = DEFAULT_POLICY, revisions: Sequence[Obj] = ()
) -> Judgement:
    """Judge a DaemonSet whose pods arrive page by page, its revisions read before them."""
    return _Judgement(daemonset, revisions, policy)


def evaluate_daemonset(
    daemonset: Obj,
    pods: Sequence[Obj],
    *,
    now: datetime,
    policy: ReadinessPolicy = DEFAULT_POLICY,
    revisions: Sequence[Obj] = (),
) -> Verdict:
    """Judge a DaemonSet by DS1-DS9 and its owned pods by P1-P7.

    ``pods`` may hold anything the selector matched: only pods whose controller
    ownerReference is this DaemonSet count. ``revisions`` are its ControllerRevisions
    (others are ignored); without them the revision is judged by the counts alone.
    """
    now = check_inputs(now, policy)
    judgement = start_daemonset(daemonset, policy=policy, revisions=revisions)
    judgement.add_pods(pods, now)
    return judgement.verdict(now)


_ORDER = RULES + pod_rules.RULES
