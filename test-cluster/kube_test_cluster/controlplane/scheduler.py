"""``default-scheduler``: binds pending pods to the emulated nodes, or says why it cannot.

Three nodes, ``node-1`` to ``node-3``, with room for anything unless a pod's
behaviour says otherwise: ``unschedulable`` leaves it Pending with
``PodScheduled=False``/``Unschedulable`` and the scheduler's real message, and a
``FailedScheduling`` event that is repeated (its count grows) every five minutes,
when the real scheduler flushes its unschedulable queue. Binding picks the
least-loaded node, as the default scoring spreads pods.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from kube_test_cluster.clock import rfc3339
from kube_test_cluster.controlplane.nodefit import fits, unfit_reasons
from kube_test_cluster.machinery.base import Context, Controller
from kube_test_cluster.machinery.behaviour import BehaviourError, behaviour_of
from kube_test_cluster.machinery.cache import Key, key_of
from kube_test_cluster.machinery.topology import NODES, Node, as_nodes
from kube_test_cluster.machinery.util import parse_time, seconds
from kube_test_cluster.registry.store import Change, Obj

#: ``podMaxInUnschedulablePodsDuration``: how often an unschedulable pod is retried anyway
RETRY_UNSCHEDULABLE = timedelta(minutes=5)


def unschedulable_message(resource: str, nodes: int) -> str:
    """The scheduler's FailedScheduling text for pods no node can fit."""
    if resource in ("cpu", "memory", "ephemeral-storage", "pods"):
        why = f"{nodes} Insufficient {resource}"
        preemption = (
            f"0/{nodes} nodes are available: {nodes} No preemption victims found for incoming pod."
        )
    else:
        why = f"{nodes} {resource}"
        preemption = (
            f"0/{nodes} nodes are available: {nodes} Preemption is not helpful for scheduling."
        )
    return f"0/{nodes} nodes are available: {why}. preemption: {preemption}"


class Scheduler(Controller):
    name = "default-scheduler"

    def __init__(self, ctx: Context, nodes: Iterable[str | Node] = NODES) -> None:
        super().__init__(ctx)
        self.specs = as_nodes(nodes)
        self.nodes = tuple(n.name for n in self.specs)
        self._load: dict[str, set[str]] = {node: set() for node in self.nodes}
        self._reported: dict[str, datetime] = {}  # pod uid -> last FailedScheduling

    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        if change.resource != "pods":
            return ()
        meta, spec = change.obj["metadata"], change.obj.get("spec", {})
        if change.type == "DELETED":
            node = spec.get("nodeName")
            if node in self._load:
                self._load[node].discard(meta["uid"])
            self._reported.pop(meta["uid"], None)
            return ()
        node = spec.get("nodeName")
        if node:
            if node in self._load:
                self._load[node].add(meta["uid"])
            return ()
        if writer == self.name:
            return ()  # its own Unschedulable condition: the retry timer is already set
        if meta.get("deletionTimestamp") or spec.get("schedulerName", "default-scheduler") != (
            "default-scheduler"
        ):
            return ()
        return (key_of("pods", change.obj),)

    def sync(self, key: Key, now: datetime) -> datetime | None:
        pod = self.ctx.cache.get(key)
        if (
            pod is None
            or pod.get("spec", {}).get("nodeName")
            or pod["metadata"].get("deletionTimestamp")
        ):
            return None
        try:
            behaviour = behaviour_of(pod)
        except BehaviourError:
            behaviour = None  # the kubelet reports it once the pod runs
        created = parse_time(pod["metadata"].get("creationTimestamp")) or now
        if behaviour is not None:
            bind_at = created + seconds(behaviour.schedule)
            if behaviour.unschedulable and (
                behaviour.unschedulable_for is None
                or now < created + seconds(behaviour.unschedulable_for)
            ):
                wake = self._unschedulable(pod, behaviour.unschedulable, now)
                if behaviour.unschedulable_for is not None:
                    wake = min(wake, created + seconds(behaviour.unschedulable_for))
                return wake
            if now < bind_at:
                return bind_at
        spec = pod.get("spec") or {}
        candidates = [n.name for n in self.specs if fits(spec, n)]
        if not candidates:
            return self._unschedulable(pod, "", now, message=self._unfit_message(spec))
        self._bind(pod, now, candidates)
        return None

    def _unfit_message(self, spec: Obj) -> str:
        count = len(self.nodes)
        return (
            f"0/{count} nodes are available: {unfit_reasons(spec, self.specs)}. preemption: "
            f"0/{count} nodes are available: {count} Preemption is not helpful for scheduling."
        )

    def _unschedulable(
        self, pod: Obj, resource: str, now: datetime, *, message: str | None = None
    ) -> datetime:
        uid = pod["metadata"]["uid"]
        last = self._reported.get(uid)
        if last is not None and now < last + RETRY_UNSCHEDULABLE:
            return last + RETRY_UNSCHEDULABLE
        if message is None:
            message = unschedulable_message(resource, len(self.nodes))
        self._reported[uid] = now

        def mark(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c["type"] != "PodScheduled"]
            previous = next(
                (c for c in status.get("conditions") or [] if c["type"] == "PodScheduled"), None
            )
            since = rfc3339(now)
            if previous and previous.get("status") == "False":
                since = previous.get("lastTransitionTime", since)
            conditions.append(
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": since,
                    "reason": "Unschedulable",
                    "message": message,
                }
            )
            status["conditions"] = conditions
            status.setdefault("phase", "Pending")

        meta = pod["metadata"]
        self.ctx.store.update("pods", meta["namespace"], meta["name"], mark)
        self.ctx.recorder.record(
            pod, "Warning", "FailedScheduling", message, component=self.name, at=now
        )
        return now + RETRY_UNSCHEDULABLE

    def _bind(self, pod: Obj, now: datetime, candidates: list[str]) -> None:
        node = min(candidates, key=lambda n: (len(self._load[n]), n))
        meta = pod["metadata"]

        status = dict(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if c["type"] != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(now),
            }
        )
        status["conditions"] = conditions
        binding = {
            **pod,
            "metadata": dict(meta),
            "spec": {**pod["spec"], "nodeName": node},
            "status": status,
        }
        bound = self.ctx.store.put("pods", binding)  # fresh at the top: handed over
        self._load[node].add(meta["uid"])
        self._reported.pop(meta["uid"], None)
        self.ctx.recorder.record(
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
            component=self.name,
            at=now,
        )
