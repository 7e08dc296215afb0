"""The pod rules P1-P7, containers and init containers alike, one function per rule.

:func:`judge_pod` reads a pod once (:class:`_Pod`), then asks the rules in table
order. P1 and P2/P2b end the pod's story: nothing else applies. P3-P6 each return
their findings; a pod with a FAILED finding is FAILED with every failure named,
one with only waits is WAITING with every wait named. A pod no rule holds back is
judged by P7, its stability window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from . import shapes
from .checks import EMPTY, Obj, age, all_timed, as_int, check_inputs, is_map, latest_of_all
from .policy import DEFAULT_POLICY, ReadinessPolicy
from .verdict import (
    Finding,
    PodReport,
    State,
    Verdict,
    clip,
    dur,
    in_table_order,
    new_report,
    plural,
    rfc3339,
    secs,
    with_message,
)

RULES = ("P1", "P2", "P2b", "P3", "P3b", "P3c", "P4", "P5", "P6", "P7")

_READY, _WAITING, _FAILED = State.READY, State.WAITING, State.FAILED

_FAIL_AT_ONCE = frozenset({"CrashLoopBackOff", "InvalidImageName", "ErrImageNeverPull"})
_IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff"})
_CONFIG_ERRORS = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)
# A pull error that heals by itself: registry rate limits, the kubelet's pull QPS,
# timeouts, 5xx answers. These stay WAITING however long they last (P3b).
_TRANSIENT_PULL = re.compile(
    r"rate.?limit|too many requests|toomanyrequests|\bqps\b|time ?out|timed out"
    r"|deadline exceeded|\b5\d\d (?:internal server error|bad gateway|service unavailable"
    r"|gateway time)|(?:status|code)\W{0,3}5\d\d\b",
    re.IGNORECASE,
)

Judged = tuple[PodReport, tuple[str, ...]]
"""A pod's report and the ids of the rules its reason names (none for a READY pod)."""

Gate = Callable[["_Pod", ReadinessPolicy], bool]
"""Whether P3-P6 may be skipped for a pod (:func:`quiet`)."""


class _Pod:
    """What the pod rules read, gathered in one pass over the container statuses."""

    __slots__ = (
        "app_statuses",
        "init_statuses",
        "meta",
        "name",
        "node",
        "phase",
        "pod_ip",
        "ready",
        "restarts",
        "revision",
        "scheduled",
        "settled",
        "sidecars",
        "since_stamps",
        "spec",
        "status",
        "unready",
        "unscheduled",
    )

    def __init__(self, pod: Obj) -> None:
        # Top to bottom, in the order the API writes a pod (json.loads allocates it so).
        self.meta = meta = pod.get("metadata") or EMPTY
        name = meta.get("name") or "<unnamed pod>"
        self.name = name if type(name) is str else str(name)
        labels = meta.get("labels") or EMPTY
        self.revision = labels.get("controller-revision-hash") or labels.get("pod-template-hash")
        self.spec = spec = pod.get("spec") or EMPTY
        init_specs = spec.get("initContainers")
        self.sidecars = sidecars = _sidecar_names(init_specs) if init_specs else ()
        self.node = spec.get("nodeName")
        self.status = status = pod.get("status") or EMPTY
        self.phase = phase = status.get("phase")
        ready = scheduled = None  # the Ready and PodScheduled conditions
        for cond in status.get("conditions") or ():
            kind = cond.get("type")
            if kind == "Ready":
                ready = cond
                if cond.get("status") == "True":
                    break  # a Ready pod is scheduled: PodScheduled has nothing to add
            elif kind == "PodScheduled":
                scheduled = cond
        self.ready, self.scheduled = ready, scheduled
        self.unscheduled = scheduled is not None and scheduled.get("status") == "False"
        self.pod_ip = status.get("podIP")
        self.init_statuses = inits = status.get("initContainerStatuses") or ()
        self.app_statuses = apps = status.get("containerStatuses") or ()
        unready: list[tuple[bool, Obj]] = []  # (is init, status): not running and ready
        started: list[Any] = []  # running.startedAt of app and sidecar containers
        restarts = _scan(inits, sidecars, unready, started) if inits else 0
        self.restarts = restarts + _scan(apps, None, unready, started)
        if ready is not None:
            started.append(ready.get("lastTransitionTime"))
        self.unready, self.since_stamps = unready, started  # P7 reads the latest of these
        # What quiet() asks that is known by now (P3, P5, P6): running, Ready, scheduled.
        self.settled = not unready and phase == "Running" and not self.unscheduled
        self.settled = self.settled and ready is not None and ready.get("status") == "True"

    def subject(self, cname: Any, is_init: bool) -> str:
        """How a container is named in a reason, so a person knows which one to look at.

        "web-1 container app", "web-1 sidecar container proxy", "web-1 init container migrate".
        """
        if not is_init:
            return f"{self.name} container {cname}"
        if cname in self.sidecars:
            return f"{self.name} sidecar container {cname}"
        return f"{self.name} init container {cname}"

    def report(
        self, state: State, reason: str, rule: str | None, ready_since: datetime | None = None
    ) -> PodReport:
        fields = (self.name, state, reason, ready_since, self.restarts, self.revision)
        return new_report((*fields, self.pod_ip, self.node, rule))

    def judged(self, findings: Sequence[Finding], ready_since: datetime | None = None) -> Judged:
        """Not ready: every failure, or else every wait, in the order the rules found them."""
        if len(findings) == 1:  # the common case: one rule holds the pod back
            (only,) = findings
            return self.report(only.state, only.text, only.rule, ready_since), (only.rule,)
        decisive = [f for f in findings if f.state is _FAILED] or findings
        first = decisive[0]
        reason = "; ".join([f.text for f in decisive])
        report = self.report(first.state, reason, first.rule, ready_since)
        return report, in_table_order([f.rule for f in decisive], RULES)


