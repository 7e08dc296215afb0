"""StatefulSetHook: the sync hook under the name users import it by.

It is :class:`~airflow_sts_provider.hooks.workload.WorkloadHook` (every kind in the
kinds table) with a method per built-in kind. The errors it raises live in
:mod:`airflow_sts_provider.exceptions` and are re-exported here, where 0.1 had them.
"""

from __future__ import annotations

from airflow_sts_provider.exceptions import (
    KubernetesApiCallError,
    KubernetesPermissionError,
    TransientKubernetesError,
)
from airflow_sts_provider.hooks.workload import ReadStats, WorkloadHook
from airflow_sts_provider.readiness import ReadinessPolicy, Verdict

__all__ = [
    "KubernetesApiCallError",
    "KubernetesPermissionError",
    "ReadStats",
    "StatefulSetHook",
    "TransientKubernetesError",
]


class StatefulSetHook(WorkloadHook):
    """Answers "is this StatefulSet / Deployment / Pod really running?" with a ``Verdict``.

    One poke: GET the workload, LIST its pods (and a Deployment's ReplicaSets) by its
    own selector in pages, read Warning events only for failing pods.
    """

    hook_name = "Kubernetes StatefulSet readiness"

    def get_readiness(
        self, name: str, namespace: str | None = None, policy: ReadinessPolicy | None = None
    ) -> Verdict:
        """Judge StatefulSet ``name``: one GET, one paged LIST of its pods, events if failing."""
        return self.get_workload_readiness("StatefulSet", name, namespace, policy)

    def get_deployment_readiness(
        self, name: str, namespace: str | None = None, policy: ReadinessPolicy | None = None
    ) -> Verdict:
        """Judge Deployment ``name``: GET it, LIST its ReplicaSets and its pods."""
        return self.get_workload_readiness("Deployment", name, namespace, policy)

    def get_pod_readiness(
        self, name: str, namespace: str | None = None, policy: ReadinessPolicy | None = None
    ) -> Verdict:
        """Judge a single pod ``name`` by the pod rules."""
        return self.get_workload_readiness("Pod", name, namespace, policy)
