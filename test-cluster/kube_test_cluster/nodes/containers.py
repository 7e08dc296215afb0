"""One container of a simulated pod, and the back-off the kubelet keeps per container."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from kube_test_cluster.clock import rfc3339
from kube_test_cluster.machinery.behaviour import Behaviour
from kube_test_cluster.nodes.messages import normalize_image
from kube_test_cluster.registry.store import Obj


@dataclass
class Backoff:
    """client-go's ``flowcontrol.Backoff`` for one key (the kubelet's restart/pull back-off)."""

    initial: float = 10.0
    cap: float = 300.0
    duration: float = 0.0
    last_update: datetime | None = None

    def _expired(self, event_time: datetime) -> bool:
        assert self.last_update is not None
        return (event_time - self.last_update).total_seconds() > 2 * self.cap

    def in_backoff_since(self, event_time: datetime, now: datetime) -> bool:
        if self.last_update is None or self._expired(event_time):
            return False
        return (now - event_time).total_seconds() < self.duration

    def next(self, event_time: datetime) -> None:
        if self.last_update is None or self._expired(event_time):
            self.duration = self.initial
        else:
            self.duration = min(self.duration * 2, self.cap)
        self.last_update = event_time


@dataclass
class ContainerSim:
    """One container (or init container) of a simulated pod."""

    name: str
    image: str
    kind: str  # "init", "sidecar" or "app"
    pull_policy: str
    ready_delay: float
    behaviour: Behaviour  # the pod's script if this container is the target, else defaults
    state: str = "waiting"
    reason: str | None = "ContainerCreating"
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int = 0
    exit_reason: str = ""
    last_terminated: Obj | None = None
    restart_count: int = 0
    ready: bool = False
    probe_failing: bool = False
    container_id: str | None = None
    ever_ran: bool = False
    begun: bool = False  # its first pull was started
    crashes: int = 0
    restart_backoff: Backoff = field(default_factory=Backoff)
    pull_backoff: Backoff = field(default_factory=Backoff)
    pull_failed_at: datetime | None = None
    run: int = 0  # bumped on every start, so timers of an earlier run are ignored

    @property
    def field_path(self) -> str:
        return f"spec.{'containers' if self.kind == 'app' else 'initContainers'}{{{self.name}}}"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def completed(self) -> bool:
        return self.state == "terminated" and self.exit_code == 0

    def terminated(self) -> Obj:
        assert self.started_at is not None and self.finished_at is not None
        return {
            "exitCode": self.exit_code,
            "reason": self.exit_reason,
            "startedAt": rfc3339(self.started_at),
            "finishedAt": rfc3339(self.finished_at),
            "containerID": self.container_id,
        }

    def status(self) -> Obj:
        if self.state == "running":
            assert self.started_at is not None
            state: Obj = {"running": {"startedAt": rfc3339(self.started_at)}}
        elif self.state == "terminated":
            state = {"terminated": self.terminated()}
        else:
            waiting: Obj = {"reason": self.reason}
            if self.message:
                waiting["message"] = self.message
            state = {"waiting": waiting}
        ran = self.ever_ran
        ready = self.ready and self.running
        if self.kind == "init":
            ready = self.completed
        status: Obj = {
            "name": self.name,
            "state": state,
            "lastState": {"terminated": self.last_terminated} if self.last_terminated else {},
            "ready": ready,
            "restartCount": self.restart_count,
            "image": normalize_image(self.image) if ran else self.image,
            "imageID": _image_id(self.image) if ran else "",
        }
        if self.container_id and self.ever_ran:
            status["containerID"] = self.container_id
        status["started"] = self.running
        return status


def _image_id(image: str) -> str:
    ref = normalize_image(image)
    repo = ref.split("@")[0].rsplit(":", 1)[0]
    return f"{repo}@sha256:{hashlib.sha256(ref.encode()).hexdigest()}"