def _scan(
    statuses: Sequence[Obj],
    sidecars: Sequence[str] | None,
    unready: list[tuple[bool, Obj]],
    started: list[Any],
) -> int:
    """Sort container ``statuses`` into unready and started; return their restarts.

    ``sidecars`` is None for app containers, else the names of the init containers
    that are sidecars (the others must have completed).
    """
    restarts = 0
    for status in statuses:
        count = status.get("restartCount")
        if count is not None:
            if type(count) is not int or count < 0:  # never summed: it would cancel others
                raise ValueError("restartCount is not a count")  # shapes.POD names it
            restarts += count
        state = status.get("state") or EMPTY
        if sidecars is not None and status.get("name") not in sidecars:
            terminated = state.get("terminated")
            if not terminated or terminated.get("exitCode") != 0:
                unready.append((True, status))
            continue
        running = state.get("running")
        if running is None or status.get("ready") is not True:
            unready.append((sidecars is not None, status))
        if running is not None:
            started.append(running.get("startedAt"))
    return restarts


def _sidecar_names(init_containers: Any) -> Sequence[str]:
    """Init containers with ``restartPolicy: Always`` are sidecars: they run beside the app."""
    names: list[str] = []
    for container in init_containers:
        if container.get("restartPolicy") == "Always":
            names.append(container.get("name"))
    return names


def _exit_text(terminated: Obj) -> str:
    """A termination as a person reads it: "OOMKilled, exit 137" / "Error, exit 1"."""
    code = terminated.get("exitCode")
    reason = terminated.get("reason")
    signal = terminated.get("signal")
    words = [str(reason)] if reason else []
    words.append(f"exit {code}" if code is not None else "exit code unknown")
    if signal:
        words.append(f"signal {signal}")
    return ", ".join(words)


# --------------------------------------------------------------------------- P1, P2, P2b


def p1_terminating(pod: _Pod) -> Finding | None:
    """P1: a terminating pod is on its way out; nothing else about it matters."""
    stamp = pod.meta.get("deletionTimestamp")
    if not stamp:
        return None
    return Finding("P1", _WAITING, f"{pod.name}: terminating (deletionTimestamp {stamp})")


def p2_over(pod: _Pod) -> Finding | None:
    """P2 / P2b: the pod is over (Failed, Succeeded); a service pod does not come back."""
    if pod.phase == "Failed":
        return Finding("P2", _FAILED, f"{pod.name}: {_failed_text(pod)}")
    if pod.phase == "Succeeded":
        text = f"{pod.name}: pod Succeeded: its containers exited, a service pod must keep running"
        return Finding("P2b", _FAILED, text)
    return None


