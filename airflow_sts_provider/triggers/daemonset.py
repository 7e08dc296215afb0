"""The DaemonSet trigger of deferrable mode; the loop is :mod:`.base`'s."""

from __future__ import annotations

from airflow_sts_provider.triggers.base import WorkloadRunningTrigger

__all__ = ["DaemonSetRunningTrigger"]


class DaemonSetRunningTrigger(WorkloadRunningTrigger):
    """Watch a DaemonSet, its pods and its ControllerRevisions until it is really running."""

    kind = "DaemonSet"
