"""DeploymentRunningSensor: a Deployment's rollout finished and its pods really running."""

from __future__ import annotations

from airflow_sts_provider.sensors.base import WorkloadRunningSensor

__all__ = ["DeploymentRunningSensor"]


class DeploymentRunningSensor(WorkloadRunningSensor):
    """Wait until a Deployment's new ReplicaSet is fully rolled out, Ready and stable,
    and its old pods gone; fail fast on a broken rollout (same XCom as the StatefulSet one)."""

    kind = "Deployment"