def _failed_text(pod: _Pod) -> str:
    """P2: the pod-level reason (Evicted, OOMKilled...) or else each container's exit."""
    reason = pod.status.get("reason")
    message = pod.status.get("message")
    if reason or message:
        return f"pod Failed: {reason or 'no reason given'}{with_message(message)}"
    exits = []
    for cstatus in pod.app_statuses:
        terminated = (cstatus.get("state") or EMPTY).get("terminated")
        if terminated and terminated.get("exitCode") != 0:
            exits.append(f"container {cstatus.get('name')} {_exit_text(terminated)}")
    return "pod Failed" + (": " + "; ".join(exits) if exits else "")


# --------------------------------------------------------------------------- P3, P3b, P3c


def p3_waiting_reasons(pod: _Pod, now: datetime, policy: ReadinessPolicy) -> Sequence[Finding]:
    """P3, P3b, P3c: each waiting container, judged by its waiting reason."""
    if not pod.unready:
        return ()
    found = (_waiting(pod, is_init, status, now, policy) for is_init, status in pod.unready)
    return [finding for finding in found if finding is not None]


def _waiting(
    pod: _Pod, is_init: bool, status: Obj, now: datetime, policy: ReadinessPolicy
) -> Finding | None:
    """P3 fails at once; P3b (image pulls) and P3c (config errors) after their grace.

    A waiting reason none of them names (ContainerCreating, PodInitializing) is a
    container not running yet: P6.
    """
    waiting = (status.get("state") or EMPTY).get("waiting")
    if waiting is None:
        return None
    waiting = waiting if is_map(waiting) else EMPTY
    reason = str(waiting.get("reason") or "Waiting")
    message = waiting.get("message")
    what = f"{pod.subject(status.get('name'), is_init)}: {reason}"
    if reason == "CrashLoopBackOff":
        return Finding("P3", _FAILED, what + _last_exit_suffix(status))
    if reason in _FAIL_AT_ONCE:
        return Finding("P3", _FAILED, what + with_message(message))
    if reason in _IMAGE_PULL:
        return _p3b_image_pull(pod, what, message, now, policy)
    if reason in _CONFIG_ERRORS:
        created_age = age(pod.meta.get("creationTimestamp"), now)
        return _graced("P3c", what, message, created_age, policy.config_error_grace_seconds)
    return Finding("P6", _WAITING, what + with_message(message))


def _p3b_image_pull(
    pod: _Pod, what: str, message: Any, now: datetime, policy: ReadinessPolicy
) -> Finding:
    """P3b: a registry error that heals by itself waits however long it lasts."""
    if _TRANSIENT_PULL.search(str(message or "")):
        text = f"{what}, transient registry error, retrying{with_message(message)}"
        return Finding("P3b", _WAITING, text)
    created_age = age(pod.meta.get("creationTimestamp"), now)
    return _graced("P3b", what, message, created_age, policy.image_pull_grace_seconds)


def _graced(rule: str, what: str, message: Any, created_age: float | None, grace: float) -> Finding:
    """P3b / P3c: FAILED once the pod is older than the grace (strictly), WAITING before."""
    if created_age is not None and created_age > grace:
        text = f"{what} {secs(created_age)} after pod creation (grace {dur(grace)})"
        return Finding(rule, _FAILED, text + with_message(message))
    text = f"{what}, {secs(created_age)} of {dur(grace)} grace"
    return Finding(rule, _WAITING, text + with_message(message))


def _last_exit_suffix(status: Obj) -> str:
    terminated = (status.get("lastState") or EMPTY).get("terminated")
    if not terminated:
        return ""
    code = terminated.get("exitCode")
    reason = terminated.get("reason")
    text = f", last exit {code}" if code is not None else ", last exit code unknown"
    if reason:
        text += f" ({reason})"
    return text


# --------------------------------------------------------------------------- P4


