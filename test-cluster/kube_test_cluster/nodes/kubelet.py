"""The emulated kubelets: one component for every node, each pod simulated by a :class:`PodSim`.

The kubelet watches pods bound to its nodes, keeps one
:class:`~kube_test_cluster.nodes.pod.PodSim` per pod uid, advances it to the
current emulated time on every sync, writes the pod's ``status`` when it changed, and
deletes the pod once a graceful termination is over (the status manager's final delete).

Each kubelet also registers its node (a spec from ``machinery.topology``): a ``v1`` Node
object (:func:`node_object`) as a kubelet of :data:`KUBELET_VERSION` reports it, created
when the control plane starts.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from kube_test_cluster.clock import rfc3339
from kube_test_cluster.machinery.base import Context, Controller
from kube_test_cluster.machinery.cache import Key, key_of
from kube_test_cluster.machinery.topology import NODES, Node, as_nodes
from kube_test_cluster.nodes.pod import PodSim
from kube_test_cluster.registry.store import Change, Obj, StoreError

log = logging.getLogger(__name__)

#: what every kubelet reports as ``status.nodeInfo.kubeletVersion`` (the apiserver's version)
KUBELET_VERSION = "v1.32.4"


def host_ip(index: int) -> str:
    """The address of the ``index``-th node (a kind network's ``172.18.0.0/16``)."""
    return f"172.18.{(index + 2) // 256}.{(index + 2) % 256}"


def _pod_block(index: int) -> tuple[int, int]:
    """The second and third octets where the ``index``-th node's ``/20`` of pod IPs starts
    (``10.244.0.0/20``, ``10.244.16.0/20``, ...; past sixteen nodes, on into ``10.245``)."""
    start = index * 16
    return 244 + start // 256, start % 256


def pod_cidr(index: int) -> str:
    """The ``index``-th node's ``podCIDR``, which its pod IPs come from."""
    second, third = _pod_block(index)
    return f"10.{second}.{third}.0/20"


def node_object(node: Node, index: int, now: datetime) -> Obj:
    """The ``v1`` Node a kubelet registers for ``node`` (the ``index``-th), Ready since ``now``.

    Shaped as a kind worker's: the kubelet's labels and annotations, ``podCIDR``,
    ``taints`` / ``unschedulable``, the four kubelet conditions, ``addresses``,
    ``capacity`` / ``allocatable``, ``daemonEndpoints`` and ``nodeInfo``.
    """
    labels = node.all_labels
    labels = {
        "beta.kubernetes.io/arch": labels["kubernetes.io/arch"],
        "beta.kubernetes.io/os": labels["kubernetes.io/os"],
        **labels,
    }
    spec: Obj = {"podCIDR": pod_cidr(index), "podCIDRs": [pod_cidr(index)]}
    taints = node.all_taints
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    if node.unschedulable:
        spec["unschedulable"] = True
    since = rfc3339(now)

    def condition(type_: str, status: str, reason: str, message: str) -> Obj:
        return {
            "type": type_,
            "status": status,
            "lastHeartbeatTime": since,
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }

    machine = uuid.uuid5(uuid.NAMESPACE_DNS, f"{node.name}.sts-emulator")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "capacity": dict(node.capacity),
            "allocatable": dict(node.capacity),
            "conditions": [
                condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                condition(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                ),
                condition(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                ),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [
                {"address": host_ip(index), "type": "InternalIP"},
                {"address": node.name, "type": "Hostname"},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": machine.hex,
                "systemUUID": str(machine),
                "bootID": str(uuid.uuid5(machine, "boot")),
                "kernelVersion": "6.8.0-1021-azure",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://2.0.3",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": "",
                "operatingSystem": labels["kubernetes.io/os"],
                "architecture": labels["kubernetes.io/arch"],
            },
        },
    }


class Kubelet(Controller):
    """The kubelets of every emulated node (one component: they share nothing but code)."""

    name = "kubelet"

    def __init__(self, ctx: Context, nodes: Iterable[str | Node] = NODES) -> None:
        super().__init__(ctx)
        self.specs = as_nodes(nodes)
        self.nodes = tuple(n.name for n in self.specs)
        self.sims: dict[str, PodSim] = {}
        self._uid_by_key: dict[Key, str] = {}
        self.images: dict[str, set[str]] = defaultdict(set)
        self._next_ip: dict[str, itertools.count[int]] = {}

    def register(self) -> None:
        """Create each node's Node object, as a kubelet registers its node at start-up
        (one already stored, from an earlier control plane, is left as it is)."""
        now = self.ctx.clock.now()
        for index, node in enumerate(self.specs):
            if self.ctx.store.get("nodes", "", node.name) is None:
                try:
                    self.ctx.store.create("nodes", node_object(node, index, now))
                except StoreError as error:  # created meanwhile
                    log.debug("node %s already registered: %s", node.name, error.message)

    def host_ip(self, node: str) -> str:
        return host_ip(self.nodes.index(node) if node in self.nodes else len(self.nodes))

    def allocate_ip(self, node: str) -> str:
        """Pod IPs from the node's slice of 10.244.0.0/16, as a CNI's host-local IPAM does."""
        index = self.nodes.index(node) if node in self.nodes else len(self.nodes)
        counter = self._next_ip.setdefault(node, itertools.count())
        n = next(counter) % (16 * 254)
        second, third = _pod_block(index)
        return f"10.{second}.{third + n // 254}.{n % 254 + 1}"

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
