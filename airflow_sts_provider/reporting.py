"""How a verdict reads to a person: one log line, one failure message, defined once.

The sensor (each poke), the trigger (each change) and the task's error all say the
same thing the same way, so an operator can grep one format at 3 a.m.
"""

from __future__ import annotations

from airflow_sts_provider.readiness import State, Verdict
from airflow_sts_provider.readiness.verdict import cut

#: Pods listed one line each per poke; beyond that a count (a 1,000-pod set must not flood logs).
MAX_POD_LINES = 50
#: Characters of a message a trigger event carries: with the verdict's own cap
#: (``PAYLOAD_LIMIT``), an event stays under 64 KB in Airflow's metadata DB.
MESSAGE_IN_EVENT = 12 * 1024
#: Characters of the reason on a summary line: with its head it fits a log view's line
#: (the pods not ready follow, one line each).
SUMMARY_REASON = 160


def where(verdict: Verdict) -> str:
    """``namespace/name`` of the judged object."""
    return f"{verdict.namespace}/{verdict.name}" if verdict.namespace else verdict.name


def summary_line(verdict: Verdict) -> str:
    """``StatefulSet default/web: WAITING, 2/3 ready, revision web-7b8f: ...``."""
    return (
        f"{verdict.kind} {where(verdict)}: {verdict.state.value.upper()}, "
        f"{_counts(verdict, '/')}revision {verdict.revision or '-'}: "
        f"{cut(verdict.reason, SUMMARY_REASON)}"
    )


def _counts(verdict: Verdict, of: str) -> str:
    """``2/3 ready, `` (or ``2 of 3 ready, ``); nothing for a resource judged without pods,
    whose "0 of 0 ready" would say nothing true."""
    if not verdict.pods and verdict.desired == 0 and verdict.ready == 0:
        return ""
    return f"{verdict.ready}{of}{verdict.desired} ready, "


def pod_lines(verdict: Verdict) -> list[str]:
    """One line per pod that is not ready, failing ones first, at most :data:`MAX_POD_LINES`."""
    not_ready = [pod for pod in verdict.pods if pod.state is not State.READY]
    not_ready.sort(key=lambda pod: pod.state is not State.FAILED)
    lines = [f"  [{pod.state.value.upper()}] {pod.reason}" for pod in not_ready[:MAX_POD_LINES]]
    if len(not_ready) > MAX_POD_LINES:
        lines.append(f"  ... and {len(not_ready) - MAX_POD_LINES} more pods not ready")
    return lines


def not_found_verdict(kind: str, name: str, namespace: str) -> Verdict:
    """A workload that does not exist (yet): WAITING, so a sensor after a deploy task waits."""
    return Verdict(
        kind=kind,
        name=name,
        namespace=namespace,
        state=State.WAITING,
        reason=f"{kind.lower()} {namespace}/{name} not found",
        desired=0,
        ready=0,
        revision=None,
        pods=(),
    )


def is_not_found(verdict: Verdict) -> bool:
    """Whether ``verdict`` is :func:`not_found_verdict`'s: the workload does not exist."""
    return not verdict.pods and verdict.reason == (
        f"{verdict.kind.lower()} {verdict.namespace}/{verdict.name} not found"
    )


def timeout_message(verdict: Verdict) -> str:
    """A sensor's timeout that says what it was still waiting for."""
    return (
        f"Sensor has timed out: {verdict.kind} {where(verdict)} still "
        f"{verdict.state.value.upper()}: {verdict.reason}"
    )


def failure_message(verdict: Verdict) -> str:
    """What the failed task says: the workload, then every failing pod with its reason."""
    details = _counts(verdict, " of ") + (
        f"revision {verdict.revision}" if verdict.revision else ""
    )
    details = details.removesuffix(", ")
    head = f"{verdict.kind} {where(verdict)} is not coming up" + (
        f" ({details})" if details else ""
    )
    lines = [head + ":"]
    lines += [f"  - {text}" for level, text in verdict.findings if level is State.FAILED]
    failing = [pod for pod in verdict.pods if pod.state is State.FAILED]
    lines += [f"  - {pod.reason}" for pod in failing[:MAX_POD_LINES]]
    if len(failing) > MAX_POD_LINES:
        lines.append(f"  ... and {len(failing) - MAX_POD_LINES} more failing pods")
    if len(lines) == 1:
        lines.append(f"  - {verdict.reason}")
    if failing:
        ns = f" -n {verdict.namespace}" if verdict.namespace else ""
        lines.append(
            f"Inspect with `kubectl describe pod {failing[0].name}{ns}` and "
            f"`kubectl logs {failing[0].name}{ns} --previous`. Failing fast (fail_fast=True): "
            "retrying this sensor cannot fix the rollout."
        )
    return "\n".join(lines)
