"""DaemonSetRunningSensor: a node agent on every eligible node, current, Ready and stable."""

from __future__ import annotations

from airflow_sts_provider.sensors.base import WorkloadRunningSensor

__all__ = ["DaemonSetRunningSensor"]


class DaemonSetRunningSensor(WorkloadRunningSensor):
    """Wait until a DaemonSet runs one current, Ready, stable pod on every node it should,
    old pods gone; fail fast on a broken rollout (same arguments and XCom as the others).

    Besides the pods it reads the DaemonSet's ControllerRevisions, to know which
    revision is current (RBAC: ``list`` on ``controllerrevisions``).
    """

    kind = "DaemonSet"