def p4_restarts(pod: _Pod, now: datetime, policy: ReadinessPolicy) -> Sequence[Finding]:
    """P4: restarts beyond the tolerance while the last termination is recent.

    Older restarts are history, shown in the report, never a failure. A container
    that P3 already fails (a CrashLoopBackOff) is not told twice. A restart the pod
    has recovered from (:func:`_recovered`) waits out the window instead of failing:
    a sensor started after a blip must not fail its task while every peer is READY.
    """
    if pod.restarts <= policy.max_restarts:
        return ()
    last = _last_termination(pod, now)
    if last is None:
        return ()
    ago, is_init, status, terminated = last
    if ago > policy.restart_window_seconds:
        return ()
    told = _waiting(pod, is_init, status, now, policy)
    if told is not None and told.state is _FAILED:
        return ()
    subject = pod.subject(status.get("name"), is_init)
    exit_text = _exit_text(terminated) if terminated else "exit details not reported"
    counted = f"{plural(pod.restarts, 'restart')}, {policy.max_restarts} tolerated"
    at, until = _p4_window(now, ago, policy)
    window = f"restart_window_seconds={policy.restart_window_seconds:g}"
    if _recovered(pod, now, ago, policy.min_stable_seconds):
        text = (
            f"{subject}: recovered from a restart at {at} ({exit_text}, {secs(ago)} ago; "
            f"{counted}); it counts until {until} ({window}); to accept it sooner, raise "
            "max_restarts or lower restart_window_seconds"
        )
        return (Finding("P4", _WAITING, text),)
    text = (
        f"{subject}: {exit_text}, {secs(ago)} ago ({counted}); restarted at {at}, counts "
        f"until {until} ({window}); to tolerate it, raise max_restarts or lower "
        "restart_window_seconds"
    )
    return (Finding("P4", _FAILED, text),)


def _p4_window(now: datetime, ago: float, policy: ReadinessPolicy) -> tuple[str, str]:
    """P4: when the last termination ended, and until when it counts ("forever" past 9999)."""
    at = now - timedelta(seconds=ago)
    try:
        until = rfc3339(at + timedelta(seconds=policy.restart_window_seconds))
    except OverflowError:  # a window past year 9999: the restart counts for good
        until = "forever"
    return rfc3339(at) or "", until or ""


def _recovered(pod: _Pod, now: datetime, ago: float, window: float) -> bool:
    """P4: Running and Ready again, every restarted container stable for ``window``.

    Stable since its current run started, and never before the last termination
    ended (``ago`` seconds ago). A crash still happening is not recovered: a
    container down, or up for less than the window (a crash loop between crashes).
    An ordinary init container that completed is done, whatever its restarts.
    """
    if not pod.settled or ago < window:
        return False
    restarted = [s for s in pod.app_statuses if as_int(s.get("restartCount"))]
    sidecars = [s for s in pod.init_statuses if s.get("name") in pod.sidecars]
    restarted += [s for s in sidecars if as_int(s.get("restartCount"))]
    return all(_up_for(status, now, window) for status in restarted)


def _up_for(status: Obj, now: datetime, window: float) -> bool:
    """Whether a container's current run started at least ``window`` seconds ago."""
    running = (status.get("state") or EMPTY).get("running") or EMPTY
    up = age(running.get("startedAt"), now)
    return up is not None and up >= window


Termination = tuple[float, bool, Obj, Obj | None]
"""A container's last termination: seconds ago, is init, its status, and its
``terminated`` state (None when the kubelet reported no exit details)."""


def _last_termination(pod: _Pod, now: datetime) -> Termination | None:
    """The most recent termination of any container."""
    best: Termination | None = None
    for is_init, statuses in ((True, pod.init_statuses), (False, pod.app_statuses)):
        for status in statuses:
            plain_init = is_init and status.get("name") not in pod.sidecars
            found = _termination(status, now, plain_init=plain_init)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], is_init, status, found[1])
    return best


def _termination(
    status: Obj, now: datetime, *, plain_init: bool
) -> tuple[float, Obj | None] | None:
    """A container's last termination: (seconds ago, its ``terminated`` state or None).

    Both ``lastState.terminated`` (the previous instance) and ``state.terminated``
    (the current one, between crash and restart) count; an ordinary init container
    that completed with exit 0 did its job and is not a termination here. When the
    kubelet lost ``lastState`` (it does after a node restart) or its ``finishedAt``
    cannot be read, the start of the current run of a restarted container is when
    the last restart happened: the termination ended no later (its exit details,
    if any).
    """
    state = status.get("state") or EMPTY
    best: tuple[float, Obj | None] | None = None
    previous = (status.get("lastState") or EMPTY).get("terminated")
    if previous:
        ago = age(previous.get("finishedAt"), now)
        if ago is not None:
            best = (ago, previous)
    current = state.get("terminated")
    if current and not (plain_init and current.get("exitCode") == 0):
        ago = age(current.get("finishedAt"), now)
        if ago is not None and (best is None or ago < best[0]):
            best = (ago, current)
    if best is None and as_int(status.get("restartCount")) > 0:
        ago = age((state.get("running") or EMPTY).get("startedAt"), now)
        if ago is not None:
            best = (ago, previous or None)
    return best


