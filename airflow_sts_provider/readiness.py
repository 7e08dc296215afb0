"""The readiness rules: is a StatefulSet, Deployment or Pod really running?

Everything here is pure and stdlib-only on purpose. The hook, the trigger, the
emulator's tests and the benchmarks all call the same functions with the plain
JSON dicts the API server returned, and get a :class:`Verdict` back; nothing here
knows about HTTP, Airflow or the kubernetes client, so the rules can be tested
as tables and imported anywhere.

The rule ids (S1-S12, P1-P7, D1-D6) are the ones of the design card and of
the README section "How *running* is decided"; they appear in comments so a
reader can map code to table.

Shape of every check, after kstatus: a flat run of small checks, each adding one
short finding a person can act on. Unlike kstatus, every failing pod is named
and collected, not just the first.

Evaluation is stateless and linear in the number of pods: each pod is judged
once, the StatefulSet's expected ordinals are looked up in a dict, and timestamps
are parsed with :meth:`datetime.fromisoformat` only where a rule needs them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

__all__ = [
    "PodReport",
    "ReadinessPolicy",
    "State",
    "Verdict",
    "evaluate_deployment",
    "evaluate_pod",
    "evaluate_statefulset",
    "selector_to_label_selector",
]

Obj = Mapping[str, Any]
"""A Kubernetes object as the API returns it: a JSON dict with camelCase keys."""

_EMPTY: Obj = {}


class State(str, Enum):  # noqa: UP042 - the contract promises a str-mixin Enum
    """How far a workload is from running: the sensor maps it to done / poke again / fail."""

    READY = "ready"
    WAITING = "waiting"
    FAILED = "failed"


# Why each policy field may not be negative, and what to write instead.
_POLICY_FIXES = {
    "min_stable_seconds": "use 0 to accept a pod as soon as it is Ready",
    "max_restarts": "use 0 to fail on the first recent restart",
    "restart_window_seconds": "use 0 to ignore every restart that is not happening right now",
    "image_pull_grace_seconds": "use 0 to fail on the first image pull error",
    "config_error_grace_seconds": "use 0 to fail on the first container config error",
    "unschedulable_grace_seconds": "use 0 to fail as soon as the scheduler gives up on a pod",
}


@dataclass(frozen=True)
class ReadinessPolicy:
    """The knobs of the rules; the defaults suit a service that must stay up.

    Graces exist because some failures heal by themselves (a registry hiccup, a
    ConfigMap created a few seconds after the pod, a node that autoscales in).
    """

    min_stable_seconds: float = 60.0
    max_restarts: int = 0
    restart_window_seconds: float = 900.0
    image_pull_grace_seconds: float = 120.0
    config_error_grace_seconds: float = 60.0
    unschedulable_grace_seconds: float = 300.0
    require_updated_on_delete: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "require_updated_on_delete":
                if not isinstance(value, bool):
                    raise ValueError(
                        f"ReadinessPolicy.require_updated_on_delete must be True or False, "
                        f"got {value!r}"
                    )
                continue
            fix = _POLICY_FIXES[f.name]
            if f.name == "max_restarts":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(
                        f"ReadinessPolicy.max_restarts must be a whole number, got {value!r}; {fix}"
                    )
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(
                    f"ReadinessPolicy.{f.name} must be a number of seconds, got {value!r}; {fix}"
                )
            if not value >= 0:  # also rejects NaN
                raise ValueError(f"ReadinessPolicy.{f.name} must be >= 0, got {value!r}; {fix}")


_DEFAULT_POLICY = ReadinessPolicy()


def _rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


@dataclass(frozen=True, slots=True)
class PodReport:
    """One pod's verdict; ``reason`` starts with the pod's name so it can be logged alone."""

    name: str
    state: State
    reason: str
    ready_since: datetime | None
    restarts: int
    revision: str | None
    pod_ip: str | None
    node: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for XCom: ``state`` as its string value, ``ready_since`` as RFC 3339."""
        return {
            "name": self.name,
            "state": self.state.value,
            "reason": self.reason,
            "ready_since": _rfc3339(self.ready_since),
            "restarts": self.restarts,
            "revision": self.revision,
            "pod_ip": self.pod_ip,
            "node": self.node,
        }


_SET_POD_REPORT_FIELDS = tuple(getattr(PodReport, name).__set__ for name in PodReport.__slots__)


def _pod_report(  # noqa: PLR0917 - positional like PodReport(...) itself
    name: str,
    state: State,
    reason: str,
    ready_since: datetime | None,
    restarts: int,
    revision: str | None,
    pod_ip: str | None,
    node: str | None,
) -> PodReport:
    """``PodReport(...)`` at half the cost: a poke of 5,000 pods builds 5,000 of them.

    A frozen dataclass's ``__init__`` goes through ``object.__setattr__`` per field;
    filling the slots directly gives the very same object (equal, hashable, frozen).
    """
    report: PodReport = object.__new__(PodReport)
    (set_name, set_state, set_reason, set_since, set_restarts, set_revision, set_ip, set_node) = (
        _SET_POD_REPORT_FIELDS
    )
    set_name(report, name)
    set_state(report, state)
    set_reason(report, reason)
    set_since(report, ready_since)
    set_restarts(report, restarts)
    set_revision(report, revision)
    set_ip(report, pod_ip)
    set_node(report, node)
    return report


