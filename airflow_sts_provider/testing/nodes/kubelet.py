"""The emulated kubelets: one component for every node, each pod simulated by a :class:`PodSim`.

The kubelet watches pods bound to its nodes, keeps one
:class:`~airflow_sts_provider.testing.nodes.pod.PodSim` per pod uid, advances it to the
current emulated time on every sync, writes the pod's ``status`` when it changed, and
deletes the pod once a graceful termination is over (the status manager's final delete).
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_sts_provider.testing.controlplane.base import Context, Controller
from airflow_sts_provider.testing.controlplane.cache import Key, key_of
from airflow_sts_provider.testing.nodes.pod import PodSim
from airflow_sts_provider.testing.registry.store import Change, StoreError

log = logging.getLogger(__name__)

#: the emulated nodes (the scheduler binds to them, the kubelets run them)
NODES = ("node-1", "node-2", "node-3")

#: the taint kubeadm puts on a control-plane node
CONTROL_PLANE_TAINT: dict[str, Any] = {
    "key": "node-role.kubernetes.io/control-plane",
    "effect": "NoSchedule",
}


@dataclass(frozen=True)
class Node:
    """One emulated node: its name, extra labels and taints (no Node object is served).

    Every node carries the well-known labels ``kubernetes.io/hostname`` (its name),
    ``kubernetes.io/os=linux`` and ``kubernetes.io/arch=amd64``; the scheduler and the
    DaemonSet controller honour ``nodeSelector``, required node affinity and taints.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Mapping[str, Any], ...] = ()

    @property
    def all_labels(self) -> dict[str, str]:
        return {
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            **self.labels,
        }


def as_nodes(nodes: Iterable[str | Node]) -> tuple[Node, ...]:
    """Node names or :class:`Node` specs, as specs."""
    return tuple(n if isinstance(n, Node) else Node(n) for n in nodes)


class Kubelet(Controller):
    """The kubelets of every emulated node (one component: they share nothing but code)."""

    name = "kubelet"

    def __init__(self, ctx: Context, nodes: Iterable[str | Node] = NODES) -> None:
        super().__init__(ctx)
        self.nodes = tuple(n.name for n in as_nodes(nodes))
        self.sims: dict[str, PodSim] = {}
        self._uid_by_key: dict[Key, str] = {}
        self.images: dict[str, set[str]] = defaultdict(set)
        self._next_ip: dict[str, itertools.count[int]] = {}

    def host_ip(self, node: str) -> str:
        index = self.nodes.index(node) if node in self.nodes else len(self.nodes)
        return f"172.18.0.{index + 2}"

    def allocate_ip(self, node: str) -> str:
        """Pod IPs from the node's slice of 10.244.0.0/16, as a CNI's host-local IPAM does."""
        index = self.nodes.index(node) if node in self.nodes else len(self.nodes)
        counter = self._next_ip.setdefault(node, itertools.count())
        n = next(counter) % (16 * 254)
        return f"10.244.{index * 16 + n // 254}.{n % 254 + 1}"

    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        if change.resource != "pods":
            return ()
        if change.type == "DELETED":
            return (key_of("pods", change.obj),)
        if writer == self.name or not change.obj.get("spec", {}).get("nodeName"):
            return ()
        return (key_of("pods", change.obj),)

    def sync(self, key: Key, now: datetime) -> datetime | None:
        pod = self.ctx.cache.get(key)
        known = self._uid_by_key.get(key)
        if known is not None and (pod is None or pod["metadata"]["uid"] != known):
            self.sims.pop(known, None)  # deleted (and maybe replaced under the same name)
            del self._uid_by_key[key]
        if pod is None or not pod.get("spec", {}).get("nodeName"):
            return None
        uid = pod["metadata"]["uid"]
        sim = self.sims.get(uid)
        if sim is None:
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                return None  # finished before this kubelet saw it: nothing to run
            sim = PodSim(self, pod, now)
            self.sims[uid] = sim
            self._uid_by_key[key] = uid
        sim.advance(now)
        sim.observe(pod, now)
        sim.advance(now)
        status = sim.status(pod)
        if status != pod.get("status"):
            # ``status`` is built afresh by every call and shares only dicts the sim
            # and the store never change in place (conditions, last terminations)
            self.ctx.write_status("pods", pod, status, handed_over=True)
        if sim.removed:
            self._remove(key, uid)
            return None
        return sim.next_time()

    def _remove(self, key: Key, uid: str) -> None:
        """The status manager's final delete once every container has stopped."""
        self.sims.pop(uid, None)
        self._uid_by_key.pop(key, None)
        pod = self.ctx.cache.get(key)
        if pod is None or pod["metadata"]["uid"] != uid:
            return
        try:
            self.ctx.store.delete("pods", key[1], key[2])
        except StoreError as error:
            log.debug("pod %s/%s already gone: %s", key[1], key[2], error.message)