# --------------------------------------------------------------------------- P5


def p5_unschedulable(pod: _Pod, now: datetime, policy: ReadinessPolicy) -> Sequence[Finding]:
    """P5: the scheduler found no node; a grace only while waiting can place it.

    Capacity freed or added by an autoscaler, a node joining or back from its
    maintenance, the pods it avoids leaving: each may place it, so it waits for
    ``unschedulable_grace_seconds``. When every reason is one only a person can
    change (:func:`_no_wait_helps`), it fails at once: no grace can help.
    """
    scheduled = pod.scheduled
    if scheduled is None or not pod.unscheduled:
        return ()
    reason = scheduled.get("reason") or "not scheduled"
    said = scheduled.get("message")
    message = with_message(said)
    if reason != "Unschedulable":
        return (Finding("P5", _WAITING, f"{pod.name}: not scheduled yet ({reason}){message}"),)
    grace = policy.unschedulable_grace_seconds
    pending = age(scheduled.get("lastTransitionTime"), now)
    if _no_wait_helps(said):
        text = (
            f"{pod.name}: Unschedulable for {secs(pending)}, failed at once (no {dur(grace)} "
            "grace): the scheduler's reasons are the pod's constraints, the nodes' labels "
            f"and taints or its volumes, which waiting does not change{message}"
        )
        return (Finding("P5", _FAILED, text),)
    if pending is not None and pending > grace:
        text = f"{pod.name}: Unschedulable for {secs(pending)} (grace {dur(grace)}){message}"
        return (Finding("P5", _FAILED, text),)
    text = f"{pod.name}: Unschedulable for {secs(pending)} of {dur(grace)} grace{message}"
    return (Finding("P5", _WAITING, text),)


# The scheduler's message, as FitError.Error() writes it: "0/<n> nodes are available: ",
# then one PreFilter plugin's message, or the Filter plugins' reasons each with the
# count of nodes it ruled out ("<nodes> <reason>", sorted, joined with ", "), then "."
# and the PostFilter's (preemption's) own sentence:
#   0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint
#   {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: ...
# https://github.com/kubernetes/kubernetes/blob/master/pkg/scheduler/framework/types.go
_FIT_ERROR = re.compile(r"0/\d+ nodes are available: (.*)", re.DOTALL).match
_NEXT_REASON = re.compile(r", (?=\d+ )").split
_COUNTED = re.compile(r"\d+ (.+)", re.DOTALL).fullmatch

# Reasons only a person changes (the pod's spec, the nodes' labels and taints, the
# volumes), each a plugin's words in pkg/scheduler/framework/plugins/<plugin>/:
# https://github.com/kubernetes/kubernetes/tree/master/pkg/scheduler/framework/plugins
# Not here: "didn't match Pod's node affinity/selector". An autoscaler provisions
# nodes *for* a selector (Karpenter's node pools, a cluster-autoscaler group scaled
# from zero), and until its node registers every node says that; the pod alone cannot
# show an autoscaler at work, so that reason keeps the grace.
_NO_WAY = frozenset(
    {
        "node(s) didn't match pod topology spread constraints (missing required label)",
        "node(s) had volume node affinity conflict",  # volumebinding
        "node(s) didn't find available persistent volumes to bind",  # volumebinding
        "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)",
        "node(s) had no available volume zone",  # volumezone
    }
)
# volumebinding's PreFilter: a claim that does not exist, or whose volume does not.
_NO_CLAIM = re.compile(
    r'persistentvolumeclaim "[^"]*" (?:not found|bound to non-existent persistentvolume "[^"]*")'
).fullmatch
# tainttoleration: "node(s) had untolerated taint {<key>: <value>}"; older schedulers
# wrote "node(s) had taint {<key>: <value>}, that the pod didn't tolerate".
_TAINT = re.compile(
    r"node\(s\) had (?:untolerated taint \{([^:]*): [^}]*\}"
    r"|taint \{([^:]*): [^}]*\}, that the pod didn't tolerate)"
).fullmatch
# The taints of a node in passing: joining (not-ready, uninitialized: a node an
# autoscaler just added), cordoned, under pressure, or on its way out.
_PASSING_TAINTS = (
    "node.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
    "ToBeDeletedByClusterAutoscaler",
    "karpenter.sh/disrupted",
    "karpenter.sh/unregistered",
)


