"""The StatefulSet trigger of deferrable mode; the loop is :mod:`.base`'s.

0.1 kept every trigger in this module, and triggers deferred then are stored under
these paths, so the other kinds' triggers and ``trigger_for`` are re-exported here.
"""

from __future__ import annotations

from airflow_sts_provider.triggers.base import WorkloadRunningTrigger, trigger_for
from airflow_sts_provider.triggers.deployment import DeploymentRunningTrigger
from airflow_sts_provider.triggers.pod import PodRunningTrigger

__all__ = [
    "DeploymentRunningTrigger",
    "PodRunningTrigger",
    "StatefulSetRunningTrigger",
    "WorkloadRunningTrigger",
    "trigger_for",
]


class StatefulSetRunningTrigger(WorkloadRunningTrigger):
    """Watch a StatefulSet and its pods until it is really running (or broken)."""

    kind = "StatefulSet"
