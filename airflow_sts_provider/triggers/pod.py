"""The Pod trigger of deferrable mode; the loop is :mod:`.base`'s."""

from __future__ import annotations

from airflow_sts_provider.triggers.base import WorkloadRunningTrigger

__all__ = ["PodRunningTrigger"]


class PodRunningTrigger(WorkloadRunningTrigger):
    """Watch one pod until it is Running, Ready and stable (or broken)."""

    kind = "Pod"