def _no_wait_helps(message: Any) -> bool:
    """P5: the scheduler's message names reasons, and every one is for a person to change.

    Not capacity ("Insufficient cpu", "Too many pods", ports, volume counts), not a
    node in passing (cordoned: "were unschedulable"; a not-ready taint), not other
    pods (pod affinity and anti-affinity: the pods it avoids may be going, as in a
    rollout's surge), not a claim being provisioned ("unbound immediate"). A
    message that is not the scheduler's, or a reason not named here, keeps the grace:
    never a failure on a guess.
    """
    found = _FIT_ERROR(message) if type(message) is str else None
    if found is None:
        return False
    said = found.group(1).split(" preemption: ", 1)[0].strip().removesuffix(".")
    reasons = _NEXT_REASON(said)
    counted = [_COUNTED(reason) for reason in reasons]
    if all(counted):
        reasons = [match.group(1) for match in counted if match]
    elif len(reasons) > 1:
        return False
    return all(_for_a_person(reason) for reason in reasons)


def _for_a_person(reason: str) -> bool:
    """P5: one reason no autoscaler, freed capacity or controller changes."""
    taint = _TAINT(reason)
    if taint is not None:
        key = taint.group(1) or taint.group(2) or ""
        return not key.startswith(_PASSING_TAINTS)
    return reason in _NO_WAY or _NO_CLAIM(reason) is not None


# --------------------------------------------------------------------------- P6


def p6_containers(pod: _Pod) -> Sequence[Finding]:
    """P6: every container running and ready, init containers done, readiness gates True.

    An unscheduled pod has nothing to tell here (no node, so no containers yet: P5
    tells); a waiting container was told by :func:`p3_waiting_reasons`.
    """
    if pod.unscheduled:
        return ()
    spec = pod.spec
    found = _not_running(pod) if pod.unready else []
    inits, apps = spec.get("initContainers"), spec.get("containers")
    if inits:
        found += _no_status(pod, inits, pod.init_statuses, True)
    if apps:
        found += _no_status(pod, apps, pod.app_statuses, False)
    if spec.get("readinessGates"):
        found += _readiness_gates(pod)
    return found


def _not_running(pod: _Pod) -> list[Finding]:
    """P6: the containers that are not running and ready and not waiting either."""
    return [
        _not_running_container(pod, is_init, status)
        for is_init, status in pod.unready
        if (status.get("state") or EMPTY).get("waiting") is None
    ]


def _not_running_container(pod: _Pod, is_init: bool, status: Obj) -> Finding:
    cname = status.get("name")
    subject = pod.subject(cname, is_init)
    state = status.get("state") or EMPTY
    terminated = state.get("terminated")
    if is_init and cname not in pod.sidecars:
        text = f"{_exit_text(terminated)}, to be retried" if terminated else "not done yet"
    elif terminated:
        text = f"terminated, {_exit_text(terminated)}"
    elif state.get("running") is None:
        text = "not running"
    else:
        text = "running, not ready"
    return Finding("P6", _WAITING, f"{subject}: {text}")


def _no_status(pod: _Pod, specs: Any, statuses: Sequence[Obj], is_init: bool) -> list[Finding]:
    """P6: a container of the spec the kubelet has not reported on (by name).

    Every container the spec names must be seen: a status of another name is no
    evidence for it. A spec list of another shape raises (:func:`judge_pod` names it).
    """
    if type(specs) is not list:
        raise TypeError("a container list is not a list")
    if len(specs) <= _FEW and len(statuses) <= _FEW:  # a few: no set to build
        missing = [c.get("name") for c in specs if not _has_status(c.get("name"), statuses)]
    else:
        seen = {s.get("name") for s in statuses}
        missing = [name for name in (c.get("name") for c in specs) if name not in seen]
    return [Finding("P6", _WAITING, f"{pod.subject(n, is_init)}: no status yet") for n in missing]


