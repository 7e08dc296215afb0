"""The Deployment rules D1-D6, one function per rule, in table order.

:func:`evaluate_deployment` reads the Deployment once (:class:`_Deployment`), asks
D1-D5 of its status, finds the new ReplicaSet (D6) and judges that one's pods by
the pod rules; pods of older ReplicaSets only have to go (D5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import pods as pod_rules
from . import shapes
from .checks import (
    EMPTY,
    Obj,
    as_int,
    check_inputs,
    controller_ref,
    deletion_finding,
    desired_replicas,
    generation_finding,
    is_controlled_by,
    is_map,
    optional_int,
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
    with_message,
    workload_verdict,
)

RULES = ("D1", "D2", "D3", "D4", "D5", "D6")

_WAITING = State.WAITING
_REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True, slots=True)
class _Deployment:
    """What the D rules read from a Deployment."""

    meta: Obj
    spec: Obj
    status: Obj
    name: str
    desired: int
    revision: object  # the deployment.kubernetes.io/revision annotation, if any


def _read(deployment: Obj) -> _Deployment:
    meta, spec, status = parts(deployment)
    return _Deployment(
        meta=meta,
        spec=spec,
        status=status,
        name=str(meta.get("name") or ""),
        desired=desired_replicas(spec),
        revision=(meta.get("annotations") or EMPTY).get(_REVISION_ANNOTATION),
    )


def d1_deleting(d: _Deployment) -> Finding | None:
    """D1: a Deployment being deleted will not become ready again."""
    return deletion_finding("D1", "Deployment", d.meta)


def d2_observed(d: _Deployment) -> Finding | None:
    """D2: the status may describe an older spec."""
    return generation_finding("D2", "Deployment", d.meta, d.status)


def d3_progress_deadline(d: _Deployment, *, observed: bool) -> list[Finding]:
    """D3: the controller itself gave up waiting for progress (only WAITING while D2 fails)."""
    deadline = d.spec.get("progressDeadlineSeconds")
    text = "ProgressDeadlineExceeded" + (f" after {deadline}s" if deadline else "")
    state = State.FAILED if observed else _WAITING
    return [
        Finding("D3", state, text + with_message(cond.get("message")))
        for cond in d.status.get("conditions") or ()
        if is_map(cond)
        and cond.get("type") == "Progressing"
        and cond.get("status") == "False"
        and cond.get("reason") == "ProgressDeadlineExceeded"
    ]


def d4_paused(d: _Deployment) -> Finding | None:
    """D4: a paused rollout does not move on its own."""
    if d.spec.get("paused") is not True:
        return None
    return Finding("D4", _WAITING, f"rollout paused (kubectl rollout resume deployment/{d.name})")


def d5_counts(d: _Deployment) -> list[Finding]:
    """D5: updated and available replicas, exactly the desired pods, none terminating."""
    findings = []
    for field_name, word in (("updatedReplicas", "updated"), ("availableReplicas", "available")):
        count = as_int(d.status.get(field_name))
        if count < d.desired:
            findings.append(Finding("D5", _WAITING, f"{count} of {d.desired} {word}"))
    total = optional_int(d.status.get("replicas"))
    if total is None:
        findings.append(Finding("D5", _WAITING, "status.replicas not reported yet"))
    elif total > d.desired:
        old = plural(total - d.desired, "old pod")
        findings.append(Finding("D5", _WAITING, f"{old} left ({total} exist, {d.desired} desired)"))
    elif total < d.desired:
        findings.append(Finding("D5", _WAITING, f"{total} of {d.desired} created"))
    terminating = optional_int(d.status.get("terminatingReplicas"))
    if terminating:
        findings.append(Finding("D5", _WAITING, f"{plural(terminating, 'pod')} terminating"))
    return findings


def d5_ready_replicas(d: _Deployment, pods_ready: int) -> Finding | None:
    """D5: readyReplicas, told only when the pods do not explain it."""
    return ready_count_finding("D5", d.status, d.desired, pods_ready)


def d5_old_pod(report: PodReport, rs_meta: Obj) -> PodReport:
    """D5: a pod of an older ReplicaSet has to go; whatever its state, it only blocks."""
    reason = f"{report.name}: old ReplicaSet {rs_meta.get('name')}, waiting for it to go"
    return report._replace(state=_WAITING, reason=reason, rule="D5")


# --------------------------------------------------------------------------- D6


@dataclass(frozen=True, slots=True)
class _ReplicaSets:
    """The ReplicaSets this Deployment controls, by uid (or name), and the new one's metadata."""

    owned: dict[str, Obj]
    new: Obj | None


