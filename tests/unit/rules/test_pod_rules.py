"""P1-P7 as a table: one line per scenario, the expected state, rule ids and words."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest

from airflow_sts_provider.readiness import ReadinessPolicy, State, evaluate_pod

from .builders import NOW, container_status, pod, set_container, ts
from .table import Scenario, case, check

READY, WAITING, FAILED = State.READY, State.WAITING, State.FAILED
Json = dict[str, Any]

NOT_FOUND = (
    'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/'
    'shop/main:1.4.3": not found'
)


# The scheduler's message as FitError.Error() writes it (kubernetes
# pkg/scheduler/framework/types.go), each reason a plugin's own words.
AFFINITY = "3 node(s) didn't match Pod's node affinity/selector"
AFFINITY2 = "2 node(s) didn't match Pod's node affinity/selector"
CONTROL_PLANE = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
TAINTED2 = "2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
PORTS = "1 node(s) didn't have free ports for the requested pod ports"


def _scheduler(*reasons: str) -> str:
    """``0/3 nodes are available: <reasons>. preemption: ...``, as the scheduler writes it."""
    return (
        f"0/3 nodes are available: {', '.join(reasons)}. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."
    )


def _without_timestamps(obj: Json) -> Json:
    copy = deepcopy(obj)
    for cond in copy["status"]["conditions"]:
        cond.pop("lastTransitionTime", None)
    for entry in copy["status"]["containerStatuses"]:
        entry["state"]["running"].pop("startedAt", None)
    return copy


def _with_odd_timestamps(obj: Json) -> Json:
    """Ready 30 s ago in the API's form; the container start 10 s ago with an offset."""
    copy = deepcopy(obj)
    for cond in copy["status"]["conditions"]:
        if cond["type"] == "Ready":
            cond["lastTransitionTime"] = ts(30)
    running = copy["status"]["containerStatuses"][0]["state"]["running"]
    running["startedAt"] = "2026-11-02T10:59:50.250-01:00"
    return copy


def _ready_condition_lagging(obj: Json) -> Json:
    copy = deepcopy(obj)
    for cond in copy["status"]["conditions"]:
        if cond["type"] == "Ready":
            cond.update(status="False", reason="ContainersNotReady")
    return copy