_FEW = 8


def _has_status(name: Any, statuses: Sequence[Obj]) -> bool:
    """A loop, not any(): every container of every pod of every poke asks this."""
    for status in statuses:  # noqa: SIM110
        if status.get("name") == name:
            return True
    return False


def _readiness_gates(pod: _Pod) -> list[Finding]:
    """P6: a readiness gate (a load balancer's target health...) that is not True."""
    gates = pod.spec.get("readinessGates") or ()
    findings = []
    for gate in gates:
        gate_type = gate.get("conditionType") if is_map(gate) else None
        gate_status = None
        for cond in pod.status.get("conditions") or ():
            if cond.get("type") == gate_type:
                gate_status = cond.get("status")
        if gate_status != "True":
            text = f"{pod.name}: readiness gate {gate_type} is {gate_status or 'not reported'}"
            findings.append(Finding("P6", _WAITING, text))
    return findings


def p6_pod(pod: _Pod) -> Finding | None:
    """P6, when no container tells why: phase Running, condition Ready=True, containers named."""
    if pod.phase != "Running":
        return Finding("P6", _WAITING, f"{pod.name}: phase {pod.phase or 'not reported'}")
    ready = pod.ready
    if ready is None:
        return Finding("P6", _WAITING, f"{pod.name}: condition Ready is not reported")
    if ready.get("status") != "True":
        detail = ready.get("reason")
        text = f"{pod.name}: condition Ready is {ready.get('status')}"
        return Finding("P6", _WAITING, text + (f" ({detail})" if detail else ""))
    if not pod.spec.get("containers"):
        text = f"{pod.name}: spec.containers names no container: none can be seen running"
        return Finding("P6", _WAITING, text)
    return None


# --------------------------------------------------------------------------- P7


def p7_stable(pod: _Pod, now: datetime, policy: ReadinessPolicy) -> Judged:
    """P7: Ready without interruption for the stability window, else WAITING.

    Ready since the latest of Ready's lastTransitionTime and every container's
    running.startedAt. The last rule: a pod it passes is READY.
    """
    since = latest_of_all(pod.since_stamps)
    window = policy.min_stable_seconds
    if since is None:
        if window <= 0:
            return pod.report(_READY, f"{pod.name}: ready", None), ()
        text = (
            f"{pod.name}: Ready, but no timestamp tells since when ({_untimed(pod)}): "
            f"the stability window cannot be timed, so it is not over (window {dur(window)})"
        )
        return pod.judged((Finding("P7", _WAITING, text),))
    stable = (now - since).total_seconds()
    if stable < window:
        text = f"{pod.name}: stabilizing {secs(stable)} of {dur(window)}"
        return pod.judged((Finding("P7", _WAITING, text),), since)
    reason = f"{pod.name}: ready for {int(stable)}s"
    return new_report(
        (pod.name, _READY, reason, since, pod.restarts, pod.revision, pod.pod_ip, pod.node, None)
    ), ()


def _untimed(pod: _Pod) -> str:
    """The first stamp P7 cannot read: a container's running.startedAt or Ready's transition."""
    for is_init, statuses in ((True, pod.init_statuses), (False, pod.app_statuses)):
        for status in statuses:
            running = (status.get("state") or EMPTY).get("running")
            if running is not None and not all_timed((running.get("startedAt"),)):
                return f"{pod.subject(status.get('name'), is_init)} running.startedAt " + (
                    _stamp_text(running.get("startedAt"))
                )
    stamp = pod.ready.get("lastTransitionTime") if pod.ready is not None else None
    return f"condition Ready lastTransitionTime {_stamp_text(stamp)}"


def _stamp_text(stamp: Any) -> str:
    if stamp is None or stamp == "":
        return "missing"
    return f"not RFC 3339: {clip(repr(stamp))}"


# --------------------------------------------------------------------------- one pod


def serving(report: PodReport, rules: Sequence[str]) -> bool:
    """Running and Ready, so in its Service's endpoints, whatever the verdict's window says.

    READY, stabilizing (P7 alone) or recovered from a restart (P4 alone, WAITING).
    ``rules`` are the pod's own (:func:`judge_pod`'s), before a workload's are added.
    """
    if report.state is _READY or rules == ("P7",):
        return True
    return report.state is _WAITING and rules == ("P4",)


