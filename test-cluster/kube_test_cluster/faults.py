"""Old path of :mod:`kube_test_cluster.apiserver.faults` (a short path, documented)."""

from kube_test_cluster.apiserver.faults import FaultDecision, Faults

__all__ = ["FaultDecision", "Faults"]