def _with_unreadable_start(obj: Json) -> Json:
    """The container's start in month 13: it reads as text like a time, later than any."""
    copy = deepcopy(obj)
    copy["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] = "2026-13-02T11:59:55Z"
    return copy


def _with_phase(obj: Json, phase: str) -> Json:
    copy = deepcopy(obj)
    copy["status"]["phase"] = phase
    return copy


CASES = [
    # P7 stability window
    case("a pod Ready for ten minutes is ready", pod(0), READY, "web-0: ready for 600s", rules=()),
    case(
        "a pod Ready for 23 s of the 60 s window is stabilizing",
        pod(1, ready_for=23),
        WAITING,
        "web-1: stabilizing 23s of 60s",
        rules=("P7",),
    ),
    case(
        "a pod just under the window is still stabilizing",
        pod(1, ready_for=59.999),
        WAITING,
        "stabilizing 59s of 60s",
        rules=("P7",),
    ),
    case(
        "a pod exactly at the window is ready",
        pod(1, ready_for=60),
        READY,
        "ready for 60s",
        rules=(),
    ),
    case("a pod just over the window is ready", pod(1, ready_for=60.001), READY, rules=()),
    case(
        "a window of zero accepts a pod the moment it is Ready",
        pod(1, ready_for=0),
        READY,
        rules=(),
        policy=ReadinessPolicy(min_stable_seconds=0),
    ),
    case(
        "a longer window from the policy keeps a ten-minute pod waiting",
        pod(1, ready_for=600),
        WAITING,
        "stabilizing 600s of 900s",
        rules=("P7",),
        policy=ReadinessPolicy(min_stable_seconds=900),
    ),
    case(
        "a Ready transition in the future (clock skew) counts as zero seconds",
        pod(1, ready_for=-5),
        WAITING,
        "stabilizing 0s of 60s",
        rules=("P7",),
    ),
    case(
        "a container restarted 25 s ago restarts the window even when restarts are tolerated",
        pod(1, restarts=1, last_exit=1, last_finished_ago=30, started_ago=25),
        WAITING,
        "stabilizing 25s of 60s",
        rules=("P7",),
        policy=ReadinessPolicy(max_restarts=5),
    ),
    case(
        "a sidecar started 20 s ago restarts the window of a long-ready pod",
        pod(1, sidecars=("proxy",), container="proxy", started_ago=20),
        WAITING,
        "stabilizing 20s of 60s",
        rules=("P7",),
    ),
    case(
        "timestamps with fractions and offsets are compared as instants, not as text",
        _with_odd_timestamps(pod(1)),
        WAITING,
        "web-1: stabilizing 9s of 60s",
        rules=("P7",),
    ),
    case(
        "a Ready pod with no timestamps cannot prove it is stable",
        _without_timestamps(pod(1)),
        WAITING,
        "no timestamp tells since when",
        rules=("P7",),
    ),
    case(
        "a Ready pod with no timestamps is ready when no window is asked",
        _without_timestamps(pod(1)),
        READY,
        rules=(),
        policy=ReadinessPolicy(min_stable_seconds=0),
    ),
    case(
        "an unreadable container start cannot be timed: the window is not over (issue 10)",
        _with_unreadable_start(pod(1)),
        WAITING,
        "container main running.startedAt not RFC 3339",
        "cannot be timed",
        rules=("P7",),
    ),
    # P1 terminating
    case(
        "a terminating pod waits",
        pod(2, deleting=True),
        WAITING,
        "web-2: terminating",
        rules=("P1",),
    ),
    case(
        "a terminating pod that crash-loops waits: no other pod rule applies",
        pod(2, deleting=True, waiting="CrashLoopBackOff", restarts=5, last_exit=1),
        WAITING,
        "terminating",
        rules=("P1",),
        absent=("CrashLoopBackOff",),
    ),
    # P2 / P2b
    case(
        "an evicted pod fails with the kubelet's words",
        pod(
            1,
            phase="Failed",
            ready=False,
            terminated=137,
            pod_reason="Evicted",
            pod_message="The node was low on resource: memory. Threshold quantity: 100Mi.",
        ),
        FAILED,
        "web-1: pod Failed: Evicted: The node was low on resource: memory.",
        rules=("P2",),
    ),
    case(
        "a Failed pod without a pod-level reason names its container's exit",
        pod(1, phase="Failed", ready=False, terminated=137, terminated_reason="OOMKilled"),
        FAILED,
        "web-1: pod Failed: container main OOMKilled, exit 137",
        rules=("P2",),
    ),
    case(
        "a Succeeded pod fails: a service pod exited",
        pod(1, phase="Succeeded", ready=False),
        FAILED,
        "web-1: pod Succeeded",
        rules=("P2b",),
    ),
    # P3 at once
    case(
        "CrashLoopBackOff in the app container fails at once with the last exit",
        pod(1, waiting="CrashLoopBackOff", restarts=3, last_exit=1),
        FAILED,
        "web-1 container main: CrashLoopBackOff, last exit 1 (Error)",
        rules=("P3",),
    ),
    case(
        "CrashLoopBackOff in a second container names that container",
        pod(
            1,
            containers=("main", "sidecar"),
            container="sidecar",
            waiting="CrashLoopBackOff",
            restarts=4,
            last_exit=1,
        ),
        FAILED,
        "web-1 container sidecar: CrashLoopBackOff, last exit 1 (Error)",
        rules=("P3",),
        absent=("container main",),
    ),
    case(
        "CrashLoopBackOff in an init container fails the pending pod",
        pod(
            1,
            phase="Pending",
            init=("migrate",),
            container="migrate",
            waiting="CrashLoopBackOff",
            restarts=3,
            last_exit=2,
        ),
        FAILED,
        "web-1 init container migrate: CrashLoopBackOff, last exit 2 (Error)",
        rules=("P3",),
    ),
    case(
        "CrashLoopBackOff in a sidecar init container fails the pod",
        pod(1, sidecars=("proxy",), container="proxy", waiting="CrashLoopBackOff", last_exit=1),
        FAILED,
        "web-1 sidecar container proxy: CrashLoopBackOff, last exit 1 (Error)",
        rules=("P3",),
    ),
    case(
        "CrashLoopBackOff after an OOM kill says so",
        pod(1, waiting="CrashLoopBackOff", restarts=2, last_exit=137, last_reason="OOMKilled"),
        FAILED,
        "CrashLoopBackOff, last exit 137 (OOMKilled)",
        rules=("P3",),
    ),
    case(
        "two broken containers are both listed",
        set_container(
            pod(1, containers=("main", "sidecar"), waiting="CrashLoopBackOff", last_exit=1),
            "sidecar",
            waiting="CreateContainerConfigError",
            message='secret "tls" not found',
        ),
        FAILED,
        "web-1 container main: CrashLoopBackOff",
        "web-1 container sidecar: CreateContainerConfigError",
        'secret "tls" not found',
        rules=("P3", "P3c"),
    ),
    case(
        "InvalidImageName fails at once with the kubelet's message",
        pod(
            1,
            phase="Pending",
            waiting="InvalidImageName",
            message='Failed to apply default image tag "Shop/Main:latest": invalid reference',
            created_ago=5,
        ),
        FAILED,
        "web-1 container main: InvalidImageName: Failed to apply default image tag",
        rules=("P3",),
    ),
    case(
        "ErrImageNeverPull fails at once",
        pod(1, phase="Pending", waiting="ErrImageNeverPull", created_ago=5),
        FAILED,
        "ErrImageNeverPull",
        rules=("P3",),
    ),
    # P3b image pulls
    case(
        "ImagePullBackOff inside the grace waits and tells how long is left",
        pod(1, phase="Pending", waiting="ImagePullBackOff", message=NOT_FOUND, created_ago=60),
        WAITING,
        "web-1 container main: ImagePullBackOff, 60s of 120s grace",
        rules=("P3b",),
    ),
    case(
        "ImagePullBackOff exactly at the grace still waits (graces are strictly longer)",
        pod(1, phase="Pending", waiting="ImagePullBackOff", message=NOT_FOUND, created_ago=120),
        WAITING,
        rules=("P3b",),
    ),
    case(
        "ImagePullBackOff past the grace fails with the registry's message",
        pod(1, phase="Pending", waiting="ImagePullBackOff", message=NOT_FOUND, created_ago=121),
        FAILED,
        "ImagePullBackOff 121s after pod creation (grace 120s)",
        "not found",
        rules=("P3b",),
    ),
    case(
        "ErrImagePull past the grace fails",
        pod(1, phase="Pending", waiting="ErrImagePull", message=NOT_FOUND, created_ago=900),
        FAILED,
        "ErrImagePull",
        rules=("P3b",),
    ),
    case(
        "a longer image pull grace from the policy keeps waiting",
        pod(1, phase="Pending", waiting="ErrImagePull", message=NOT_FOUND, created_ago=300),
        WAITING,
        "300s of 600s grace",
        rules=("P3b",),
        policy=ReadinessPolicy(image_pull_grace_seconds=600),
    ),
    case(
        "a registry rate limit waits however long it lasts",
        pod(
            1,
            phase="Pending",
            waiting="ErrImagePull",
            message="toomanyrequests: You have reached your pull rate limit.",
            created_ago=3600,
        ),
        WAITING,
        "transient registry error",
        rules=("P3b",),
    ),
    case(
        "a 503 from the registry waits",
        pod(
            1,
            phase="Pending",
            waiting="ImagePullBackOff",
            message="received unexpected HTTP status: 503 Service Unavailable",
            created_ago=3600,
        ),
        WAITING,
        "transient",
        rules=("P3b",),
    ),
    case(
        "an i/o timeout to the registry waits",
        pod(
            1,
            phase="Pending",
            waiting="ErrImagePull",
            message="dial tcp 10.0.0.1:443: i/o timeout",
            created_ago=3600,
        ),
        WAITING,
        "transient",
        rules=("P3b",),
    ),
    case(
        "the kubelet's pull QPS limit waits",
        pod(
            1,
            phase="Pending",
            waiting="ErrImagePull",
            message="pull QPS exceeded.",
            created_ago=999,
        ),
        WAITING,
        "transient",
        rules=("P3b",),
    ),
    # P3c config errors
    case(
        "CreateContainerConfigError inside the grace waits (the Secret may come)",
        pod(
            1,
            phase="Pending",
            waiting="CreateContainerConfigError",
            message='secret "db-password" not found',
            created_ago=30,
        ),
        WAITING,
        "CreateContainerConfigError, 30s of 60s grace",
        rules=("P3c",),
    ),
    case(
        "CreateContainerConfigError exactly at the grace still waits",
        pod(1, phase="Pending", waiting="CreateContainerConfigError", created_ago=60),
        WAITING,
        rules=("P3c",),
    ),
    case(
        "CreateContainerConfigError past the grace fails naming the missing Secret",
        pod(
            1,
            phase="Pending",
            waiting="CreateContainerConfigError",
            message='secret "db-password" not found',
            created_ago=61,
        ),
        FAILED,
        "web-1 container main: CreateContainerConfigError 61s after pod creation (grace 60s): "
        'secret "db-password" not found',
        rules=("P3c",),
    ),
    case(
        "CreateContainerError past the grace fails",
        pod(1, phase="Pending", waiting="CreateContainerError", created_ago=600),
        FAILED,
        "CreateContainerError",
        rules=("P3c",),
    ),
    case(
        "RunContainerError past the grace fails",
        pod(1, waiting="RunContainerError", created_ago=600, restarts=1, last_exit=128),
        FAILED,
        "RunContainerError",
        rules=("P3c",),
    ),
    # P4 restarts
    case(
        "a restart a minute ago, the container up again for 55 s, fails",
        pod(1, restarts=1, last_exit=1, last_finished_ago=60, started_ago=55),
        FAILED,
        "web-1 container main: Error, exit 1, 60s ago (1 restart, 0 tolerated)",
        rules=("P4",),
    ),
    case(
        "a restart still happening says when it happened, until when it counts, and the knobs",
        pod(1, restarts=1, last_exit=1, last_finished_ago=60, started_ago=55),
        FAILED,
        "web-1 container main: Error, exit 1, 60s ago (1 restart, 0 tolerated); "
        "restarted at 2026-11-02T11:59:00Z, counts until 2026-11-02T12:14:00Z "
        "(restart_window_seconds=900); to tolerate it, raise max_restarts "
        "or lower restart_window_seconds",
        rules=("P4",),
    ),
    case(
        "a restart the container recovered from waits out the window instead of failing",
        pod(1, restarts=1, last_exit=1, last_finished_ago=300, started_ago=295),
        WAITING,
        "web-1 container main: recovered from a restart at 2026-11-02T11:55:00Z "
        "(Error, exit 1, 300s ago; 1 restart, 0 tolerated); it counts until "
        "2026-11-02T12:10:00Z (restart_window_seconds=900)",
        rules=("P4",),
    ),
    case(
        "a container Ready again for exactly the stability window has recovered",
        pod(1, restarts=1, last_exit=1, last_finished_ago=65, started_ago=60),
        WAITING,
        "recovered from a restart",
        rules=("P4",),
    ),
    case(
        "a container Ready again for less than the stability window has not recovered",
        pod(1, restarts=1, last_exit=1, last_finished_ago=65, started_ago=59),
        FAILED,
        rules=("P4",),
    ),
    case(
        "a longer stability window keeps a restart five minutes old failing",
        pod(1, restarts=1, last_exit=1, last_finished_ago=300, started_ago=295),
        FAILED,
        rules=("P4",),
        policy=ReadinessPolicy(min_stable_seconds=600),
    ),
    case(
        "a restarted container running but not Ready has not recovered",
        pod(1, restarts=1, last_exit=1, last_finished_ago=300, started_ago=295, ready=False),
        FAILED,
        rules=("P4",),
    ),
    case(
        "a recovered container beside one that just crashed fails",
        set_container(
            pod(
                1,
                containers=("main", "metrics"),
                restarts=1,
                last_exit=1,
                last_finished_ago=300,
                started_ago=295,
            ),
            "metrics",
            restarts=1,
            last_exit=2,
            last_finished_ago=20,
            started_ago=15,
        ),
        FAILED,
        "web-1 container metrics: Error, exit 2, 20s ago",
        rules=("P4",),
    ),
    case(
        "a recovered container beside one restarted 15 s after an older crash fails",
        set_container(
            pod(
                1,
                containers=("main", "metrics"),
                restarts=1,
                last_exit=1,
                last_finished_ago=300,
                started_ago=295,
            ),
            "metrics",
            restarts=1,
            last_exit=2,
            last_finished_ago=320,
            started_ago=15,
        ),
        FAILED,
        "web-1 container main: Error, exit 1, 300s ago",
        rules=("P4",),
    ),
    case(
        "a sidecar that recovered from a restart waits out the window",
        pod(
            1,
            sidecars=("proxy",),
            container="proxy",
            restarts=1,
            last_exit=1,
            last_finished_ago=300,
            started_ago=295,
        ),
        WAITING,
        "web-1 sidecar container proxy: recovered from a restart",
        rules=("P4",),
    ),
    case(
        "an init container that failed once and then completed is recovered",
        pod(
            1,
            init=("migrate",),
            container="migrate",
            restarts=1,
            last_exit=1,
            last_finished_ago=300,
            started_ago=200,
        ),
        WAITING,
        "web-1 init container migrate: recovered from a restart",
        rules=("P4",),
    ),
    case(
        "a restart's window follows restart_window_seconds",
        pod(1, restarts=3, last_exit=1, last_finished_ago=30),
        FAILED,
        "restarted at 2026-11-02T11:59:30Z, counts until 2026-11-02T12:01:30Z "
        "(restart_window_seconds=120)",
        rules=("P4",),
        policy=ReadinessPolicy(max_restarts=2, restart_window_seconds=120),
    ),
    case(
        "a window too long for a calendar counts the restart forever",
        pod(1, restarts=1, last_exit=1, last_finished_ago=30),
        FAILED,
        "counts until forever (restart_window_seconds=1e+15)",
        rules=("P4",),
        policy=ReadinessPolicy(restart_window_seconds=1e15),
    ),
    case(
        "a recovered restart in a window too long for a calendar waits forever",
        pod(1, restarts=1, last_exit=1, last_finished_ago=300, started_ago=295),
        WAITING,
        "it counts until forever (restart_window_seconds=1e+15)",
        rules=("P4",),
        policy=ReadinessPolicy(restart_window_seconds=1e15),
    ),
    case(
        "a restart with exit 0 fails too: a service container must not exit",
        pod(1, restarts=1, last_exit=0, last_finished_ago=60, started_ago=55),
        FAILED,
        "Completed, exit 0",
        rules=("P4",),
    ),
    case(
        "an OOM kill is named with its exit code",
        pod(1, restarts=2, last_exit=137, last_reason="OOMKilled", last_finished_ago=30),
        FAILED,
        "OOMKilled, exit 137, 30s ago (2 restarts",
        rules=("P4",),
    ),
    case(
        "a restart older than the window is history, not a failure",
        pod(1, restarts=3, last_exit=1, last_finished_ago=901),
        READY,
        rules=(),
    ),
    case(
        "a recovered restart exactly at the window edge still counts",
        pod(1, restarts=1, last_exit=1, last_finished_ago=900),
        WAITING,
        "recovered from a restart",
        rules=("P4",),
    ),
    case(
        "max_restarts 2 tolerates two recent restarts",
        pod(1, restarts=2, last_exit=1, last_finished_ago=120),
        READY,
        rules=(),
        policy=ReadinessPolicy(max_restarts=2),
    ),
    case(
        "max_restarts 2 fails on the third",
        pod(1, restarts=3, last_exit=1, last_finished_ago=120, started_ago=30),
        FAILED,
        "(3 restarts, 2 tolerated)",
        rules=("P4",),
        policy=ReadinessPolicy(max_restarts=2),
    ),
    case(
        "a container that just exited, before the kubelet restarts it, fails",
        pod(1, terminated=1, restarts=1, last_exit=1, last_finished_ago=40),
        FAILED,
        "web-1 container main: Error, exit 1, 2s ago",
        rules=("P4",),
    ),
    case(
        "restarts in a second container count too",
        pod(
            1,
            containers=("main", "metrics"),
            container="metrics",
            restarts=1,
            last_exit=2,
            started_ago=20,
        ),
        FAILED,
        "web-1 container metrics: Error, exit 2",
        rules=("P4",),
    ),
    case(
        "restarts with lastState lost date from the current run's start",
        pod(1, restarts=2, last_exit=1, last_state=False, started_ago=35),
        FAILED,
        "exit details not reported, 35s ago",
        rules=("P4",),
    ),
    case(
        "restarts with lastState lost and an old current run are history",
        pod(1, restarts=2, last_exit=1, last_state=False, ready_for=1000),
        READY,
        rules=(),
    ),
    case(
        "an init container that completed is not mistaken for a restart",
        pod(1, init=("migrate",), restarts=1, last_exit=1, last_finished_ago=2000),
        READY,
        rules=(),
    ),
    # P5 scheduling
    case(
        "Unschedulable inside the grace waits with the scheduler's message",
        pod(1, unschedulable_for=100),
        WAITING,
        "web-1: Unschedulable for 100s of 300s grace: 0/3 nodes are available: 3 Insufficient cpu.",
        rules=("P5",),
        absent=("no status yet",),
    ),
    case(
        "Unschedulable exactly at the grace still waits",
        pod(1, unschedulable_for=300),
        WAITING,
        rules=("P5",),
    ),
    case(
        "Unschedulable past the grace fails with the scheduler's message",
        pod(1, unschedulable_for=301),
        FAILED,
        "web-1: Unschedulable for 301s (grace 300s): 0/3 nodes are available",
        rules=("P5",),
    ),
    case(
        "a pod only a node selector rules out waits: an autoscaler may be adding its node",
        pod(1, unschedulable_for=5, scheduler_message=_scheduler(AFFINITY)),
        WAITING,
        rules=("P5",),
    ),
    case(
        "a pod only an untolerated taint rules out fails at once: no capacity to wait for",
        pod(1, unschedulable_for=5, scheduler_message=_scheduler(TAINTED2.replace("2 ", "3 "))),
        FAILED,
        "web-1: Unschedulable for 5s, failed at once (no 300s grace): the scheduler's reasons "
        "are the pod's constraints",
        "3 node(s) had untolerated taint",
        rules=("P5",),
    ),
    case(
        "a control-plane taint and a node selector wait as a selector alone does",
        pod(1, unschedulable_for=5, scheduler_message=_scheduler(CONTROL_PLANE, AFFINITY2)),
        WAITING,
        rules=("P5",),
    ),
    case(
        "one node short of cpu beside a tainted control plane keeps the grace",
        pod(1, unschedulable_for=5, scheduler_message=_scheduler("1 Insufficient cpu", TAINTED2)),
        WAITING,
        "Unschedulable for 5s of 300s grace",
        rules=("P5",),
    ),
    case(
        "a node short of a GPU keeps the grace: an autoscaler may add one",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler("1 Insufficient nvidia.com/gpu", AFFINITY2),
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "nodes full of pods keep the grace",
        pod(1, unschedulable_for=5, scheduler_message=_scheduler("3 Too many pods")),
        WAITING,
        rules=("P5",),
    ),
    case(
        "host ports taken keep the grace: the pods holding them may go",
        pod(1, unschedulable_for=5, scheduler_message=_scheduler(PORTS, AFFINITY2)),
        WAITING,
        rules=("P5",),
    ),
    case(
        "a cordoned node keeps the grace: it comes back after its maintenance",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler("1 node(s) were unschedulable", AFFINITY2),
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "a node an autoscaler just added, still not ready, keeps the grace",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler(
                "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }", AFFINITY2
            ),
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "pod anti-affinity keeps the grace: the pods it avoids may go (a rollout's surge)",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler("3 node(s) didn't match pod anti-affinity rules"),
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "a volume bound to a zone without nodes fails at once",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler("3 node(s) had volume node affinity conflict"),
        ),
        FAILED,
        "node(s) had volume node affinity conflict",
        rules=("P5",),
    ),
    case(
        "no persistent volume to bind fails at once",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler(
                "3 node(s) didn't find available persistent volumes to bind"
            ),
        ),
        FAILED,
        rules=("P5",),
    ),
    case(
        "a missing PersistentVolumeClaim fails at once",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler('persistentvolumeclaim "data-web-1" not found'),
        ),
        FAILED,
        'persistentvolumeclaim "data-web-1" not found',
        rules=("P5",),
    ),
    case(
        "a claim its provisioner has not bound yet keeps the grace",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler("pod has unbound immediate PersistentVolumeClaims"),
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "an older scheduler's taint wording is read too",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message="0/3 nodes are available: "
            "3 node(s) had taint {dedicated: db}, that the pod didn't tolerate.",
        ),
        FAILED,
        rules=("P5",),
    ),
    case(
        "a reason the rules do not know keeps the grace",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message=_scheduler(AFFINITY2, "1 node(s) had a reason of the future"),
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "another scheduler's message is not guessed at: it keeps the grace",
        pod(
            1,
            unschedulable_for=5,
            scheduler_message="pod group is not ready, 2 Pending, 3 minMember",
        ),
        WAITING,
        rules=("P5",),
    ),
    case(
        "a pod only a taint rules out is failed at once with a grace of zero too",
        pod(1, unschedulable_for=0, scheduler_message=_scheduler(TAINTED2.replace("2 ", "3 "))),
        FAILED,
        rules=("P5",),
        policy=ReadinessPolicy(unschedulable_grace_seconds=0),
    ),
    # P6 running and ready
    case(
        "ContainerCreating waits",
        pod(1, phase="Pending", waiting="ContainerCreating", created_ago=5),
        WAITING,
        "web-1 container main: ContainerCreating",
        rules=("P6",),
        absent=("phase",),
    ),
    case(
        "a Pending pod whose container already reports ready waits for the phase",
        _with_phase(pod(1), "Pending"),
        WAITING,
        "web-1: phase Pending",
        rules=("P6",),
    ),
    case(
        "phase Unknown (node lost) waits",
        _with_phase(pod(1), "Unknown"),
        WAITING,
        "phase Unknown",
        rules=("P6",),
    ),
    case(
        "a running container failing its readiness probe waits",
        pod(1, ready=False),
        WAITING,
        "web-1 container main: running, not ready",
        rules=("P6",),
    ),
    case(
        "a Ready condition lagging behind ready containers waits",
        _ready_condition_lagging(pod(1)),
        WAITING,
        "web-1: condition Ready is False (ContainersNotReady)",
        rules=("P6",),
    ),
    case(
        "a readiness gate that is False keeps a pod with ready containers waiting",
        pod(1, readiness_gates=("target-health.elbv2.k8s.aws/web",), gates_true=False),
        WAITING,
        "web-1: readiness gate target-health.elbv2.k8s.aws/web is False",
        rules=("P6",),
    ),
    case(
        "readiness gates that are True let the pod be ready",
        pod(1, readiness_gates=("target-health.elbv2.k8s.aws/web",)),
        READY,
        rules=(),
    ),
    case(
        "an init container still running keeps the pod waiting",
        pod(1, phase="Pending", init=("migrate",), container="migrate", init_running=True),
        WAITING,
        "web-1 init container migrate: not done yet",
        rules=("P6",),
    ),
    case(
        "an init container that exited 1 the first time waits for its retry",
        pod(1, phase="Pending", init=("migrate",), container="migrate", terminated=1),
        WAITING,
        "web-1 init container migrate: Error, exit 1, to be retried",
        rules=("P6",),
    ),
    case(
        "a sidecar running but not ready keeps the pod waiting",
        pod(1, sidecars=("proxy",), container="proxy", container_ready=False),
        WAITING,
        "web-1 sidecar container proxy: running, not ready",
        rules=("P6",),
    ),
    case(
        "a sidecar and a finished init container beside a ready app are ready",
        pod(1, init=("migrate",), sidecars=("proxy",)),
        READY,
        rules=(),
    ),
    case(
        "a container missing from the statuses waits",
        pod(1, containers=("main", "metrics"), omit_status=("containerStatuses",)),
        WAITING,
        "web-1 container main: no status yet",
        "web-1 container metrics: no status yet",
        rules=("P6",),
    ),
    case(
        "a sidecar not reported on yet is named as the sidecar it is",
        pod(1, sidecars=("proxy",), omit_status=("initContainerStatuses",)),
        WAITING,
        "web-1 sidecar container proxy: no status yet",
        rules=("P6",),
    ),
    case(
        "a pod with no status at all waits",
        {**pod(1), "status": {}},
        WAITING,
        "web-1 container main: no status yet",
        rules=("P6",),
    ),
    case(
        "a pod with neither spec nor status waits",
        {"metadata": {"name": "web-1"}},
        WAITING,
        "web-1: phase not reported",
        rules=("P6",),
    ),
]