def judge_pod(obj: Obj, now: datetime, policy: ReadinessPolicy, gate: Gate | None = None) -> Judged:
    """P1-P7 for one pod: its report and the ids of the rules its reason names.

    A pod of a shape the rules cannot read is WAITING, naming the wrong field
    (:mod:`.shapes`); it never raises. ``gate`` replaces :func:`quiet`, the fast
    path, for the test that proves it changes no verdict.
    """
    try:
        pod = _Pod(obj)
        over = p1_terminating(pod) or p2_over(pod)
        if over is not None:
            return pod.judged((over,))
        if not (gate or quiet)(pod, policy):
            findings = p3_to_p6(pod, now, policy)
            if findings:
                return pod.judged(findings)
        return p7_stable(pod, now, policy)
    except _UNREADABLE:
        return malformed_pod(obj)


# What reading a pod of a wrong shape raises: the rules read the fields as the API
# types them, and a field of another type fails on its first use.
_UNREADABLE = (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError)


def malformed_pod(obj: Any) -> Judged:
    """WAITING for a pod whose shape the rules cannot read, naming the wrong fields."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    name = meta.get("name") if isinstance(meta, Mapping) else None
    name = name if isinstance(name, str) and name else "<unnamed pod>"
    found = shapes.problems(obj, shapes.POD, "pod") or [
        Finding("P6", _WAITING, "pod fields of an unexpected shape")
    ]
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    revision = None
    if isinstance(labels, Mapping):
        revision = labels.get("controller-revision-hash") or labels.get("pod-template-hash")
    text = f"{name}: cannot be judged: " + "; ".join(f.text for f in found)
    report = PodReport(name, _WAITING, text, None, 0, revision, None, None, found[0].rule)
    return report, in_table_order([f.rule for f in found], RULES)


def p3_to_p6(pod: _Pod, now: datetime, policy: ReadinessPolicy) -> list[Finding]:
    """P3-P6 in table order; P6's pod-level check only when no container told why."""
    findings = [
        *p3_waiting_reasons(pod, now, policy),
        *p4_restarts(pod, now, policy),
        *p5_unschedulable(pod, now, policy),
        *p6_containers(pod),
    ]
    if not findings and (fallback := p6_pod(pod)) is not None:
        findings.append(fallback)
    return findings


def quiet(pod: _Pod, policy: ReadinessPolicy) -> bool:
    """The fast path: True only for a pod P3-P6 have nothing to say about, so they are skipped.

    Each clause is where one of those rules starts; it may say False for a pod the
    rules pass (they then run, and tell the same), never True for one they would
    hold back or fail to read. ``test_fast_path`` proves it: for every pod drawn,
    a True here means :func:`p3_to_p6` finds nothing, and the verdict is the one
    the rules give without it. Nearly every pod of a poke takes it.
    """
    spec = pod.spec
    return (
        pod.settled  # P3, P5, P6: containers running and ready, scheduled, phase, Ready
        and pod.restarts <= policy.max_restarts  # P4
        and not spec.get("readinessGates")  # P6
        and _named_in_order(spec.get("containers"), pod.app_statuses)  # P6
        and (not (inits := spec.get("initContainers")) or _named_in_order(inits, pod.init_statuses))
    )


def _named_in_order(specs: Any, statuses: Sequence[Obj]) -> bool:
    """A status for each container of ``specs``, in order: as the kubelet reports them."""
    if type(specs) is not list or not specs or len(specs) != len(statuses):
        return False
    for index, spec in enumerate(specs):  # noqa: SIM110 - a loop: no generator per pod
        if spec.get("name") != statuses[index].get("name"):
            return False
    return True


def evaluate_pod(pod: Obj, *, now: datetime, policy: ReadinessPolicy = DEFAULT_POLICY) -> Verdict:
    """Judge a single pod by P1-P7."""
    now = check_inputs(now, policy)
    report, rules = judge_pod(pod, now, policy)
    meta = pod.get("metadata") if isinstance(pod, Mapping) else None
    namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    return Verdict(
        kind="Pod",
        name=report.name,
        namespace=namespace if isinstance(namespace, str) else None,
        state=report.state,
        reason=report.reason,
        desired=1,
        ready=1 if report.state is State.READY else 0,
        revision=report.revision,
        pods=(report,),
        rules=rules,
    )
