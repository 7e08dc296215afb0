"""The emulated nodes as specs: which nodes there are, their labels, taints and capacity.

Both halves of the cluster read them: the scheduler and the DaemonSet controller
(``controlplane``) place pods by them, the kubelets (``nodes``) register them as
``v1`` Node objects and run the pods bound to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: the emulated nodes (the scheduler binds to them, the kubelets run them)
NODES = ("node-1", "node-2", "node-3")

#: the taint kubeadm puts on a control-plane node
CONTROL_PLANE_TAINT: dict[str, Any] = {
    "key": "node-role.kubernetes.io/control-plane",
    "effect": "NoSchedule",
}

#: the taint the node lifecycle controller puts on a cordoned node (``spec.unschedulable``)
UNSCHEDULABLE_TAINT: dict[str, Any] = {
    "key": "node.kubernetes.io/unschedulable",
    "effect": "NoSchedule",
}

#: ``status.capacity`` (and ``allocatable``) of a node, as a kind worker reports it.
#: Reported only: the emulated scheduler has room for any number of pods.
DEFAULT_CAPACITY: Mapping[str, str] = {
    "cpu": "8",
    "ephemeral-storage": "263174212Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "memory": "32827500Ki",
    "pods": "110",
}


@dataclass(frozen=True)
class Node:
    """One emulated node: its name, extra labels, taints, whether it is cordoned.

    Every node carries the well-known labels ``kubernetes.io/hostname`` (its name),
    ``kubernetes.io/os=linux`` and ``kubernetes.io/arch=amd64``; a role is a label
    ``node-role.kubernetes.io/<role>: ""``. The scheduler and the DaemonSet controller
    honour ``nodeSelector``, required node affinity and taints; ``unschedulable`` (a
    cordoned node) adds the ``node.kubernetes.io/unschedulable:NoSchedule`` taint, as the
    node lifecycle controller does. The API serves each node as a read-only Node object.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Mapping[str, Any], ...] = ()
    unschedulable: bool = False
    capacity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))

    @property
    def all_labels(self) -> dict[str, str]:
        return {
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            **self.labels,
        }

    @property
    def all_taints(self) -> tuple[Mapping[str, Any], ...]:
        """``spec.taints`` as served: the given taints, plus the cordon's."""
        if not self.unschedulable or any(
            t.get("key") == UNSCHEDULABLE_TAINT["key"] for t in self.taints
        ):
            return self.taints
        return (*self.taints, UNSCHEDULABLE_TAINT)


def as_nodes(nodes: Iterable[str | Node]) -> tuple[Node, ...]:
    """Node names or :class:`Node` specs, as specs."""
    return tuple(n if isinstance(n, Node) else Node(n) for n in nodes)
