"""Scheduled on ``kubernetes://default/statefulset/locked`` over a connection whose Role
cannot list pods: the watcher must raise in the triggerer and never start a run,
not even with ``on_failure=True``. Used only by ``tests/airflow/test_event_scheduling.py``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_sts_provider.assets import workload_asset

#: On its own watches: the error path of the event trigger itself, as Airflow < 3.3 runs it.
LOCKED = workload_asset(
    "StatefulSet",
    "locked",
    kubernetes_conn_id="kubernetes_locked",
    on_failure=True,
    share_watches=False,
)


@dag(dag_id="event_forbidden", schedule=[LOCKED], start_date=datetime(2024, 1, 1), catchup=False)
def event_forbidden() -> None:
    @task
    def never() -> None:
        raise AssertionError("a watcher that cannot read its workload started a run")

    never()


event_forbidden()
