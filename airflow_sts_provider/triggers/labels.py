"""Old path of :mod:`airflow_sts_provider.hooks.labels` (kept: the triggers imported it here).

The matcher moved among the hooks so that a release's reads
(:func:`~airflow_sts_provider.hooks.reads.workloads_plan`) use it too; hooks never
import triggers.
"""

from airflow_sts_provider.hooks.labels import Selector, labels_of

__all__ = ["Selector", "labels_of"]