@pytest.mark.parametrize("scenario", CASES)
def test_pod_rules(scenario: Scenario[Json]) -> None:
    verdict = evaluate_pod(scenario.given, now=NOW, policy=scenario.policy)
    check(verdict, scenario)
    (report,) = verdict.pods
    assert report.state is scenario.state
    assert report.reason.startswith(scenario.given["metadata"]["name"])
    assert verdict.ready == (1 if scenario.state is READY else 0)
    assert verdict.desired == 1


def test_a_pod_report_carries_what_a_person_needs_to_find_the_pod() -> None:
    verdict = evaluate_pod(
        pod(4, restarts=2, last_exit=1, last_finished_ago=2000, ready_for=120), now=NOW
    )
    (report,) = verdict.pods
    assert report.state is READY
    assert report.restarts == 2
    assert report.node == "node-1"
    assert report.pod_ip == "10.244.0.6"
    assert report.revision == verdict.revision == "web-7b8f75b98"
    assert report.ready_since is not None
    assert (NOW - report.ready_since).total_seconds() == 120
    assert verdict.kind == "Pod"
    assert verdict.namespace == "shop"


def test_ready_since_is_the_latest_of_ready_and_every_container_start() -> None:
    obj = set_container(pod(1, containers=("main", "metrics"), ready_for=600), "metrics")
    obj["status"]["containerStatuses"][1] = container_status("metrics", started_ago=90)
    (report,) = evaluate_pod(obj, now=NOW).pods
    assert report.ready_since is not None
    assert report.ready_since.isoformat() == "2026-11-02T11:58:30+00:00"
    assert ts(90) == "2026-11-02T11:58:30Z"


def test_a_pod_that_is_waiting_for_other_reasons_has_no_ready_since() -> None:
    (report,) = evaluate_pod(pod(1, ready=False), now=NOW).pods
    assert report.ready_since is None
