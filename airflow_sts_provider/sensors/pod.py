"""PodRunningSensor: one pod Running, Ready, not crashed and stable."""

from __future__ import annotations

from airflow_sts_provider.sensors.base import WorkloadRunningSensor

__all__ = ["PodRunningSensor"]


class PodRunningSensor(WorkloadRunningSensor):
    """Wait until one pod is Running, Ready and stable; fail fast when it crashes."""

    kind = "Pod"
