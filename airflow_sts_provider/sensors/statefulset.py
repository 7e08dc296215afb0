"""StatefulSetRunningSensor: the provider's first-class sensor.

0.1 kept every sensor in this module, so the Deployment and Pod sensors (and the
shared base under its old name) are re-exported here and old imports keep working.
"""

from __future__ import annotations

from airflow_sts_provider.sensors.base import WorkloadRunningSensor
from airflow_sts_provider.sensors.deployment import DeploymentRunningSensor
from airflow_sts_provider.sensors.pod import PodRunningSensor

__all__ = ["DeploymentRunningSensor", "PodRunningSensor", "StatefulSetRunningSensor"]

#: The shared base under its 0.1 name.
_WorkloadRunningSensor = WorkloadRunningSensor


class StatefulSetRunningSensor(WorkloadRunningSensor):
    """Wait until a StatefulSet is really running: every ordinal created, at the current
    revision, Ready and stable for ``min_stable_seconds``; fail fast on a broken rollout.

    The XCom is the verdict as a dict: ``kind, name, namespace, state, reason, desired,
    ready, revision, rules, pods`` (each pod: ``name, state, reason, rule, ready_since,
    restarts, revision, pod_ip, node``).
    """

    kind = "StatefulSet"
