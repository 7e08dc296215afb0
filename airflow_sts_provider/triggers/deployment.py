"""The Deployment trigger of deferrable mode; the loop is :mod:`.base`'s."""

from __future__ import annotations

from airflow_sts_provider.triggers.base import WorkloadRunningTrigger

__all__ = ["DeploymentRunningTrigger"]


class DeploymentRunningTrigger(WorkloadRunningTrigger):
    """Watch a Deployment, its ReplicaSets and its pods until it is really running (or broken)."""

    kind = "Deployment"