@dataclass(frozen=True)
class Verdict:
    """The answer for one workload: its state, one actionable line, and every pod's report.

    ``findings`` holds the workload-level findings (not tied to one pod) so that
    :meth:`with_pod_events` can rebuild ``reason``; it is not part of ``to_dict()``.
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
    findings: tuple[tuple[State, str], ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for XCom, with exactly the keys of the contract."""
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "state": self.state.value,
            "reason": self.reason,
            "desired": self.desired,
            "ready": self.ready,
            "revision": self.revision,
            "pods": [pod.to_dict() for pod in self.pods],
        }

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
        passes them here by pod name; the top-level reason is rebuilt to match.
        """
        pods = tuple(
            _append_events(pod, events_by_pod.get(pod.name))
            if pod.state is not State.READY
            else pod
            for pod in self.pods
        )
        reason = _compose_reason(
            self.kind,
            self.state,
            desired=self.desired,
            ready=self.ready,
            findings=self.findings,
            pods=pods,
        )
        return replace(self, pods=pods, reason=reason)


_MAX_EVENTS = 5
_MAX_TEXT = 240
_MAX_LISTED_WAITING = 5


def _append_events(pod: PodReport, events: Sequence[str] | str | None) -> PodReport:
    if not events:
        return pod
    if isinstance(events, str):
        events = (events,)
    unique: list[str] = []
    for event in events:
        text = _clip(" ".join(str(event).split()))
        if text and text not in unique:
            unique.append(text)
        if len(unique) == _MAX_EVENTS:
            break
    if not unique:
        return pod
    return replace(pod, reason=f"{pod.reason} [recent events: {' | '.join(unique)}]")


def _compose_reason(
    kind: str,
    state: State,
    *,
    desired: int,
    ready: int,
    findings: Sequence[tuple[State, str]],
    pods: Sequence[PodReport],
) -> str:
    """One line: the uniform count first, then what blocks it (all failures, a few waits)."""
    if kind == "Pod" and len(pods) == 1 and not findings:
        return pods[0].reason
    head = f"{ready} of {desired} ready"
    if state is State.READY:
        return head + (" (scaled to zero)" if desired == 0 else "")
    parts = [head]
    if state is State.FAILED:
        parts += [text for level, text in findings if level is State.FAILED]
        parts += [pod.reason for pod in pods if pod.state is State.FAILED]
        return "; ".join(parts)
    parts += [text for _, text in findings]
    blocking = [p for p in pods if p.state is State.FAILED]
    blocking += [p for p in pods if p.state is State.WAITING]
    parts += [pod.reason for pod in blocking[:_MAX_LISTED_WAITING]]
    if len(blocking) > _MAX_LISTED_WAITING:
        parts.append(f"{_plural(len(blocking) - _MAX_LISTED_WAITING, 'more pod')} not ready")
    return "; ".join(parts)


# --------------------------------------------------------------------------- helpers


def _parse_time(value: Any) -> datetime | None:
    """RFC 3339 from the API ("2024-05-01T10:00:00Z", MicroTime with fractions)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _age(value: Any, now: datetime) -> float | None:
    """Seconds from the timestamp ``value`` to ``now``; None when absent or unreadable."""
    parsed = _parse_time(value)
    if parsed is None:
        return None
    return (now - parsed).total_seconds()


def _secs(seconds: float | None) -> str:
    """Elapsed time as whole seconds, never negative (worker and server clocks differ)."""
    if seconds is None:
        return "?s"
    return f"{max(0, math.floor(seconds))}s"


def _dur(seconds: float) -> str:
    """A policy duration as the user wrote it: 60 -> "60s", 0.5 -> "0.5s"."""
    return f"{seconds:g}s"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _with_message(message: Any) -> str:
    if not message:
        return ""
    return ": " + _clip(" ".join(str(message).split()))