def _replicasets(d: _Deployment, replicasets: Sequence[Obj]) -> _ReplicaSets:
    """The new ReplicaSet is the owned one at the Deployment's revision."""
    owned: dict[str, Obj] = {}
    new: Obj | None = None
    for rs in replicasets:
        if not is_controlled_by(rs, d.meta, "Deployment"):
            continue
        rs_meta = rs.get("metadata") or EMPTY
        owned[str(rs_meta.get("uid") or rs_meta.get("name"))] = rs_meta
        rs_revision = (rs_meta.get("annotations") or EMPTY).get(_REVISION_ANNOTATION)
        if d.revision is not None and str(rs_revision) == str(d.revision):
            new = rs_meta
    return _ReplicaSets(owned, new)


def d6_new_replicaset(d: _Deployment, sets: _ReplicaSets) -> Finding | None:
    """D6: the new ReplicaSet exists (the controller creates it for each new revision)."""
    if sets.new is not None or d.desired == 0:
        return None
    wanted = f"revision {d.revision}" if d.revision is not None else "its revision"
    return Finding("D6", _WAITING, f"new ReplicaSet ({wanted}) not found yet")


def d6_new_pods(d: _Deployment, sets: _ReplicaSets, active: int) -> Finding | None:
    """D6: the new ReplicaSet has all its pods (``active``: the new ones not terminating)."""
    if sets.new is None or active >= d.desired:
        return None
    return Finding("D6", _WAITING, f"{active} of {d.desired} new pods exist")


@dataclass
class _Pods(PodTally):
    """The new pods' reports, then the old ones', and how many old pods still serve."""

    old: int = 0  # pods of older ReplicaSets
    old_serving: int = 0  # of those, Running and Ready (in the Service's endpoints)
    active: int = 0  # new pods not terminating (D6)


@dataclass
class _Split:
    """The owned pods judged so far, as each page came: (name, judgement, what else counts)."""

    new: list[tuple[str, pod_rules.Judged, bool]] = field(default_factory=list)  # terminating?
    old: list[tuple[str, pod_rules.Judged, Obj]] = field(default_factory=list)  # its ReplicaSet


def d6_judge(
    sets: _ReplicaSets, pods: Sequence[Obj], now: datetime, policy: ReadinessPolicy, split: _Split
) -> None:
    """D5, D6: the pods of the new ReplicaSet and of the older ones, each judged by P1-P7.

    Only pods a ReplicaSet of this Deployment controls count.
    """
    for pod in pods:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind", "ReplicaSet") != "ReplicaSet":
            continue
        rs_meta = sets.owned.get(str(ref.get("uid") or ref.get("name")))
        if rs_meta is None:
            continue
        meta = pod.get("metadata") or EMPTY
        name, judged = str(meta.get("name") or ""), pod_rules.judge_pod(pod, now, policy)
        if sets.new is not None and rs_meta is sets.new:
            split.new.append((name, judged, bool(meta.get("deletionTimestamp"))))
        else:
            split.old.append((name, judged, rs_meta))


def d6_pods(split: _Split) -> _Pods:
    """D6: the new ReplicaSet's pods pass the pod rules; D5: an old ReplicaSet's pods go.

    The reports come new pods first, each group by name. An old pod that is Ready
    (stable or not) still serves: a rollout to a crashing image is an outage only
    once none does, so the reason counts them.
    """
    tally = _Pods(old=len(split.old))
    for _, (report, rules), terminating in sorted(split.new, key=_by_name):
        tally.add(report, ("D6", *rules) if rules else ())
        tally.active += not terminating
    for _, (report, rules), rs_meta in sorted(split.old, key=_by_name):
        tally.old_serving += pod_rules.serving(report, rules)
        tally.add(d5_old_pod(report, rs_meta), ("D5",))
    return tally


