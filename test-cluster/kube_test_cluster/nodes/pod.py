"""A pod on its node: the states a real kubelet takes it through, at exact emulated times.

A pod's life is a small discrete-event simulation (:class:`PodSim`): every
transition (sandbox ready, image pulled, container started, probe passed,
crash, back-off over, eviction, SIGTERM honoured) is scheduled at an exact
emulated time taken from the pod's scripted :mod:`behaviour
<kube_test_cluster.machinery.behaviour>`. A transition applied on time
carries that time; one the kubelet gets to late (under load) carries the time it
becomes visible in the API, never a time in the past, and what follows it is
scheduled from then, as on a real node whose kubelet is slow.
After each look the pod's ``status`` is written if it changed, and the events
the real kubelet emits are recorded (Pulling, Pulled, Created, Started,
Killing, BackOff, Failed, Unhealthy, Evicted), with the real wording.

What is faithful: phase and condition rules (``getPhase``,
``GeneratePodReadyCondition``), restart back-off (10 s doubling to 300 s, the
first restart immediate, reset after 10 quiet minutes), image pull back-off,
init containers one at a time and sidecars (``restartPolicy: Always`` init
containers), graceful termination capped by the grace period, eviction with
the eviction manager's message and the ``DisruptionTarget`` condition.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kube_test_cluster.clock import rfc3339
from kube_test_cluster.machinery.behaviour import Behaviour, BehaviourError, behaviour_of
from kube_test_cluster.machinery.util import parse_time
from kube_test_cluster.nodes.containers import ContainerSim
from kube_test_cluster.nodes.messages import (
    EVICTION_MESSAGE,
    config_error_message,
    go_duration,
    image_error_message,
)
from kube_test_cluster.registry.store import Obj

if TYPE_CHECKING:
    from kube_test_cluster.nodes.kubelet import Kubelet

#: the kubelet resyncs a pod whose last sync failed after this long (pod worker back-off)
SYNC_RETRY = 10.0
#: a crashed container is noticed (PLEG) and handled on the next sync, this much later
NOTICE = 1.0
#: sandbox creation: the pod gets its IP
SANDBOX = 0.1
PROBE_PERIOD = 10.0
#: a transition applied more than this after it was due is stamped with the time it is seen
LATE = timedelta(milliseconds=1)


def _ready_delay(container: Obj, behaviour: Behaviour | None) -> float:
    if behaviour is not None and behaviour.ready is not None:
        return behaviour.ready
    probe = container.get("readinessProbe")
    if probe:
        return float(probe.get("initialDelaySeconds") or 0) + 0.5
    return 0.0


class PodSim:
    """One pod on one node, from admission to removal."""

    def __init__(self, kubelet: Kubelet, pod: Obj, now: datetime) -> None:
        meta, spec = pod["metadata"], pod.get("spec", {})
        self.kubelet = kubelet
        self.pod = pod
        self.uid: str = meta["uid"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace", "default")
        self.node: str = spec["nodeName"]
        self.created = parse_time(meta.get("creationTimestamp")) or now
        self.restart_policy: str = spec.get("restartPolicy", "Always")
        self.t0 = now
        self.invalid: str | None = None
        try:
            self.behaviour = behaviour_of(pod)
        except BehaviourError as error:
            self.invalid = str(error)
            self.behaviour = Behaviour()
        app_names = [c["name"] for c in spec.get("containers") or []]
        target = self.behaviour.container or (app_names[0] if app_names else None)
        self.containers: list[ContainerSim] = []
        for kind_key in ("initContainers", "containers"):
            for container in spec.get(kind_key) or []:
                kind = "app"
                if kind_key == "initContainers":
                    kind = "sidecar" if container.get("restartPolicy") == "Always" else "init"
                scripted = container["name"] == target
                self.containers.append(
                    ContainerSim(
                        name=container["name"],
                        image=str(container.get("image", "")),
                        kind=kind,
                        pull_policy=str(container.get("imagePullPolicy", "IfNotPresent")),
                        ready_delay=_ready_delay(container, self.behaviour if scripted else None),
                        behaviour=self.behaviour if scripted else _healthy(self.behaviour),
                        reason="PodInitializing"
                        if kind == "app" and spec.get("initContainers")
                        else "ContainerCreating",
                    )
                )
        self.pod_ip: str | None = None
        self.phase_override: str | None = None
        self.pod_reason: str | None = None
        self.pod_message: str | None = None
        self.conditions: dict[str, Obj] = {}
        self.terminating_since: datetime | None = None
        self.removed = False
        self.first_start: datetime | None = None
        self._queue: list[tuple[datetime, int, str, int, int]] = []
        self._seq = itertools.count()
        self._set_condition("PodReadyToStartContainers", False, now)
        self._refresh_conditions(now)
        self._at(now + timedelta(seconds=SANDBOX), "sandbox")

    # -- plumbing ------------------------------------------------------------------------
    def _at(self, when: datetime, action: str, container: ContainerSim | None = None) -> None:
        index = -1 if container is None else self.containers.index(container)
        run = -1 if container is None else container.run
        heapq.heappush(self._queue, (when, next(self._seq), action, index, run))

    def next_time(self) -> datetime | None:
        return self._queue[0][0] if self._queue else None

    def event(
        self,
        when: datetime,
        type_: str,
        reason: str,
        message: str,
        container: ContainerSim | None = None,
    ) -> None:
        self.kubelet.ctx.recorder.record(
            self.pod,
            type_,
            reason,
            message,
            component="kubelet",
            host=self.node,
            field_path=container.field_path if container else None,
            at=when,
        )

    @property
    def pod_ref(self) -> str:
        """``format.Pod``: how the kubelet names a pod in its messages."""
        return f"{self.name}_{self.namespace}({self.uid})"

    def observe(self, pod: Obj, now: datetime) -> None:
        """Take in the latest API object: a deletionTimestamp starts graceful termination."""
        self.pod = pod
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") and self.terminating_since is None:
            grace = meta.get("deletionGracePeriodSeconds")
            if grace is None:
                grace = pod.get("spec", {}).get("terminationGracePeriodSeconds", 30)
            self._terminate(now, float(grace))

    def advance(self, now: datetime) -> None:
        """Apply every transition due by ``now``: on time at its own time, late at ``now``.

        A transition the kubelet gets to late (a loaded control plane, a clock moved
        without reconciling) is stamped with the time it becomes visible in the API,
        never backdated to when it was due, as a real kubelet's status manager does.
        """
        while self._queue and self._queue[0][0] <= now + LATE:
            due, _, action, index, run = heapq.heappop(self._queue)
            when = due if now - due <= LATE else now
            container = self.containers[index] if index >= 0 else None
            if container is not None and run != container.run:
                continue  # a timer of a run that has ended
            getattr(self, f"_on_{action.replace('-', '_')}")(when, container)
            self._refresh_conditions(when)

    # -- pod-level transitions -----------------------------------------------------------
    def _on_sandbox(self, when: datetime, _: ContainerSim | None) -> None:
        self.pod_ip = self.kubelet.allocate_ip(self.node)
        self._set_condition("PodReadyToStartContainers", True, when)
        if self.invalid:
            self.event(
                when,
                "Warning",
                "InvalidBehaviour",
                f"ignoring the sts.emulator/behaviour annotation: {self.invalid}",
            )
        self._start_next(when)

    def _start_next(self, when: datetime) -> None:
        """Start the next init container, or every app container once init is done."""
        for container in self.containers:
            if container.kind == "app":
                break
            if container.kind == "sidecar" and container.ever_ran:
                continue
            if container.kind == "init" and container.completed:
                continue
            if not container.begun:
                container.begun = True
                self._at(when, "pull", container)
            return
        for container in self.containers:
            if container.kind == "app" and not container.begun:
                container.begun = True
                container.reason = "ContainerCreating"
                self._at(when, "pull", container)

    def _on_evict(self, when: datetime, _: ContainerSim | None) -> None:
        target = next((c for c in self.containers if c.kind == "app"), None)
        message = EVICTION_MESSAGE.format(container=target.name if target else "app")
        self.phase_override = "Failed"
        self.pod_reason, self.pod_message = "Evicted", message
        self.conditions["DisruptionTarget"] = {
            "type": "DisruptionTarget",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": rfc3339(when),
            "reason": "TerminationByKubelet",
            "message": message,
        }
        self.event(when, "Warning", "Evicted", message)
        for container in self.containers:
            if container.running:
                self.event(
                    when, "Normal", "Killing", f"Stopping container {container.name}", container
                )
                self._exit(container, when, 137, "Error")
        self._queue.clear()

    def _terminate(self, when: datetime, grace: float) -> None:
        self.terminating_since = when
        self._queue.clear()
        last = when
        for container in self.containers:
            container.run += 1  # cancel its timers
            if not container.running:
                continue
            self.event(when, "Normal", "Killing", f"Stopping container {container.name}", container)
            stop_after = container.behaviour.stop_after
            graceful = stop_after <= grace
            stop = when + timedelta(seconds=stop_after if graceful else grace)
            last = max(last, stop)
            self._at(stop, "stop" if graceful else "kill", container)
        self._at(last, "remove")

    def _on_stop(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        self._exit(container, when, 0, "Completed")

    def _on_kill(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        self._exit(container, when, 137, "Error")

    def _on_remove(self, when: datetime, _: ContainerSim | None) -> None:
        self.removed = True

    # -- container transitions -----------------------------------------------------------
    def _image_error(self, container: ContainerSim, when: datetime) -> str | None:
        b = container.behaviour
        if b.image_error is None:
            return None
        if b.image_error_for is not None and when >= self.created + timedelta(
            seconds=b.image_error_for
        ):
            return None
        return b.image_error

    def _on_pull(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        error = self._image_error(container, when)
        if error in ("invalid", "never-pull"):
            reason, message = image_error_message(error, container.image)
            container.state, container.reason, container.message = "waiting", reason, message
            if error == "invalid":
                self.event(when, "Warning", "InspectFailed", message, container)
            else:
                self.event(when, "Warning", "ErrImageNeverPull", message, container)
            self.event(when, "Warning", "Failed", f"Error: {reason}", container)
            self._at(when + timedelta(seconds=SYNC_RETRY), "pull", container)
            return
        present = (
            container.image in self.kubelet.images[self.node] or container.pull_policy == "Never"
        )
        if error is None and container.pull_policy != "Always" and present:
            self.event(
                when,
                "Normal",
                "Pulled",
                f'Container image "{container.image}" already present on machine',
                container,
            )
            self._at(when, "create", container)
            return
        if container.state == "waiting" and container.reason in (
            "ErrImagePull",
            "ImagePullBackOff",
        ):
            pass  # keep showing the error while the retry pulls
        elif not container.ever_ran:
            container.reason, container.message = "ContainerCreating", None
        self.event(when, "Normal", "Pulling", f'Pulling image "{container.image}"', container)
        self._at(when + timedelta(seconds=container.behaviour.pull), "pulled", container)

    def _on_pulled(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        error = self._image_error(container, when)
        if error is not None:
            reason, message = image_error_message(error, container.image)
            container.state, container.reason, container.message = "waiting", reason, message
            self.event(
                when,
                "Warning",
                "Failed",
                f'Failed to pull image "{container.image}": {message}',
                container,
            )
            self.event(when, "Warning", "Failed", f"Error: {reason}", container)
            container.pull_backoff.next(when)
            container.pull_failed_at = when
            self._at(when + timedelta(seconds=NOTICE), "pull-backoff", container)
            return
        took = container.behaviour.pull
        size = 40_000_000 + int(hashlib.sha256(container.image.encode()).hexdigest()[:6], 16)
        self.event(
            when,
            "Normal",
            "Pulled",
            f'Successfully pulled image "{container.image}" in {go_duration(took)} '
            f"({go_duration(took)} including waiting). Image size: {size} bytes.",
            container,
        )
        self.kubelet.images[self.node].add(container.image)
        self._at(when, "create", container)

    def _on_pull_backoff(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None and container.pull_failed_at is not None
        message = f'Back-off pulling image "{container.image}"'
        container.reason, container.message = "ImagePullBackOff", message
        self.event(when, "Normal", "BackOff", message, container)
        self.event(when, "Warning", "Failed", "Error: ImagePullBackOff", container)
        retry = container.pull_failed_at + timedelta(seconds=container.pull_backoff.duration)
        self._at(max(retry, when), "pull", container)

    def _on_create(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        b = container.behaviour
        if b.config_error and (
            b.config_error_for is None
            or when < self.created + timedelta(seconds=b.config_error_for)
        ):
            message = config_error_message(b.config_error)
            container.state, container.reason = "waiting", "CreateContainerConfigError"
            container.message = message
            self.event(when, "Warning", "Failed", f"Error: {message}", container)
            retry = when + timedelta(seconds=SYNC_RETRY)
            self._at(retry, "pull", container)
            return
        container.container_id = f"containerd://{uuid.uuid4().hex}{uuid.uuid4().hex}"
        self.event(when, "Normal", "Created", f"Created container: {container.name}", container)
        self._at(when + timedelta(seconds=b.start), "start", container)

    def _on_start(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        b = container.behaviour
        container.run += 1
        container.state, container.reason, container.message = "running", None, None
        container.started_at, container.finished_at = when, None
        container.ever_ran = True
        container.ready = False
        container.probe_failing = False
        self.event(when, "Normal", "Started", f"Started container {container.name}", container)
        if self.first_start is None and container.kind == "app":
            self.first_start = when
            if self.behaviour.evict_after is not None:
                self._at(when + timedelta(seconds=self.behaviour.evict_after), "evict")
        if container.kind == "init":
            exit_after = self._crash_in(container)
            if exit_after is not None:
                self._at(when + timedelta(seconds=exit_after[0]), exit_after[1], container)
            else:
                self._at(when + timedelta(seconds=b.init), "complete", container)
            return
        self._at(when + timedelta(seconds=container.ready_delay), "ready", container)
        crash = self._crash_in(container)
        if crash is not None:
            self._at(when + timedelta(seconds=crash[0]), crash[1], container)
        if b.unready_after is not None:
            self._at(when + timedelta(seconds=b.unready_after), "unready", container)
        if container.kind == "sidecar":
            self._start_next(when)

    def _crash_in(self, container: ContainerSim) -> tuple[float, str] | None:
        b = container.behaviour
        if b.crashes is not None and container.crashes >= b.crashes:
            return None
        options = []
        if b.crash_after is not None:
            options.append((b.crash_after, "crash"))
        if b.oom_after is not None:
            options.append((b.oom_after, "oom"))
        return min(options) if options else None

    def _on_complete(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        self._exit(container, when, 0, "Completed")

    def _on_ready(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        if container.running and not container.probe_failing:
            container.ready = True

    def _on_unready(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        container.probe_failing = True
        container.ready = False
        self._on_unhealthy(when, container)
        unready_for = container.behaviour.unready_for
        if unready_for is not None:
            self._at(when + timedelta(seconds=unready_for), "recover", container)

    def _on_unhealthy(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        if not container.probe_failing:
            return
        self.event(
            when,
            "Warning",
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            container,
        )
        self._at(when + timedelta(seconds=PROBE_PERIOD), "unhealthy", container)

    def _on_recover(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        container.probe_failing = False
        container.ready = container.running

    def _on_crash(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        code = container.behaviour.exit_code
        self._crash(container, when, code, "Completed" if code == 0 else "Error")

    def _on_oom(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None
        self._crash(container, when, 137, "OOMKilled")

    def _crash(self, container: ContainerSim, when: datetime, code: int, reason: str) -> None:
        container.crashes += 1
        self._exit(container, when, code, reason)

    def _exit(self, container: ContainerSim, when: datetime, code: int, reason: str) -> None:
        container.run += 1  # cancel the run's pending timers (ready, crash, probes)
        container.state, container.exit_code, container.exit_reason = "terminated", code, reason
        container.finished_at = when
        container.ready = False
        if self.terminating_since is not None or self.phase_override is not None:
            return
        if container.kind == "init" and code == 0:
            self._start_next(when)
            return
        if self._restarts(container, code):
            self._at(when + timedelta(seconds=NOTICE), "restart", container)

    def _restarts(self, container: ContainerSim, code: int) -> bool:
        if container.kind == "sidecar":
            return True
        if self.restart_policy == "Always":
            return True
        return self.restart_policy == "OnFailure" and code != 0

    def _on_restart(self, when: datetime, container: ContainerSim | None) -> None:
        assert container is not None and container.finished_at is not None
        finished = container.finished_at
        container.last_terminated = container.terminated()
        if container.restart_backoff.in_backoff_since(finished, when):
            delay = container.restart_backoff.duration
            container.state, container.reason = "waiting", "CrashLoopBackOff"
            container.message = (
                f"back-off {go_duration(delay)} restarting failed "
                f"container={container.name} pod={self.pod_ref}"
            )
            self.event(
                when,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {container.name} in pod {self.pod_ref}",
                container,
            )
            self._at(finished + timedelta(seconds=delay), "restart", container)
            return
        container.restart_backoff.next(finished)
        container.restart_count += 1
        if container.state != "waiting":  # a back-off keeps showing until the new one runs
            container.state, container.reason, container.message = (
                "waiting",
                "ContainerCreating",
                None,
            )
        self._on_pull(when, container)

    # -- status --------------------------------------------------------------------------
    def _set_condition(
        self,
        kind: str,
        value: bool,
        when: datetime,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        status = "True" if value else "False"
        previous = self.conditions.get(kind)
        since = rfc3339(when)
        if previous is not None and previous["status"] == status:
            since = previous["lastTransitionTime"]
        condition: Obj = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": since,
        }
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        self.conditions[kind] = condition

    def _refresh_conditions(self, when: datetime) -> None:
        pending_init = [
            c.name
            for c in self.containers
            if (c.kind == "init" and not c.completed) or (c.kind == "sidecar" and not c.ever_ran)
        ]
        if pending_init:
            names = " ".join(pending_init)
            self._set_condition(
                "Initialized",
                False,
                when,
                "ContainersNotInitialized",
                f"containers with incomplete status: [{names}]",
            )
        else:
            self._set_condition("Initialized", True, when)
        unready = [
            c.name
            for c in self.containers
            if c.kind in ("app", "sidecar") and not (c.ready and c.running)
        ]
        if unready:
            names = " ".join(unready)
            message = f"containers with unready status: [{names}]"
            self._set_condition("ContainersReady", False, when, "ContainersNotReady", message)
            self._set_condition("Ready", False, when, "ContainersNotReady", message)
        else:
            self._set_condition("ContainersReady", True, when)
            self._set_condition("Ready", True, when)

    def phase(self) -> str:
        if self.phase_override:
            return self.phase_override
        for container in self.containers:
            if container.kind == "init" and not container.completed:
                if (
                    self.restart_policy == "Never"
                    and container.state == "terminated"
                    and container.exit_code != 0
                ):
                    return "Failed"
                return "Pending"
        running = waiting = stopped = succeeded = 0
        for container in self.containers:
            if container.kind != "app":
                continue
            if container.running:
                running += 1
            elif container.state == "terminated":
                stopped += 1
                succeeded += container.exit_code == 0
            elif container.last_terminated is not None:
                stopped += 1
            else:
                waiting += 1
        if waiting:
            return "Pending"
        if running:
            return "Running"
        if stopped:
            if self.restart_policy == "Always":
                return "Running"
            if stopped == succeeded:
                return "Succeeded"
            return "Failed" if self.restart_policy == "Never" else "Running"
        return "Pending"

    def status(self, pod: Obj) -> Obj:
        """The pod status as the kubelet would report it now."""
        current = pod.get("status", {})
        scheduled = [c for c in current.get("conditions") or [] if c["type"] == "PodScheduled"]
        order = ("DisruptionTarget", "PodReadyToStartContainers", "Initialized", "Ready")
        conditions = [self.conditions[k] for k in order if k in self.conditions]
        conditions += [self.conditions["ContainersReady"], *scheduled]
        host_ip = self.kubelet.host_ip(self.node)
        status: Obj = {"phase": self.phase(), "conditions": conditions}
        if self.pod_reason:
            status["message"] = self.pod_message
            status["reason"] = self.pod_reason
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
        if self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        status["startTime"] = rfc3339(self.t0)
        inits = [c.status() for c in self.containers if c.kind != "app"]
        if inits:
            status["initContainerStatuses"] = inits
        status["containerStatuses"] = [c.status() for c in self.containers if c.kind == "app"]
        status["qosClass"] = current.get("qosClass", "BestEffort")
        return status


def _healthy(behaviour: Behaviour) -> Behaviour:
    """The script for containers the failure keys do not target: timings only."""
    return Behaviour(
        pull=behaviour.pull,
        start=behaviour.start,
        init=behaviour.init,
        stop_after=behaviour.stop_after,
    )
