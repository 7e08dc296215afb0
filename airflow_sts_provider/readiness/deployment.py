"""The Deployment rules D1-D6, one function per rule, in table order.

:func:`evaluate_deployment` reads the Deployment once (:class:`_Deployment`), asks
D1-D5 of its status, finds the new ReplicaSet (D6) and judges that one's pods by
the pod rules; pods of older ReplicaSets only have to go (D5).
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
from .policy import DEFAULT_POLICY, ReadinessPolicy
from .verdict import (
    Finding,
    PodReport,
    PodTally,
    State,
    Verdict,
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


def d6_new_pods(d: _Deployment, sets: _ReplicaSets, new_pods: Sequence[Obj]) -> Finding | None:
    """D6: the new ReplicaSet has all its pods (the terminating ones do not count)."""
    active = sum(
        1 for pod in new_pods if not (pod.get("metadata") or EMPTY).get("deletionTimestamp")
    )
    if sets.new is None or active >= d.desired:
        return None
    return Finding("D6", _WAITING, f"{active} of {d.desired} new pods exist")


@dataclass
class _Pods(PodTally):
    """The new pods' reports, then the old ones', and how many old pods still serve."""

    old: int = 0  # pods of older ReplicaSets
    old_serving: int = 0  # of those, Running and Ready (in the Service's endpoints)


def d6_pods(
    sets: _ReplicaSets, pods: Sequence[Obj], now: datetime, policy: ReadinessPolicy
) -> tuple[_Pods, list[Obj]]:
    """D6: the new ReplicaSet's pods pass the pod rules; D5: an old ReplicaSet's pods go.

    Returns the reports (new pods first) and the new ReplicaSet's pods. An old pod
    that is Ready (stable or not) still serves: a rollout to a crashing image is
    an outage only once none does, so the reason counts them.
    """
    new_pods, old_pods = _split_pods(sets, pods)
    tally = _Pods(old=len(old_pods))
    for pod in new_pods:
        report, rules = pod_rules.judge_pod(pod, now, policy)
        tally.add(report, ("D6", *rules) if rules else ())
    for pod, rs_meta in old_pods:
        report, rules = pod_rules.judge_pod(pod, now, policy)
        tally.old_serving += report.state is State.READY or rules == ("P7",)
        tally.add(d5_old_pod(report, rs_meta), ("D5",))
    return tally, new_pods


def d5_summary(d: _Deployment, tally: _Pods) -> str | None:
    """D5, D6 mid-rollout: "0 of 3 new pods ready; 3 old pods still serving"."""
    if not tally.old:
        return None
    serving = plural(tally.old_serving, "old pod")
    return f"{tally.ready} of {d.desired} new pods ready; {serving} still serving"


def _split_pods(sets: _ReplicaSets, pods: Sequence[Obj]) -> tuple[list[Obj], list[tuple[Obj, Obj]]]:
    """The pods of the new ReplicaSet, and those of the older ones with their ReplicaSet."""
    new_pods: list[Obj] = []
    old_pods: list[tuple[Obj, Obj]] = []
    for pod in pods:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind", "ReplicaSet") != "ReplicaSet":
            continue
        rs_meta = sets.owned.get(str(ref.get("uid") or ref.get("name")))
        if rs_meta is None:
            continue
        if sets.new is not None and rs_meta is sets.new:
            new_pods.append(pod)
        else:
            old_pods.append((pod, rs_meta))
    new_pods.sort(key=_pod_name)
    old_pods.sort(key=lambda item: _pod_name(item[0]))
    return new_pods, old_pods


def _pod_name(pod: Obj) -> str:
    return str((pod.get("metadata") or EMPTY).get("name") or "")


# --------------------------------------------------------------------------- the Deployment


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
    wrong = shapes.problems(deployment, shapes.DEPLOYMENT, "Deployment")
    replicasets, bad = shapes.entries(replicasets, "D6", "replicasets")
    pods, bad_pods = shapes.entries(pods, "D6", "pods")
    wrong += [p for rs in replicasets for p in shapes.problems(rs, shapes.REPLICASET, "ReplicaSet")]
    if wrong:
        return shapes.malformed_verdict("Deployment", deployment, wrong + bad + bad_pods, _ORDER)
    d = _read(deployment)
    unobserved = d2_observed(d)
    findings = [f for f in (d1_deleting(d), unobserved, *bad, *bad_pods) if f is not None]
    findings += d3_progress_deadline(d, observed=unobserved is None)
    findings += [f for f in (d4_paused(d),) if f is not None]
    findings += d5_counts(d)
    sets = _replicasets(d, replicasets)
    tally, new_pods = d6_pods(sets, pods, now, policy)
    later = (d6_new_replicaset(d, sets), d6_new_pods(d, sets, new_pods))
    findings += [f for f in (*later, d5_ready_replicas(d, tally.ready)) if f is not None]
    return workload_verdict(
        "Deployment",
        d.meta,
        desired=d.desired,
        revision=(sets.new.get("labels") or EMPTY).get("pod-template-hash") if sets.new else None,
        pods=tally,
        findings=findings,
        order=_ORDER,
        observed=unobserved is None,
        summary=d5_summary(d, tally),
    )


_ORDER = RULES + pod_rules.RULES