def _by_name(entry: tuple[str, object, object]) -> str:
    return entry[0]


def d5_summary(d: _Deployment, tally: _Pods) -> str | None:
    """D5, D6 mid-rollout: "0 of 3 new pods ready; 3 old pods still serving"."""
    if not tally.old:
        return None
    serving = plural(tally.old_serving, "old pod")
    head = count_head(tally.ready, d.desired, tally.reports, "new pods ")
    return f"{head}; {serving} still serving"


# --------------------------------------------------------------------------- the Deployment


class _Judgement(Judgement):
    """A Deployment judged page by page (:mod:`.judgement`): its ReplicaSets come first."""

    pods_rule = "D6"

    def __init__(self, deployment: Obj, replicasets: Any, policy: ReadinessPolicy) -> None:
        sets, self.bad, wrong = shapes.checked_entries(
            replicasets, "D6", "replicasets", shapes.REPLICASET, "ReplicaSet"
        )
        super().__init__(
            policy, shapes.problems(deployment, shapes.DEPLOYMENT, "Deployment") + wrong
        )
        self.deployment = deployment
        self.d = None if self.wrong else _read(deployment)
        self.sets = _replicasets(self.d, sets) if self.d is not None else _ReplicaSets({}, None)
        self.split = _Split()

    def _add(self, pods: list[Obj], now: datetime) -> None:
        d6_judge(self.sets, pods, now, self.policy, self.split)

    def _clear(self) -> None:
        self.split = _Split()

    def _malformed(self, bad_pods: list[Finding]) -> Verdict:
        return shapes.malformed_verdict(
            "Deployment", self.deployment, self.wrong + self.bad + bad_pods, _ORDER
        )

    def _verdict(self, now: datetime, bad_pods: list[Finding]) -> Verdict:
        d, sets = self.d, self.sets
        assert d is not None  # a Deployment of a readable shape (Judgement.verdict)
        unobserved = d2_observed(d)
        findings = [f for f in (d1_deleting(d), unobserved, *self.bad, *bad_pods) if f is not None]
        findings += d3_progress_deadline(d, observed=unobserved is None)
        findings += [f for f in (d4_paused(d),) if f is not None]
        findings += d5_counts(d)
        tally = d6_pods(self.split)
        later = (d6_new_replicaset(d, sets), d6_new_pods(d, sets, tally.active))
        findings += [f for f in (*later, d5_ready_replicas(d, tally.ready)) if f is not None]
        new_labels = (sets.new.get("labels") or EMPTY) if sets.new else EMPTY
        return workload_verdict(
            "Deployment",
            d.meta,
            desired=d.desired,
            revision=new_labels.get("pod-template-hash") if sets.new else None,
            pods=tally,
            findings=findings,
            order=_ORDER,
            observed=unobserved is None,
            summary=d5_summary(d, tally),
        )


def start_deployment(
    deployment: Obj, replicasets: Sequence[Obj], *, policy: ReadinessPolicy = DEFAULT_POLICY
) -> Judgement:
    """Judge a Deployment whose pods arrive page by page, its ReplicaSets read before them."""
    return _Judgement(deployment, replicasets, policy)


def evaluate_deployment(
    deployment: Obj,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    *,
    now: datetime,
    policy: ReadinessPolicy = DEFAULT_POLICY,
) -> Verdict:
    """Judge a Deployment by D1-D6; its new ReplicaSet's pods by P1-P7.

    ``replicasets`` and ``pods`` may hold anything the selector matched: only
    ReplicaSets this Deployment controls, and pods those ReplicaSets control, count.
    """
    now = check_inputs(now, policy)
    judgement = start_deployment(deployment, replicasets, policy=policy)
    judgement.add_pods(pods, now)
    return judgement.verdict(now)


_ORDER = RULES + pod_rules.RULES