def _check_now(now: datetime) -> datetime:
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, got {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(
            "now must be timezone-aware (the API server's Date header, "
            "or datetime.now(timezone.utc) in tests)"
        )
    return now


def _check_policy(policy: ReadinessPolicy) -> None:
    if not isinstance(policy, ReadinessPolicy):
        raise TypeError(f"policy must be a ReadinessPolicy, got {type(policy).__name__}")


def _as_int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _optional_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return _as_int(value, default=0)


def _desired_replicas(spec: Obj) -> int:
    """``spec.replicas`` with the API's default of 1 (0 is a real value: scaled to zero)."""
    replicas = spec.get("replicas")
    if replicas is None:
        return 1
    return max(0, _as_int(replicas, default=1))


def _controller_ref(obj: Obj) -> Obj | None:
    refs = (obj.get("metadata") or _EMPTY).get("ownerReferences") or ()
    for ref in refs:
        if _is_map(ref) and ref.get("controller") is True:
            ref_map: Obj = ref
            return ref_map
    return None


def _is_controlled_by(obj: Obj, owner_meta: Obj, owner_kind: str) -> bool:
    """Only the controller ownerReference counts; uid first, kind+name when no uid is known."""
    ref = _controller_ref(obj)
    if ref is None:
        return False
    owner_uid = owner_meta.get("uid")
    if owner_uid:
        return bool(ref.get("uid") == owner_uid)
    return bool(ref.get("kind") == owner_kind and ref.get("name") == owner_meta.get("name"))


def _generation_finding(kind: str, meta: Obj, status: Obj) -> str | None:
    """S2 / D2: the status describes the current spec only once the controller observed it."""
    observed = _optional_int(status.get("observedGeneration"))
    generation = _optional_int(meta.get("generation"))
    if observed is None:
        return f"{kind} spec not yet observed by its controller (no status.observedGeneration)"
    if generation is not None and observed < generation:
        return (
            f"{kind} spec not yet observed by its controller "
            f"(observedGeneration {observed} < generation {generation})"
        )
    return None


def _deletion_finding(kind: str, name: str, meta: Obj) -> str | None:
    """S1 / D1: a workload being deleted will not become ready again."""
    stamp = meta.get("deletionTimestamp")
    if not stamp:
        return None
    return f"{kind} {name} is being deleted (deletionTimestamp {stamp})"


# --------------------------------------------------------------------------- pods

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


def _is_transient_pull_error(message: Any) -> bool:
    return bool(message) and _TRANSIENT_PULL.search(str(message)) is not None


def _exit_text(terminated: Obj) -> str:
    """A termination as a person reads it: "OOMKilled, exit 137" / "Error, exit 1"."""
    code = terminated.get("exitCode")
    reason = terminated.get("reason")
    signal = terminated.get("signal")
    parts = []
    if reason:
        parts.append(str(reason))
    parts.append(f"exit {code}" if code is not None else "exit code unknown")
    if signal:
        parts.append(f"signal {signal}")
    return ", ".join(parts)


def _last_exit_suffix(status: Obj) -> str:
    terminated = (status.get("lastState") or _EMPTY).get("terminated")
    if not terminated:
        return ""
    code = terminated.get("exitCode")
    reason = terminated.get("reason")
    text = f", last exit {code}" if code is not None else ", last exit code unknown"
    if reason:
        text += f" ({reason})"
    return text


def _judge_waiting(
    subject: str,
    status: Obj,
    waiting: Obj,
    created_age: float | None,
    policy: ReadinessPolicy,
) -> tuple[State, str]:
    """P3, P3b, P3c: a container's waiting reason, failed at once or after its grace."""
    reason = str(waiting.get("reason") or "Waiting")
    message = waiting.get("message")
    if reason == "CrashLoopBackOff":
        return State.FAILED, f"{subject}: CrashLoopBackOff{_last_exit_suffix(status)}"
    if reason in _FAIL_AT_ONCE:
        return State.FAILED, f"{subject}: {reason}{_with_message(message)}"
    if reason in _IMAGE_PULL or reason in _CONFIG_ERRORS:
        if reason in _IMAGE_PULL and _is_transient_pull_error(message):
            return (
                State.WAITING,
                f"{subject}: {reason}, transient registry error, retrying{_with_message(message)}",
            )
        grace = (
            policy.image_pull_grace_seconds
            if reason in _IMAGE_PULL
            else policy.config_error_grace_seconds
        )
        if created_age is not None and created_age > grace:
            return (
                State.FAILED,
                f"{subject}: {reason} {_secs(created_age)} after pod creation "
                f"(grace {_dur(grace)}){_with_message(message)}",
            )
        return (
            State.WAITING,
            f"{subject}: {reason}, {_secs(created_age)} of {_dur(grace)} grace"
            f"{_with_message(message)}",
        )
    return State.WAITING, f"{subject}: {reason}{_with_message(message)}"


def _last_termination(
    pod_name: str,
    init_statuses: Sequence[Obj],
    app_statuses: Sequence[Obj],
    sidecars: tuple[str, ...],
    now: datetime,
) -> tuple[float, str, str] | None:
    """The most recent container termination: (age, container subject, exit text).

    Both ``lastState.terminated`` (the previous instance) and ``state.terminated``
    (the current one, between crash and restart) count; an ordinary init container
    that completed with exit 0 did its job and is not a termination here. When the
    kubelet lost ``lastState`` (it does after a node restart), the start of the
    current run of a restarted container is when the last restart happened.
    """
    best: tuple[float, str, str] | None = None
    for is_init, statuses in ((True, init_statuses), (False, app_statuses)):
        for status in statuses:
            cname = status.get("name")
            subject = _subject(pod_name, cname, is_init=is_init, sidecars=sidecars)
            plain_init = is_init and cname not in sidecars
            state = status.get("state") or _EMPTY
            found = False
            for terminated, current in (
                ((status.get("lastState") or _EMPTY).get("terminated"), False),
                (state.get("terminated"), True),
            ):
                if not terminated:
                    continue
                if current and plain_init and terminated.get("exitCode") == 0:
                    continue
                age = _age(terminated.get("finishedAt"), now)
                if age is None:
                    continue
                found = True
                if best is None or age < best[0]:
                    best = (age, subject, _exit_text(terminated))
            if not found and _as_int(status.get("restartCount")) > 0:
                age = _age((state.get("running") or _EMPTY).get("startedAt"), now)
                if age is not None and (best is None or age < best[0]):
                    best = (age, subject, "exit details not reported")
    return best


def _subject(pod_name: str, cname: Any, *, is_init: bool, sidecars: tuple[str, ...]) -> str:
    """How a container is named in a reason, so a person knows which one to look at.

    "web-1 container app", "web-1 sidecar container proxy", "web-1 init container migrate".
    """
    if not is_init:
        return f"{pod_name} container {cname}"
    if cname in sidecars:
        return f"{pod_name} sidecar container {cname}"
    return f"{pod_name} init container {cname}"


_NO_SIDECARS: tuple[str, ...] = ()


def _sidecar_names(spec: Obj) -> tuple[str, ...]:
    """Init containers with ``restartPolicy: Always`` are sidecars: they run beside the app."""
    names = [
        container.get("name")
        for container in spec.get("initContainers") or ()
        if container.get("restartPolicy") == "Always"
    ]
    return tuple(names) if names else _NO_SIDECARS


def _pod_failed_text(status: Obj, statuses: Sequence[Obj]) -> str:
    """P2: the pod-level reason (Evicted, OOMKilled...) or else each container's exit."""
    reason = status.get("reason")
    message = status.get("message")
    if reason or message:
        return f"pod Failed: {reason or 'no reason given'}{_with_message(message)}"
    exits = []
    for cstatus in statuses:
        terminated = (cstatus.get("state") or _EMPTY).get("terminated")
        if terminated and terminated.get("exitCode") != 0:
            exits.append(f"container {cstatus.get('name')} {_exit_text(terminated)}")
    return "pod Failed" + (": " + "; ".join(exits) if exits else "")


def _is_map(value: Any) -> bool:
    """The API gives dicts; the ``type`` test spares the slow ABC check on the hot path."""
    return type(value) is dict or isinstance(value, Mapping)


def _latest_time(stamps: Sequence[Any]) -> datetime | None:
    """The latest of some RFC 3339 timestamps; absent or unreadable ones are skipped.

    The API writes whole seconds in UTC (``2024-05-01T10:00:00Z``), a fixed-width
    form that sorts as text: then only the latest is parsed, with C-level checks.
    Anything else (fractions, offsets, gaps) is parsed stamp by stamp.
    """
    try:
        latest = max(stamps)
        joined = "".join(stamps)
    except (TypeError, ValueError):  # a stamp missing (None), or no stamp at all
        joined = ""
    if joined and len(joined) == 20 * len(stamps) and joined.count("Z") == len(stamps):
        return _parse_time(latest)
    moments = [moment for moment in map(_parse_time, stamps) if moment is not None]
    return max(moments) if moments else None


def _judge_pod(pod: Obj, now: datetime, policy: ReadinessPolicy) -> PodReport:
    """P1-P7 for one pod; every failure of the pod is collected, waits too.

    One pass over the container statuses gathers what every rule needs (restarts,
    start times, the containers that are not plainly running and ready); only those
    are looked at again, so a healthy pod costs a few dict lookups and one parse.
    """
    meta = pod.get("metadata") or _EMPTY
    status = pod.get("status") or _EMPTY
    spec = pod.get("spec") or _EMPTY
    name = meta.get("name") or "<unnamed pod>"
    if type(name) is not str:
        name = str(name)
    labels = meta.get("labels") or _EMPTY
    revision = labels.get("controller-revision-hash") or labels.get("pod-template-hash")
    init_statuses: Sequence[Obj] = status.get("initContainerStatuses") or ()
    app_statuses: Sequence[Obj] = status.get("containerStatuses") or ()

    restarts = 0
    troubled: list[tuple[bool, Obj]] = []  # (is init container, status) not running and ready
    started: list[Any] = []  # running.startedAt of app and sidecar containers
    sidecars = _NO_SIDECARS
    if init_statuses:
        sidecars = _sidecar_names(spec)
        for cstatus in init_statuses:
            count = cstatus.get("restartCount")
            if count:
                restarts += count if type(count) is int else _as_int(count)
            state = cstatus.get("state") or _EMPTY
            if cstatus.get("name") in sidecars:
                running = state.get("running")
                if running is None or cstatus.get("ready") is not True:
                    troubled.append((True, cstatus))
                if running:
                    started.append(running.get("startedAt"))
            else:
                terminated = state.get("terminated")
                if not terminated or terminated.get("exitCode") != 0:
                    troubled.append((True, cstatus))
    for cstatus in app_statuses:
        count = cstatus.get("restartCount")
        if count:
            restarts += count if type(count) is int else _as_int(count)
        running = (cstatus.get("state") or _EMPTY).get("running")
        if running is None or cstatus.get("ready") is not True:
            troubled.append((False, cstatus))
        if running:
            started.append(running.get("startedAt"))
    pod_ip = status.get("podIP")
    node = spec.get("nodeName")

    # P1: a terminating pod is on its way out; nothing else about it matters.
    if meta.get("deletionTimestamp"):
        reason = f"{name}: terminating (deletionTimestamp {meta['deletionTimestamp']})"
        return _pod_report(name, State.WAITING, reason, None, restarts, revision, pod_ip, node)
    phase = status.get("phase")
    # P2 / P2b: the pod is over; a service pod does not come back by itself.
    if phase == "Failed":
        reason = f"{name}: {_pod_failed_text(status, app_statuses)}"
        return _pod_report(name, State.FAILED, reason, None, restarts, revision, pod_ip, node)
    if phase == "Succeeded":
        reason = f"{name}: pod Succeeded: its containers exited, a service pod must keep running"
        return _pod_report(name, State.FAILED, reason, None, restarts, revision, pod_ip, node)

    ready: Obj | None = None
    scheduled: Obj | None = None
    for cond in status.get("conditions") or ():
        kind = cond.get("type")
        if kind == "Ready":
            ready = cond
            if cond.get("status") == "True":
                break  # a Ready pod is scheduled: PodScheduled has nothing to add
        elif kind == "PodScheduled":
            scheduled = cond
    init_specs = spec.get("initContainers") or ()
    app_specs = spec.get("containers") or ()
    # P3-P6 look closer only at a pod that is not plainly running and ready.
    if (
        troubled
        or restarts > policy.max_restarts
        or phase != "Running"
        or ready is None
        or ready.get("status") != "True"
        or (scheduled is not None and scheduled.get("status") == "False")
        or len(init_specs) > len(init_statuses)
        or len(app_specs) > len(app_statuses)
        or spec.get("readinessGates")
    ):
        problem = _pod_problems(
            pod,
            name,
            troubled=troubled,
            sidecars=sidecars,
            restarts=restarts,
            ready=ready,
            scheduled=scheduled,
            now=now,
            policy=policy,
        )
        if problem is not None:
            return _pod_report(name, problem[0], problem[1], None, restarts, revision, pod_ip, node)
    assert ready is not None  # _pod_problems tells a pod without Ready as WAITING

    # P7: stable since the latest of Ready's transition and every container's start.
    started.append(ready.get("lastTransitionTime"))
    ready_since = _latest_time(started)
    window = policy.min_stable_seconds
    if ready_since is None:
        if window > 0:
            reason = f"{name}: Ready, but no timestamp tells since when (window {_dur(window)})"
            return _pod_report(name, State.WAITING, reason, None, restarts, revision, pod_ip, node)
        return _pod_report(
            name, State.READY, f"{name}: ready", None, restarts, revision, pod_ip, node
        )
    stable = (now - ready_since).total_seconds()
    if stable >= window:
        return _pod_report(
            name,
            State.READY,
            f"{name}: ready for {int(stable)}s",
            ready_since,
            restarts,
            revision,
            pod_ip,
            node,
        )
    reason = f"{name}: stabilizing {_secs(stable)} of {_dur(window)}"
    return _pod_report(name, State.WAITING, reason, ready_since, restarts, revision, pod_ip, node)


def _pod_problems(
    pod: Obj,
    name: str,
    *,
    troubled: Sequence[tuple[bool, Obj]],
    sidecars: tuple[str, ...],
    restarts: int,
    ready: Obj | None,
    scheduled: Obj | None,
    now: datetime,
    policy: ReadinessPolicy,
) -> tuple[State, str] | None:
    """P3-P6 for a pod that is not plainly running and ready; None when nothing blocks it."""
    meta = pod.get("metadata") or _EMPTY
    spec = pod.get("spec") or _EMPTY
    status = pod.get("status") or _EMPTY
    init_statuses: Sequence[Obj] = status.get("initContainerStatuses") or ()
    app_statuses: Sequence[Obj] = status.get("containerStatuses") or ()
    phase = status.get("phase")

    waiting_on: list[tuple[str, Obj, Obj]] = []  # (subject, status, state.waiting)
    not_running: list[str] = []  # P6, per container
    for is_init, cstatus in troubled:
        cname = cstatus.get("name")
        subject = _subject(name, cname, is_init=is_init, sidecars=sidecars)
        state = cstatus.get("state") or _EMPTY
        waiting = state.get("waiting")
        if waiting is not None:
            waiting_on.append((subject, cstatus, waiting if _is_map(waiting) else _EMPTY))
            continue
        terminated = state.get("terminated")
        if is_init and cname not in sidecars:
            if not terminated:
                not_running.append(f"{subject}: not done yet")
            else:
                not_running.append(f"{subject}: {_exit_text(terminated)}, to be retried")
        elif terminated:
            not_running.append(f"{subject}: terminated, {_exit_text(terminated)}")
        elif state.get("running") is None:
            not_running.append(f"{subject}: not running")
        else:
            not_running.append(f"{subject}: running, not ready")

    failures: list[str] = []
    waits: list[str] = []
    failed_subjects: set[str] = set()

    # P3, P3b, P3c: waiting reasons, containers and init containers alike.
    if waiting_on:
        created_age = _age(meta.get("creationTimestamp"), now)
        for subject, cstatus, waiting in waiting_on:
            verdict, text = _judge_waiting(subject, cstatus, waiting, created_age, policy)
            if verdict is State.FAILED:
                failures.append(text)
                failed_subjects.add(subject)
            else:
                waits.append(text)

    # P4: recent restarts beyond the tolerance; older ones are history, never a failure.
    if restarts > policy.max_restarts:
        last = _last_termination(name, init_statuses, app_statuses, sidecars, now)
        if last is not None:
            age, subject, exit_text = last
            if age <= policy.restart_window_seconds and subject not in failed_subjects:
                failures.append(
                    f"{subject}: {exit_text}, {_secs(age)} ago "
                    f"({_plural(restarts, 'restart')}, "
                    f"{policy.max_restarts} tolerated)"
                )

    # P5: the scheduler found no node; a cluster autoscaler may still add one.
    if scheduled is not None and scheduled.get("status") == "False":
        sched_reason = scheduled.get("reason") or "not scheduled"
        message = _with_message(scheduled.get("message"))
        if sched_reason == "Unschedulable":
            grace = policy.unschedulable_grace_seconds
            pending = _age(scheduled.get("lastTransitionTime"), now)
            if pending is not None and pending > grace:
                failures.append(
                    f"{name}: Unschedulable for {_secs(pending)} (grace {_dur(grace)}){message}"
                )
            else:
                waits.append(
                    f"{name}: Unschedulable for {_secs(pending)} of {_dur(grace)} grace{message}"
                )
        else:
            waits.append(f"{name}: not scheduled yet ({sched_reason}){message}")
        if not failures:
            # An unscheduled pod has nothing else to tell: no node, so no containers yet.
            return State.WAITING, "; ".join(waits)

    if failures:
        return State.FAILED, "; ".join(failures)

    # P6: running, Ready, every container running and ready, init containers done.
    waits += not_running
    waits += _missing_statuses(name, spec.get("initContainers"), init_statuses, True, sidecars)
    waits += _missing_statuses(name, spec.get("containers"), app_statuses, False, sidecars)
    for gate in spec.get("readinessGates") or ():
        gate_type = gate.get("conditionType") if _is_map(gate) else None
        gate_status = None
        for cond in status.get("conditions") or ():
            if cond.get("type") == gate_type:
                gate_status = cond.get("status")
        if gate_status != "True":
            waits.append(f"{name}: readiness gate {gate_type} is {gate_status or 'not reported'}")
    if phase != "Running" and not waits:
        waits.append(f"{name}: phase {phase or 'not reported'}")
    if (ready is None or ready.get("status") != "True") and not waits:
        ready_status = ready.get("status") if ready is not None else "not reported"
        detail = ready.get("reason") if ready is not None else None
        waits.append(
            f"{name}: condition Ready is {ready_status}" + (f" ({detail})" if detail else "")
        )
    if waits:
        return State.WAITING, "; ".join(waits)
    return None


def _missing_statuses(
    pod_name: str,
    specs: Any,
    statuses: Sequence[Obj],
    is_init: bool,
    sidecars: tuple[str, ...],
) -> list[str]:
    """P6: a container of the spec the kubelet has not reported on yet.

    The kubelet reports every container of the spec once it reports any, so the
    fast path only compares counts and comes here when the statuses are fewer.
    """
    if not specs:
        return []
    names = [c.get("name") for c in specs if _is_map(c)]
    seen = {s.get("name") for s in statuses if _is_map(s)}
    return [
        f"{_subject(pod_name, n, is_init=is_init, sidecars=sidecars)}: no status yet"
        for n in names
        if n not in seen
    ]


def _missing_pod(name: str) -> PodReport:
    return PodReport(name, State.WAITING, f"{name}: not created yet", None, 0, None, None, None)


# --------------------------------------------------------------------------- public API


def evaluate_pod(pod: Obj, *, now: datetime, policy: ReadinessPolicy = _DEFAULT_POLICY) -> Verdict:
    """Judge a single pod by P1-P7."""
    now = _check_now(now)
    _check_policy(policy)
    report = _judge_pod(pod, now, policy)
    meta = pod.get("metadata") or _EMPTY
    return Verdict(
        kind="Pod",
        name=report.name,
        namespace=meta.get("namespace"),
        state=report.state,
        reason=report.reason,
        desired=1,
        ready=1 if report.state is State.READY else 0,
        revision=report.revision,
        pods=(report,),
    )


def _finish(
    kind: str,
    meta: Obj,
    *,
    desired: int,
    revision: str | None,
    reports: list[PodReport],
    ready: int,
    findings: list[tuple[State, str]],
    deleting: bool,
    observed: bool,
) -> Verdict:
    """Precedence: FAILED > WAITING > READY; an unobserved spec caps the verdict at WAITING.

    ``ready`` counts the expected pods judged READY (extra pods never count).
    """
    not_ready = failed = 0
    if ready < len(reports):
        for report in reports:
            if report.state is not State.READY:
                not_ready += 1
                if report.state is State.FAILED:
                    failed += 1
    if any(level is State.FAILED for level, _ in findings):
        failed += 1
    if deleting or (observed and failed):
        state = State.FAILED
    elif findings or not_ready:
        state = State.WAITING
    else:
        state = State.READY
    pods = tuple(reports)
    found = tuple(findings)
    return Verdict(
        kind=kind,
        name=str(meta.get("name") or ""),
        namespace=meta.get("namespace"),
        state=state,
        reason=_compose_reason(
            kind, state, desired=desired, ready=ready, findings=found, pods=pods
        ),
        desired=desired,
        ready=ready,
        revision=revision,
        pods=pods,
        findings=found,
    )


def evaluate_statefulset(
    sts: Obj,
    pods: Sequence[Obj],
    *,
    now: datetime,
    policy: ReadinessPolicy = _DEFAULT_POLICY,
) -> Verdict:
    """Judge a StatefulSet by S1-S12 and its owned pods by P1-P7.

    ``pods`` may hold anything the selector matched: only pods whose controller
    ownerReference is this StatefulSet count, so a look-alike pod of another
    owner cannot make the set look ready.
    """
    now = _check_now(now)
    _check_policy(policy)
    meta = sts.get("metadata") or _EMPTY
    spec = sts.get("spec") or _EMPTY
    status = sts.get("status") or _EMPTY
    name = str(meta.get("name") or "")
    namespace = meta.get("namespace")
    desired = _desired_replicas(spec)
    strategy = spec.get("updateStrategy") or _EMPTY
    rolling = strategy.get("type") != "OnDelete"
    partition = _as_int((strategy.get("rollingUpdate") or _EMPTY).get("partition"))
    partition = min(max(partition, 0), desired)
    ordered = spec.get("podManagementPolicy") != "Parallel"
    start = max(0, _as_int((spec.get("ordinals") or _EMPTY).get("start")))
    update_revision = status.get("updateRevision") or None
    current_revision = status.get("currentRevision") or None
    findings: list[tuple[State, str]] = []

    # S1: being deleted.
    deletion = _deletion_finding("StatefulSet", name, meta)
    if deletion:
        findings.append((State.FAILED, deletion))
    # S2: the status may describe an older spec.
    generation = _generation_finding("StatefulSet", meta, status)
    observed = generation is None
    if generation:
        findings.append((State.WAITING, generation))
    # S3: every replica created, no extra one left.
    created = _optional_int(status.get("replicas"))
    if created is None:
        findings.append((State.WAITING, "status.replicas not reported yet"))
    elif created < desired:
        findings.append((State.WAITING, f"{created} of {desired} created"))
    elif created > desired:
        findings.append((State.WAITING, f"{created - desired} extra terminating"))
    # S11: scaled to zero is done once the controller agrees.
    if desired == 0:
        return _finish(
            "StatefulSet",
            meta,
            desired=0,
            revision=update_revision,
            reports=[],
            ready=0,
            findings=findings,
            deleting=deletion is not None,
            observed=observed,
        )

    # S10: every owned pod passes P1-P7, judged in one pass while its dicts are at hand.
    judged: dict[str, PodReport] = {}
    for pod in pods:
        if _is_controlled_by(pod, meta, "StatefulSet"):
            judged_report = _judge_pod(pod, now, policy)
            judged[judged_report.name] = judged_report

    # S9, S12: each expected ordinal exists and carries the revision it should.
    reports: list[PodReport] = []
    at_update = pods_ready = 0
    ready_state = State.READY
    for index in range(desired):
        pod_name = f"{name}-{start + index}"
        report = judged.pop(pod_name, None)
        if report is None:
            reports.append(_missing_pod(pod_name))
            continue
        if update_revision is not None and report.revision == update_revision:
            at_update += 1
        elif update_revision is not None:
            if rolling and index >= partition:
                report = _outdated_rolling(report, update_revision, namespace, ordered=ordered)
            elif not rolling:
                report = _outdated_on_delete(report, update_revision, policy)
        if report.state is ready_state:
            pods_ready += 1
        reports.append(report)
    for pod_name in sorted(judged):
        reports.append(_extra_pod(judged[pod_name], start, desired))

    # S4, S5: the controller's own counts (S4 told only when the pods do not explain it).
    ready_replicas = _as_int(status.get("readyReplicas"))
    if ready_replicas < desired and pods_ready >= desired:
        findings.append((State.WAITING, f"controller counts {ready_replicas} of {desired} ready"))
    if "availableReplicas" in status:
        available = _as_int(status.get("availableReplicas"))
        if available < desired:
            min_ready = _as_int(spec.get("minReadySeconds"))
            suffix = f" (minReadySeconds {min_ready})" if min_ready else ""
            findings.append((State.WAITING, f"{available} of {desired} available{suffix}"))
    # S6, S7 (RollingUpdate) / S8 (OnDelete: outdated pods are told per pod).
    if rolling:
        if update_revision is None:
            findings.append((State.WAITING, "status.updateRevision not reported yet"))
        else:
            needed = desired - partition
            updated = _optional_int(status.get("updatedReplicas"))
            if updated is None:
                updated = at_update
            if updated < needed:
                findings.append(
                    (State.WAITING, f"{updated} of {needed} updated to {update_revision}")
                )
            elif partition == 0 and current_revision != update_revision and at_update < desired:
                findings.append(
                    (
                        State.WAITING,
                        f"rolling update from {current_revision} to {update_revision} not finished",
                    )
                )
    return _finish(
        "StatefulSet",
        meta,
        desired=desired,
        revision=update_revision,
        reports=reports,
        ready=pods_ready,
        findings=findings,
        deleting=deletion is not None,
        observed=observed,
    )


def _outdated_rolling(
    report: PodReport, update_revision: str, namespace: str | None, *, ordered: bool
) -> PodReport:
    """S9 / S12: a pod that should already carry ``update_revision`` but does not."""
    old = report.revision or "no revision label"
    if report.state is State.FAILED:
        if ordered:
            ns = f" -n {namespace}" if namespace else ""
            return replace(
                report,
                reason=(
                    f"{report.reason}; it runs outdated revision {old} and OrderedReady "
                    "never replaces a broken pod (kubernetes#67250): delete it with "
                    f"`kubectl delete pod {report.name}{ns}` to roll it to {update_revision}"
                ),
            )
        return replace(
            report,
            state=State.WAITING,
            reason=(
                f"{report.reason}; it runs outdated revision {old}, "
                f"the controller (Parallel) replaces it with {update_revision}"
            ),
        )
    if report.state is State.READY:
        reason = f"{report.name}: at outdated revision {old}, waiting for {update_revision}"
    else:
        reason = f"{report.reason}; outdated revision {old}, waiting for {update_revision}"
    return replace(report, state=State.WAITING, reason=reason)


def _outdated_on_delete(
    report: PodReport, update_revision: str, policy: ReadinessPolicy
) -> PodReport:
    """S8: OnDelete never replaces a pod by itself; deleting it is the user's move."""
    old = report.revision or "no revision label"
    hint = f"outdated revision {old} (OnDelete: delete the pod to roll it to {update_revision})"
    if report.state is State.READY and policy.require_updated_on_delete:
        return replace(report, state=State.WAITING, reason=f"{report.name}: {hint}")
    return replace(report, reason=f"{report.reason}; {hint}")


def _extra_pod(report: PodReport, start: int, desired: int) -> PodReport:
    """S9: an owned pod outside the expected ordinals is on its way out; it blocks, never fails."""
    last = start + desired - 1
    now_text = report.reason.removeprefix(report.name).lstrip(": ")
    return replace(
        report,
        state=State.WAITING,
        reason=(
            f"{report.name}: extra pod outside ordinals {start}..{last}, "
            f"waiting for it to go (now: {now_text})"
        ),
    )


_REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


def evaluate_deployment(
    deployment: Obj,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    *,
    now: datetime,
    policy: ReadinessPolicy = _DEFAULT_POLICY,
) -> Verdict:
    """Judge a Deployment by D1-D6; its new ReplicaSet's pods by P1-P7.

    ``replicasets`` and ``pods`` may hold anything the selector matched: only
    ReplicaSets this Deployment controls, and pods those ReplicaSets control, count.
    """
    now = _check_now(now)
    _check_policy(policy)
    meta = deployment.get("metadata") or _EMPTY
    spec = deployment.get("spec") or _EMPTY
    status = deployment.get("status") or _EMPTY
    name = str(meta.get("name") or "")
    desired = _desired_replicas(spec)
    findings: list[tuple[State, str]] = []

    # D1: being deleted.
    deletion = _deletion_finding("Deployment", name, meta)
    if deletion:
        findings.append((State.FAILED, deletion))
    # D2: the status may describe an older spec.
    generation = _generation_finding("Deployment", meta, status)
    observed = generation is None
    if generation:
        findings.append((State.WAITING, generation))
    # D3: the controller itself gave up waiting for progress.
    for cond in status.get("conditions") or ():
        if (
            isinstance(cond, Mapping)
            and cond.get("type") == "Progressing"
            and cond.get("status") == "False"
            and cond.get("reason") == "ProgressDeadlineExceeded"
        ):
            deadline = spec.get("progressDeadlineSeconds")
            text = "progress deadline exceeded" + (f" ({deadline}s)" if deadline else "")
            findings.append(
                (
                    State.FAILED if observed else State.WAITING,
                    text + _with_message(cond.get("message")),
                )
            )
    # D4: a paused rollout does not move on its own.
    if spec.get("paused") is True:
        findings.append(
            (State.WAITING, f"rollout paused (kubectl rollout resume deployment/{name})")
        )
    # D5: the controller's counts; old pods gone.
    for field_name, word in (
        ("updatedReplicas", "updated"),
        ("availableReplicas", "available"),
    ):
        count = _as_int(status.get(field_name))
        if count < desired:
            findings.append((State.WAITING, f"{count} of {desired} {word}"))
    total = _optional_int(status.get("replicas"))
    if total is None:
        findings.append((State.WAITING, "status.replicas not reported yet"))
    elif total > desired:
        findings.append(
            (
                State.WAITING,
                f"{_plural(total - desired, 'old pod')} left ({total} exist, {desired} desired)",
            )
        )
    elif total < desired:
        findings.append((State.WAITING, f"{total} of {desired} created"))
    terminating = _optional_int(status.get("terminatingReplicas"))
    if terminating:
        findings.append((State.WAITING, f"{_plural(terminating, 'pod')} terminating"))

    # D6: the new ReplicaSet is the owned one at the Deployment's revision.
    revision = (meta.get("annotations") or _EMPTY).get(_REVISION_ANNOTATION)
    owned_rs: dict[str, Obj] = {}
    new_rs: Obj | None = None
    for rs in replicasets:
        if not _is_controlled_by(rs, meta, "Deployment"):
            continue
        rs_meta = rs.get("metadata") or _EMPTY
        owned_rs[str(rs_meta.get("uid") or rs_meta.get("name"))] = rs_meta
        rs_revision = (rs_meta.get("annotations") or _EMPTY).get(_REVISION_ANNOTATION)
        if revision is not None and str(rs_revision) == str(revision):
            new_rs = rs
    new_meta = (new_rs.get("metadata") or _EMPTY) if new_rs is not None else None
    if new_meta is None and desired > 0:
        wanted = f"revision {revision}" if revision is not None else "its revision"
        findings.append((State.WAITING, f"new ReplicaSet ({wanted}) not found yet"))

    new_pods: list[Obj] = []
    old_pods: list[tuple[Obj, Obj]] = []
    for pod in pods:
        ref = _controller_ref(pod)
        if ref is None or ref.get("kind", "ReplicaSet") != "ReplicaSet":
            continue
        rs_meta = owned_rs.get(str(ref.get("uid") or ref.get("name")))
        if rs_meta is None:
            continue
        if new_meta is not None and rs_meta is new_meta:
            new_pods.append(pod)
        else:
            old_pods.append((pod, rs_meta))
    new_pods.sort(key=_pod_name)
    old_pods.sort(key=lambda item: _pod_name(item[0]))

    reports = [_judge_pod(pod, now, policy) for pod in new_pods]
    counted = len(reports)
    active = sum(
        1 for pod in new_pods if not (pod.get("metadata") or _EMPTY).get("deletionTimestamp")
    )
    if new_meta is not None and active < desired:
        findings.append((State.WAITING, f"{active} of {desired} new pods exist"))
    for pod, rs_meta in old_pods:
        report = _judge_pod(pod, now, policy)
        reports.append(
            replace(
                report,
                state=State.WAITING,
                reason=f"{report.name}: old ReplicaSet {rs_meta.get('name')}, waiting for it to go",
            )
        )
    pods_ready = sum(1 for r in reports[:counted] if r.state is State.READY)
    ready_replicas = _as_int(status.get("readyReplicas"))
    if ready_replicas < desired and pods_ready >= desired:
        findings.append((State.WAITING, f"controller counts {ready_replicas} of {desired} ready"))
    new_hash = None
    if new_meta is not None:
        new_hash = (new_meta.get("labels") or _EMPTY).get("pod-template-hash")
    return _finish(
        "Deployment",
        meta,
        desired=desired,
        revision=new_hash,
        reports=reports,
        ready=pods_ready,
        findings=findings,
        deleting=deletion is not None,
        observed=observed,
    )


def _pod_name(pod: Obj) -> str:
    return str((pod.get("metadata") or _EMPTY).get("name") or "")


# --------------------------------------------------------------------------- selectors

_SET_OPERATORS = {"In": "in", "NotIn": "notin"}


def selector_to_label_selector(spec_selector: Mapping[str, Any]) -> str:
    """``spec.selector`` (matchLabels + matchExpressions) as a ``labelSelector`` query string.

    Requirements are sorted by key (then matchLabels before expressions) and set
    values sorted, so the same selector always yields the same string, as the
    API server's own ``LabelSelectorAsSelector`` does. Invalid selectors raise
    ``ValueError`` here rather than silently matching too much.
    """
    requirements: list[tuple[str, int, str]] = []
    for key, value in sorted((spec_selector.get("matchLabels") or {}).items()):
        requirements.append((str(key), 0, f"{key}={value}"))
    for expression in spec_selector.get("matchExpressions") or ():
        key = expression.get("key")
        operator = expression.get("operator")
        values = expression.get("values") or []
        if not key:
            raise ValueError(f"label selector expression without a key: {dict(expression)!r}")
        if operator in _SET_OPERATORS:
            if not values:
                raise ValueError(
                    f"label selector operator {operator!r} for key {key!r} needs at least one value"
                )
            joined = ",".join(sorted(str(v) for v in values))
            requirements.append((str(key), 1, f"{key} {_SET_OPERATORS[operator]} ({joined})"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                raise ValueError(
                    f"label selector operator {operator!r} for key {key!r} takes no values, "
                    f"got {list(values)!r}"
                )
            requirements.append((str(key), 1, key if operator == "Exists" else f"!{key}"))
        else:
            raise ValueError(
                f"unknown label selector operator {operator!r} for key {key!r}; "
                "expected one of In, NotIn, Exists, DoesNotExist"
            )
    requirements.sort()
    return ",".join(text for _, _, text in requirements)
