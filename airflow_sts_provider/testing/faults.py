"""Old path of :mod:`airflow_sts_provider.testing.apiserver.faults` (documented, kept)."""

from airflow_sts_provider.testing.apiserver.faults import FaultDecision, Faults

__all__ = ["FaultDecision", "Faults"]
